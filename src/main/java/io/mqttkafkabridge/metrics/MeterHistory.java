package io.mqttkafkabridge.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.StartupEvent;

/**
 * The last 15 minutes of the bridge's own meters, for the console's charts: every {@link #INTERVAL_SECONDS} s one
 * {@link Sample} into a ring buffer of {@link #CAPACITY} (450 samples = 15 minutes). Nothing is measured twice: the
 * samples are read from the meters {@code /q/metrics} exports, rates as the increase of a cumulative counter divided
 * by the time since the previous sample.
 * <ul>
 * <li>messages in: {@value BridgeMetrics#MQTT_MESSAGES_RECEIVED} (every QoS), the PUBLISH packets the broker accepted
 * from devices;</li>
 * <li>messages out, as two series, not one sum: {@value BridgeMetrics#UPLINK_MESSAGES}{@code {outcome=sent}} (records
 * Kafka acknowledged) and {@value BridgeMetrics#DOWNLINK_MESSAGES}{@code {outcome=published}} (records delivered into
 * the broker). They are the two directions of the bridge, with their own sources and failures: one uplink publish
 * matching two routes makes two records, and a sum would hide a stalled direction behind a busy one;</li>
 * <li>Kafka send latency: the mean of {@value BridgeMetrics#KAFKA_SEND} over the interval (its total time's increase
 * over its count's), in milliseconds; none when nothing was sent. The mean, not a p99: the timer's histogram buckets
 * would only give a bucket bound, while the mean of the interval is exact;</li>
 * <li>journal backlog: the gauge {@value BridgeMetrics#JOURNAL_ENTRIES};</li>
 * <li>downlink lag: the sum of the gauges {@value BridgeMetrics#DOWNLINK_LAG} over every partition (refreshed every
 * 5 s by {@link DownlinkLag}); none while no partition has a committed offset.</li>
 * </ul>
 * Lifecycle: sampling starts on {@link StartupEvent} on one daemon thread ({@code meter-history}), the first read is
 * the baseline of the rates; it stops at {@link PreDestroy}. {@link #samples()} may be called from any thread.
 */
@Singleton
public class MeterHistory {

    private static final Logger LOG = Logger.getLogger(MeterHistory.class);

    /** Seconds between two samples. */
    public static final int INTERVAL_SECONDS = 2;
    /** Samples kept: 15 minutes. */
    public static final int CAPACITY = 15 * 60 / INTERVAL_SECONDS;

    /**
     * One point of the charts. Rates in messages per second; {@code null}: not measured (no record sent in the
     * interval, or the meter does not exist, as the downlink lag while no downlink partition has been committed).
     */
    public record Sample(long epochMillis, double messagesIn, double messagesToKafka, double messagesToMqtt,
            Double kafkaSendMillis, Double journalBacklog, Double downlinkLag) {
    }

    /** Cumulative values of one read of the meters. */
    private record Totals(long nanos, double received, double toKafka, double toMqtt, long sends, double sendNanos,
            Double journal, Double lag) {
    }

    private final MeterRegistry registry;
    private final Sample[] ring = new Sample[CAPACITY];
    private int next;
    private int size;
    private Totals previous;
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "meter-history");
        t.setDaemon(true);
        return t;
    });

    MeterHistory(MeterRegistry registry) {
        this.registry = registry;
    }

    void start(@Observes StartupEvent event) {
        sampler.scheduleAtFixedRate(this::sample, 0, INTERVAL_SECONDS, TimeUnit.SECONDS);
    }

    /** The samples kept, oldest first. */
    public synchronized List<Sample> samples() {
        List<Sample> samples = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            samples.add(ring[(next - size + i + CAPACITY) % CAPACITY]);
        }
        return samples;
    }

    private void sample() {
        sample(System.nanoTime(), System.currentTimeMillis());
    }

    /** Reads the meters at {@code nanos} ({@link System#nanoTime()}), the point's time being {@code epochMillis}. */
    void sample(long nanos, long epochMillis) {
        try {
            Totals now = read(nanos);
            synchronized (this) {
                if (previous != null) {
                    add(between(previous, now, epochMillis));
                }
                previous = now;
            }
        } catch (RuntimeException e) {
            // a meter read failed: this interval has no point, the next one will (a throw would end the schedule)
            LOG.debugf(e, "Could not sample the meters");
        }
    }

    private void add(Sample sample) {
        ring[next] = sample;
        next = (next + 1) % CAPACITY;
        size = Math.min(size + 1, CAPACITY);
    }

    private static Sample between(Totals before, Totals now, long epochMillis) {
        double seconds = (now.nanos() - before.nanos()) / 1e9;
        long sends = now.sends() - before.sends();
        Double sendMillis = sends > 0 ? round((now.sendNanos() - before.sendNanos()) / sends / 1e6) : null;
        return new Sample(epochMillis, rate(before.received(), now.received(), seconds),
                rate(before.toKafka(), now.toKafka(), seconds), rate(before.toMqtt(), now.toMqtt(), seconds), sendMillis,
                now.journal(), now.lag());
    }

    private static double rate(double before, double now, double seconds) {
        // a counter only grows; one that was removed and registered again starts from 0: no rate for that interval
        return seconds <= 0 || now < before ? 0 : round((now - before) / seconds);
    }

    private static double round(double value) {
        return Math.round(value * 1000) / 1000.0;
    }

    /** One pass over the registry (with a route's counters per outcome, a bridge of 10,000 routes has tens of thousands). */
    private Totals read(long nanos) {
        Reading r = new Reading();
        registry.forEachMeter(meter -> {
            String name = meter.getId().getName();
            if (meter instanceof Counter counter) {
                if (name.equals(BridgeMetrics.MQTT_MESSAGES_RECEIVED)) {
                    r.received += counter.count();
                } else if (name.equals(BridgeMetrics.UPLINK_MESSAGES) && "sent".equals(meter.getId().getTag("outcome"))) {
                    r.toKafka += counter.count();
                } else if (name.equals(BridgeMetrics.DOWNLINK_MESSAGES) && "published".equals(meter.getId().getTag("outcome"))) {
                    r.toMqtt += counter.count();
                }
            } else if (meter instanceof Timer timer && name.equals(BridgeMetrics.KAFKA_SEND)) {
                r.sends += timer.count();
                r.sendNanos += timer.totalTime(TimeUnit.NANOSECONDS);
            } else if (meter instanceof Gauge gauge) {
                if (name.equals(BridgeMetrics.JOURNAL_ENTRIES)) {
                    r.journal = finite(gauge.value());
                } else if (name.equals(BridgeMetrics.DOWNLINK_LAG)) {
                    r.lag = (r.lag == null ? 0 : r.lag) + finite(gauge.value());
                }
            }
        });
        return new Totals(nanos, r.received, r.toKafka, r.toMqtt, r.sends, r.sendNanos, r.journal, r.lag);
    }

    /** The sums of one pass over the meters. */
    private static final class Reading {
        double received;
        double toKafka;
        double toMqtt;
        long sends;
        double sendNanos;
        Double journal;
        Double lag;
    }

    /** A gauge whose object is gone reads NaN, which JSON cannot carry. */
    private static double finite(double value) {
        return Double.isFinite(value) ? value : 0;
    }

    @PreDestroy
    void stop() {
        sampler.shutdownNow();
    }
}
