package io.mqttkafkabridge.it;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The log records of the bridge in the test JVM (a {@code @QuarkusTest}): message pattern, parameters and thrown, one
 * line each, from {@link #start()} until {@link #close()}. Log ids appear as the pattern's {@code MKBnnnn:} prefix.
 */
final class LogCapture extends Handler implements AutoCloseable {

    private final List<String> lines = new CopyOnWriteArrayList<>();

    private LogCapture() {
    }

    /** Captures from now on, on the root logger. */
    static LogCapture start() {
        LogCapture capture = new LogCapture();
        Logger.getLogger("").addHandler(capture);
        return capture;
    }

    /** The lines captured so far. */
    List<String> lines() {
        return List.copyOf(lines);
    }

    /** The captured lines that contain {@code text}. */
    List<String> containing(String text) {
        return lines.stream().filter(line -> line.contains(text)).toList();
    }

    @Override
    public void publish(LogRecord record) {
        lines.add(record.getMessage() + " " + Arrays.toString(record.getParameters())
                + (record.getThrown() == null ? "" : " " + record.getThrown()));
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        Logger.getLogger("").removeHandler(this);
    }
}
