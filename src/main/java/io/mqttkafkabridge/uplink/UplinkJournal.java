package io.mqttkafkabridge.uplink;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.mqttkafkabridge.config.BridgeConfig;
import io.mqttkafkabridge.config.DataFolder;
import io.mqttkafkabridge.journal.Journal;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.metrics.BridgeMetrics;
import io.mqttkafkabridge.routing.MqttPublication;

/**
 * The bridge's handle on the uplink {@link Journal}: the broker's connection gate asks it whether a publish may be
 * accepted and appends to it before the broker acknowledges, the {@link UplinkDispatcher} reads it. Opened when first injected (at
 * start-up, before the broker listens), closed after the channels have stopped.
 */
@Singleton
public class UplinkJournal {

    private final Journal journal;
    private final long margin;
    private final AtomicBoolean full = new AtomicBoolean();
    private final AtomicLong refusedInEpisode = new AtomicLong();
    private final Counter refused;
    private final Counter lost;
    private volatile Runnable onAppend = () -> {
    };
    private final IntakePacer pacer;
    private volatile long lastPacingLog;

    UplinkJournal(BridgeConfig config, MeterRegistry registry) {
        Path dir = DataFolder.writable(config.journal().path().orElse(config.broker().dataPath().resolve("journal")),
                config.journal().path().isPresent() ? "bridge.journal.path" : "bridge.broker.data-path");
        try {
            journal = Journal.open(dir, config.journal().maxBytes().asLongValue(), config.journal().fsync(),
                    config.journal().fsyncInterval());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot open the uplink journal in " + dir + " (bridge.journal.path)", e);
        }
        margin = config.broker().maxMessageSize() + 1024L;
        long maxBacklog = config.journal().maxBacklog();
        Counter paced = Counter.builder(BridgeMetrics.JOURNAL_PACED)
                .description("Times the broker paused reading from publishing connections for the journal's backlog")
                .register(registry);
        pacer = new IntakePacer(maxBacklog, journal::pending, journal::committed, System::nanoTime, pending -> {
            paced.increment();
            long now = System.nanoTime();
            if (lastPacingLog == 0 || now - lastPacingLog > TimeUnit.MINUTES.toNanos(1)) {
                lastPacingLog = now;
                BridgeLog.LOG.journalPacing(pending, maxBacklog);
            }
        });
        refused = Counter.builder(BridgeMetrics.JOURNAL_REFUSED)
                .description("Publishes refused (no PUBACK) because the uplink journal was full").register(registry);
        lost = Counter.builder(BridgeMetrics.JOURNAL_LOST)
                .description("Publishes that could not be written to the uplink journal (not acknowledged)").register(registry);
        Gauge.builder(BridgeMetrics.JOURNAL_ENTRIES, journal, Journal::pending)
                .description("Journal entries not yet in Kafka").register(registry);
        Gauge.builder(BridgeMetrics.JOURNAL_BYTES, journal, Journal::bytes).baseUnit("bytes")
                .description("Disk space the uplink journal takes").register(registry);
        Gauge.builder(BridgeMetrics.JOURNAL_MAX_BYTES, journal, Journal::maxBytes).baseUnit("bytes")
                .description("bridge.journal.max-bytes").register(registry);
        BridgeLog.LOG.journalOpened(dir.toString(), journal.pending(), journal.committed(), journal.bytes(),
                journal.maxBytes(), config.journal().fsync().name().toLowerCase());
    }

    /**
     * Appends a publication before the broker acknowledges it. Called on the connection's Netty event loop.
     *
     * @return false when it could not be written (a disk error, logged and counted): the broker then does not
     *         acknowledge it, so the device sends it again
     */
    public boolean append(MqttPublication publication) {
        try {
            journal.append(publication);
        } catch (IOException | RuntimeException e) {
            lost.increment();
            BridgeLog.LOG.journalAppendFailed(publication.topic(), e);
            return false;
        }
        onAppend.run();
        return true;
    }

    /**
     * Whether the broker may accept (and acknowledge) one more publish. False while the journal is full: the
     * broker then sends no PUBACK, so the device keeps the message. Logs once per episode. Never throws.
     */
    public boolean acceptingPublishes() {
        if (journal.hasRoom(margin)) {
            if (full.compareAndSet(true, false)) {
                BridgeLog.LOG.journalRoomAgain(journal.bytes(), journal.maxBytes(), refusedInEpisode.getAndSet(0));
            }
            return true;
        }
        if (full.compareAndSet(false, true)) {
            BridgeLog.LOG.journalFull(journal.bytes(), journal.maxBytes());
        }
        refused.increment();
        refusedInEpisode.incrementAndGet();
        return false;
    }

    /**
     * Whether the broker should stop reading from publishing connections for now ({@link IntakePacer}). Called on
     * the connections' event loops for every publish; cheap while the backlog is below the mark.
     */
    public boolean intakePaced() {
        return pacer.paused();
    }

    /** True while publishes are being refused for lack of space. */
    public boolean isFull() {
        return !journal.hasRoom(margin);
    }

    /** Entries not yet in Kafka. */
    public long pending() {
        return journal.pending();
    }

    public long bytes() {
        return journal.bytes();
    }

    public long maxBytes() {
        return journal.maxBytes();
    }

    Journal journal() {
        return journal;
    }

    void onAppend(Runnable wakeUp) {
        this.onAppend = wakeUp;
    }

    @PreDestroy
    void close() {
        try {
            journal.close();
        } catch (IOException e) {
            BridgeLog.LOG.journalCloseFailed(e);
        }
    }
}
