package io.mqttkafkabridge.metrics;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/** Live counters of one route for the REST API and the console. Thread-safe. */
public final class RouteStats {

    private final LongAdder matched = new LongAdder();
    private final LongAdder sent = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final AtomicReference<LastError> lastError = new AtomicReference<>();

    /** The last error of a route and when it happened. */
    public record LastError(String message, Instant at) {
    }

    void countMatch() {
        matched.increment();
    }

    void outcome(String outcome) {
        switch (outcome) {
            case "sent", "published", "dead-lettered" -> sent.increment();
            case "dropped" -> dropped.increment();
            case "failed", "retried" -> failed.increment();
            default -> {
            }
        }
    }

    void error(String message) {
        lastError.set(new LastError(message, Instant.now()));
    }

    public long matched() {
        return matched.sum();
    }

    public long sent() {
        return sent.sum();
    }

    public long failed() {
        return failed.sum();
    }

    public long dropped() {
        return dropped.sum();
    }

    public LastError lastError() {
        return lastError.get();
    }
}
