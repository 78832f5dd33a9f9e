package io.mqttkafkabridge.uplink;

import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * Whether the broker should stop reading from publishing connections for the uplink's sake: the journal's backlog is
 * above {@code bridge.journal.max-backlog} while Kafka is taking records. Under overload, reading, decoding,
 * journaling and acknowledging publishes would otherwise take the CPU the journal reader and the Kafka producer need,
 * and Kafka would get a fraction of what it takes when publishers are paced.
 * <ul>
 * <li>A pause lasts until the backlog has halved, and never more than {@link #MAX_PAUSE_NANOS}; after a pause that
 * long, there is none for as long. Devices are never stalled for long (their keep-alives are read), and a Kafka that
 * takes records slowly still lets the journal absorb what it cannot take.</li>
 * <li>While Kafka takes nothing (no entry acknowledged for {@link #KAFKA_TAKING_NANOS}: an outage) there is no
 * pause: the journal absorbs, until it is full.</li>
 * </ul>
 * Called from every connection's event loop for every publish: lock-free while the backlog is below the mark.
 */
final class IntakePacer {

    static final long MAX_PAUSE_NANOS = TimeUnit.SECONDS.toNanos(1);
    static final long KAFKA_TAKING_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final long maxBacklog;
    private final LongSupplier pending;
    private final LongSupplier committed;
    private final LongSupplier clock;
    private final LongConsumer onPause;
    private volatile boolean pausing;
    private volatile long pausedSince;
    private volatile long noPauseUntil;
    private volatile boolean noPauseWindow;
    private volatile long lastCommitted = -1;
    private volatile long committedMovedAt;

    /**
     * @param maxBacklog entries waiting for Kafka above which intake pauses; 0: never
     * @param pending entries waiting for Kafka
     * @param committed the journal's committed position (moves when Kafka acknowledges)
     * @param clock nanoseconds, as {@link System#nanoTime()}
     * @param onPause called with the backlog when a pause begins
     */
    IntakePacer(long maxBacklog, LongSupplier pending, LongSupplier committed, LongSupplier clock, LongConsumer onPause) {
        this.maxBacklog = maxBacklog;
        this.pending = pending;
        this.committed = committed;
        this.clock = clock;
        this.onPause = onPause;
    }

    boolean paused() {
        if (maxBacklog <= 0) {
            return false;
        }
        long backlog = pending.getAsLong();
        if (!pausing) {
            if (backlog <= maxBacklog || noPauseWindow && clock.getAsLong() - noPauseUntil < 0) {
                return false;
            }
        } else if (backlog > maxBacklog / 2) {
            // the paused connections look every few milliseconds: no lock while nothing changes
            long now = clock.getAsLong();
            if (now - pausedSince <= MAX_PAUSE_NANOS && committed.getAsLong() != lastCommitted) {
                return true;
            }
        }
        return decide(backlog);
    }

    private synchronized boolean decide(long backlog) {
        long now = clock.getAsLong();
        boolean kafkaTaking = kafkaTaking(now);
        if (pausing) {
            if (backlog <= maxBacklog / 2 || !kafkaTaking) {
                pausing = false;
            } else if (now - pausedSince > MAX_PAUSE_NANOS) {
                pausing = false;
                noPauseUntil = now + (now - pausedSince);
                noPauseWindow = true;
            }
            return pausing;
        }
        if (backlog <= maxBacklog || !kafkaTaking || noPauseWindow && now - noPauseUntil < 0) {
            return false;
        }
        noPauseWindow = false;
        pausing = true;
        pausedSince = now;
        onPause.accept(backlog);
        return true;
    }

    /** Kafka acknowledged journal entries within the last {@link #KAFKA_TAKING_NANOS}. */
    private boolean kafkaTaking(long now) {
        long position = committed.getAsLong();
        if (position != lastCommitted) {
            boolean first = lastCommitted < 0;
            lastCommitted = position;
            // the first look cannot tell whether it moved: taken as not moving
            committedMovedAt = first ? now - KAFKA_TAKING_NANOS : now;
            return !first;
        }
        return now - committedMovedAt < KAFKA_TAKING_NANOS;
    }
}
