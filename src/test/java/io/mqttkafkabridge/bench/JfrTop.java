package io.mqttkafkabridge.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a JFR recording's CPU samples went: the methods on top of the stack (self time), and, for each sample, the
 * first frame in the bridge or in Moquette (which part of our path pays for it). Run alone:
 * {@code JfrTop <file.jfr> [rows]}.
 */
public final class JfrTop {

    private JfrTop() {
    }

    public static void main(String[] args) throws IOException {
        summary(Path.of(args[0]), args.length > 1 ? Integer.parseInt(args[1]) : 15).forEach(System.out::println);
    }

    static List<String> summary(Path recording, int rows) throws IOException {
        Map<String, Integer> self = new HashMap<>();
        Map<String, Integer> ours = new HashMap<>();
        Map<String, Integer> threads = new HashMap<>();
        int samples = 0;
        for (RecordedEvent event : RecordingFile.readAllEvents(recording)) {
            if (!event.getEventType().getName().equals("jdk.ExecutionSample")) {
                continue;
            }
            RecordedStackTrace stack = event.getStackTrace();
            if (stack == null || stack.getFrames().isEmpty()) {
                continue;
            }
            samples++;
            self.merge(name(stack.getFrames().get(0)), 1, Integer::sum);
            String owner = "(other: JDK, Netty, Kafka client, Vert.x)";
            for (RecordedFrame frame : stack.getFrames()) {
                String type = frame.getMethod().getType().getName();
                if (type.startsWith("io.mqttkafkabridge.") || type.startsWith("io.moquette.")) {
                    owner = name(frame);
                    break;
                }
            }
            ours.merge(owner, 1, Integer::sum);
            String thread = event.getThread("sampledThread") == null ? "?" : event.getThread("sampledThread").getJavaName();
            threads.merge(thread == null ? "?" : thread.replaceAll("[0-9]+", "N"), 1, Integer::sum);
        }
        List<String> out = new ArrayList<>();
        out.add(samples + " CPU samples.");
        out.add("");
        table(out, "threads", threads, samples, rows);
        table(out, "self time (method on top of the stack)", self, samples, rows);
        table(out, "first bridge or Moquette frame on the stack", ours, samples, rows);
        return out;
    }

    private static void table(List<String> out, String title, Map<String, Integer> counts, int samples, int rows) {
        out.add("| " + title + " | samples | share |");
        out.add("| --- | ---: | ---: |");
        counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(rows)
                .forEach(e -> out.add(String.format(Locale.ROOT, "| `%s` | %d | %.1f %% |", e.getKey(), e.getValue(),
                        100.0 * e.getValue() / Math.max(1, samples))));
        out.add("");
    }

    private static String name(RecordedFrame frame) {
        String type = frame.getMethod().getType().getName();
        return type.substring(type.lastIndexOf('.') + 1) + "." + frame.getMethod().getName();
    }
}
