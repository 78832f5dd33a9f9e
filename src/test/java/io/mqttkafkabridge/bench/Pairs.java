package io.mqttkafkabridge.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One comparison of the suite: ours and a baseline, measured in interleaved pairs (ours, baseline, ours, baseline...)
 * on the same machine in the same run, with each pair's ratio. The machine is shared and noisy, so a comparison is
 * judged by the median of the pairs' ratios, and the table shows the spread (min / median / max) of each side and of
 * the ratio.
 */
final class Pairs {

    /** How a target is met: a ratio at least, or at most, the target. */
    enum Goal {
        AT_LEAST("≥"), AT_MOST("≤");

        final String sign;

        Goal(String sign) {
            this.sign = sign;
        }
    }

    final String what;
    final String unit;
    private final Goal goal;
    private final double target;
    private final List<double[]> pairs = new ArrayList<>();

    /** A comparison without a target. */
    Pairs(String what, String unit) {
        this(what, unit, null, Double.NaN);
    }

    /** @param goal how the median ratio (ours ÷ baseline) must compare with {@code target} */
    Pairs(String what, String unit, Goal goal, double target) {
        this.what = what;
        this.unit = unit;
        this.goal = goal;
        this.target = target;
    }

    void add(double ours, double baseline) {
        pairs.add(new double[] {ours, baseline});
        System.out.println(String.format(Locale.ROOT, "PAIR %s, pair %d: %s %s, baseline %s %s, ratio %.2f", what, pairs.size(),
                number(ours), unit, number(baseline), unit, ours / baseline));
    }

    int size() {
        return pairs.size();
    }

    double[] ours() {
        return pairs.stream().mapToDouble(p -> p[0]).toArray();
    }

    double[] baseline() {
        return pairs.stream().mapToDouble(p -> p[1]).toArray();
    }

    double[] ratios() {
        return pairs.stream().mapToDouble(p -> p[0] / p[1]).toArray();
    }

    /** Null without a target or without pairs; otherwise whether the median ratio meets it. */
    Boolean met() {
        if (goal == null || pairs.isEmpty()) {
            return null;
        }
        double median = median(ratios());
        return goal == Goal.AT_LEAST ? median >= target : median <= target;
    }

    String target() {
        return goal == null ? "" : String.format(Locale.ROOT, "%s %.2f", goal.sign, target);
    }

    /** The table row: what, ours, baseline and ratio as min / median / max, target, met. */
    String[] row() {
        Boolean met = met();
        return new String[] {what + " (" + pairs.size() + " pairs)", spread(ours()) + " " + unit, spread(baseline()) + " " + unit,
                ratioSpread(ratios()), target(), met == null ? "" : met ? "yes" : "**no**"};
    }

    static String spread(double[] values) {
        if (values.length == 0) {
            return "–";
        }
        return number(min(values)) + " / " + number(median(values)) + " / " + number(max(values));
    }

    static String ratioSpread(double[] values) {
        if (values.length == 0) {
            return "–";
        }
        return String.format(Locale.ROOT, "%.2f / **%.2f** / %.2f", min(values), median(values), max(values));
    }

    /** Rates without decimals and with thousands separators; small figures (milliseconds) with one decimal. */
    static String number(double value) {
        return Math.abs(value) >= 100 ? String.format(Locale.ROOT, "%,.0f", value) : String.format(Locale.ROOT, "%.1f", value);
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    static double min(double[] values) {
        return Arrays.stream(values).min().orElse(Double.NaN);
    }

    static double max(double[] values) {
        return Arrays.stream(values).max().orElse(Double.NaN);
    }
}
