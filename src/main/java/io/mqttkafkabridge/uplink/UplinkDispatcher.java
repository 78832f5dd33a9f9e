package io.mqttkafkabridge.uplink;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Flow;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;

import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.Outgoing;

import io.mqttkafkabridge.config.BridgeConfig;
import io.mqttkafkabridge.kafka.KafkaAdmin;
import io.mqttkafkabridge.journal.Journal;
import io.mqttkafkabridge.journal.JournalEntry;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.metrics.BridgeMetrics;
import io.mqttkafkabridge.routing.InvalidPayloadException;
import io.mqttkafkabridge.routing.JsonPayload;
import io.mqttkafkabridge.routing.MqttPublication;
import io.mqttkafkabridge.routes.Routes;
import io.mqttkafkabridge.routing.UplinkRecord;
import io.mqttkafkabridge.routing.UplinkRoute;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;

/**
 * Reads the journal in order, maps each entry through the uplink routes and sends one record per matching route with
 * the producer of the {@code uplink} channel, {@value #IN_FLIGHT} records in flight at most (the rest waits on disk).
 * An entry is done in the journal when every record of it is in Kafka, or was rejected for good and dead-lettered or
 * dropped; a send that failed for a reason that can pass (Kafka down, leader moving) is tried again.
 *
 * <p>The Kafka connector creates and configures the channel's producer ({@code mp.messaging.outgoing.uplink.*},
 * {@code kafka.*}, metrics) and closes it on shutdown; this class declares the channel ({@link #records()}) and takes
 * the producer from {@link KafkaClientService}. Records go to {@code Producer.send} directly: the connector's
 * per-message pipeline (a Mutiny chain with a retry operator per record, a hand-over to its sending thread, the
 * completion back through Mutiny) took about half of the bridge's CPU in the uplink profile, more than the producer
 * itself (README, Benchmarks). The retries it would add are the producer's own (idempotent, in order) and ours.
 *
 * <p>Threads: one reader thread ("uplink-journal-reader") sends; Kafka's producer thread calls the completions; the
 * shutdown thread calls {@link #drain}.
 */
@ApplicationScoped
public class UplinkDispatcher {

    /** After the broker has stopped (so nothing more is appended), before the channels stop. */
    static final int DRAIN_PRIORITY = Interceptor.Priority.PLATFORM_BEFORE + 200;
    private static final long RETRY_DELAY_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final String HEADER_ERROR = "bridge.error";
    private static final String HEADER_ORIGINAL_TOPIC = "bridge.original-topic";
    /** Records handed to the producer and not yet completed, at most: bounds the heap they take. */
    static final int IN_FLIGHT = 4096;

    private final Routes routes;
    private final BridgeMetrics metrics;
    private final UplinkJournal uplinkJournal;
    private final Journal journal;
    private final Optional<String> deadLetterTopic;
    private final Duration drainTimeout;
    private final KafkaAdmin topicProbe;
    private final UplinkForwarding forwarding;
    private final ConcurrentLinkedQueue<Outbound> retries = new ConcurrentLinkedQueue<>();
    private final Set<String> writableTopics = ConcurrentHashMap.newKeySet();
    private final Semaphore inFlight = new Semaphore(IN_FLIGHT);
    private final KafkaClientService kafkaClients;
    private volatile Producer<String, byte[]> producer;
    private volatile boolean subscribed;
    private volatile Thread reader;
    private volatile boolean running = true;
    private volatile long lastRetryLog;
    /** When MKB0323/MKB0324 was last logged, per route (the reader thread's only). */
    private final java.util.Map<String, Long> invalidLogged = new java.util.HashMap<>();

    UplinkDispatcher(Routes routes, BridgeMetrics metrics, UplinkJournal journal, BridgeConfig config,
            KafkaAdmin topicProbe, UplinkForwarding forwarding, KafkaClientService kafkaClients) {
        this.kafkaClients = kafkaClients;
        this.forwarding = forwarding;
        this.routes = routes;
        this.metrics = metrics;
        this.uplinkJournal = journal;
        this.journal = journal.journal();
        this.deadLetterTopic = config.uplink().deadLetterTopic();
        this.drainTimeout = config.shutdown().drainTimeout();
        this.topicProbe = topicProbe;
    }

    /**
     * Declares the {@code uplink} channel, so that the Kafka connector creates its producer. Nothing flows through the
     * channel itself: the reader sends with that producer directly (see the class comment).
     */
    @Outgoing("uplink")
    public Flow.Publisher<Message<byte[]>> records() {
        return downstream -> {
            subscribed = true;
            downstream.onSubscribe(new Flow.Subscription() {
                @Override
                public void request(long n) {
                    // the channel carries nothing: records go to its producer
                }

                @Override
                public void cancel() {
                    running = false;
                    wakeUp();
                }
            });
            Thread thread = new Thread(this::readLoop, "uplink-journal-reader");
            thread.setDaemon(true);
            reader = thread;
            uplinkJournal.onAppend(this::wakeUp);
            thread.start();
        };
    }

    private void wakeUp() {
        Thread thread = reader;
        if (thread != null) {
            LockSupport.unpark(thread);
        }
    }

    private void readLoop() {
        // forwarding decisions need the cluster's subscriptions, routing needs the runtime routes: entries replayed
        // after a restart wait for them; the connector registers the channel's producer once the channel is wired
        while (running && (!forwarding.ready().toCompletableFuture().isDone() || !routes.loaded().toCompletableFuture().isDone()
                || (producer = uplinkProducer()) == null)) {
            LockSupport.parkNanos(10_000_000L);
        }
        List<Outbound> batch = List.of();
        int next = 0;
        while (running) {
            try {
                // emit waits while IN_FLIGHT records are with the producer
                Outbound retry = retries.peek();
                if (retry != null && retry.notBefore - System.nanoTime() <= 0) {
                    retries.poll();
                    emit(retry);
                    continue;
                }
                if (next < batch.size()) {
                    emit(batch.get(next++));
                    continue;
                }
                JournalEntry entry = journal.read();
                if (entry != null) {
                    batch = expand(entry);
                    next = 0;
                    continue;
                }
                LockSupport.parkNanos(retries.isEmpty() ? 50_000_000L : 10_000_000L);
            } catch (RuntimeException e) {
                BridgeLog.LOG.journalReaderFailed(e);
                LockSupport.parkNanos(1_000_000_000L);
            }
        }
    }

    /**
     * The records of one journal entry; none (and the entry is done) when no route matches. A route whose key or
     * timestamp the payload lacks gives a dead letter instead of its record, or nothing (dropped), and the others go on.
     */
    private List<Outbound> expand(JournalEntry entry) {
        MqttPublication publication = entry.publication();
        List<UplinkRoute> matching = routes.table().uplinkRoutesFor(publication.topic());
        List<UplinkRecord> internal = forwarding.recordsFor(publication);
        if (matching.isEmpty()) {
            metrics.uplinkUnrouted();
            BridgeLog.LOG.unrouted(publication.topic(), publication.clientId());
        }
        AtomicInteger remaining = new AtomicInteger();
        List<Outbound> records = new ArrayList<>(matching.size() + internal.size());
        JsonPayload json = new JsonPayload(publication.payload());
        for (UplinkRoute route : matching) {
            metrics.uplinkMatched(route.name());
            try {
                UplinkRecord record = route.toRecord(publication, entry.receivedAt(), json);
                records.add(new Outbound(entry.seq(), remaining, record, record.kafkaTopic(), null, publication.topic()));
            } catch (InvalidPayloadException e) {
                Outbound deadLetter = invalidPayload(route, entry, e.getMessage(), remaining);
                if (deadLetter != null) {
                    records.add(deadLetter);
                }
            }
        }
        for (UplinkRecord record : internal) {
            Outbound out = new Outbound(entry.seq(), remaining, record, record.kafkaTopic(), null, publication.topic());
            out.internal = true;
            records.add(out);
        }
        if (records.isEmpty()) {
            journal.ack(entry.seq());
            return List.of();
        }
        remaining.set(records.size());
        return records;
    }

    /**
     * The payload lacks the route's JSON key or timestamp: counted, logged (MKB0323/MKB0324, at most every 10 s per
     * route), and the publish goes to the dead-letter topic with the reason, or is dropped without one.
     */
    private Outbound invalidPayload(UplinkRoute route, JournalEntry entry, String reason, AtomicInteger remaining) {
        metrics.uplinkInvalidPayload(route.name(), reason);
        String mqttTopic = entry.publication().topic();
        long now = System.nanoTime();
        Long last = invalidLogged.get(route.name());
        boolean log = last == null || now - last > TimeUnit.SECONDS.toNanos(10);
        if (log) {
            invalidLogged.put(route.name(), now);
        }
        if (deadLetterTopic.isPresent()) {
            if (log) {
                BridgeLog.LOG.invalidPayloadDeadLettered(mqttTopic, entry.publication().clientId(), route.name(), reason,
                        deadLetterTopic.get());
            }
            return new Outbound(entry.seq(), remaining, route.invalidRecord(entry.publication(), entry.receivedAt()),
                    deadLetterTopic.get(), reason, mqttTopic);
        }
        metrics.uplink(route.name(), "dropped");
        if (log) {
            BridgeLog.LOG.invalidPayloadDropped(mqttTopic, entry.publication().clientId(), route.name(), reason);
        }
        return null;
    }

    private void emit(Outbound out) {
        while (!writableTopics.contains(out.topic)) {
            Optional<Boolean> writable = topicProbe.writable(out.topic);
            if (writable.isPresent() && writable.get()) {
                writableTopics.add(out.topic);
            } else if (writable.isPresent()) {
                failed(out, new UnknownTopicOrPartitionException("Topic " + out.topic
                        + " does not exist and the brokers do not create topics (auto.create.topics.enable=false)"));
                return;
            } else if (running) {
                // the cluster cannot be asked (down): wait, keeping the order of the records
                LockSupport.parkNanos(RETRY_DELAY_NANOS);
            } else {
                return;
            }
        }
        inFlight.acquireUninterruptibly();
        long sentAt = System.nanoTime();
        try {
            producer.send(producerRecord(out), (metadata, failure) -> {
                inFlight.release();
                if (failure != null) {
                    failed(out, failure);
                    return;
                }
                metrics.kafkaSend(System.nanoTime() - sentAt);
                if (out.internal) {
                    forwarding.sent(out.record);
                } else {
                    metrics.uplink(out.record.route().name(), out.error == null ? "sent" : "dead-lettered");
                }
                done(out);
            });
        } catch (RuntimeException e) {
            // refused before it was queued (serialization, a record too large, the producer closed): no callback comes
            inFlight.release();
            failed(out, e);
        }
    }

    private static ProducerRecord<String, byte[]> producerRecord(Outbound out) {
        RecordHeaders headers = new RecordHeaders();
        for (UplinkRecord.Header header : out.record.headers()) {
            headers.add(header.name(), header.value());
        }
        if (out.error != null) {
            headers.add(HEADER_ERROR, out.error.getBytes(StandardCharsets.UTF_8));
            headers.add(HEADER_ORIGINAL_TOPIC, out.record.kafkaTopic().getBytes(StandardCharsets.UTF_8));
        }
        return new ProducerRecord<>(out.topic, null, out.record.timestamp(), out.record.key(), out.record.value(), headers);
    }

    /** The producer the connector made for the {@code uplink} channel; null until the connector has registered it. */
    private Producer<String, byte[]> uplinkProducer() {
        io.smallrye.reactive.messaging.kafka.KafkaProducer<String, byte[]> channel = kafkaClients.getProducer("uplink");
        return channel == null ? null : channel.unwrap();
    }

    private void done(Outbound out) {
        if (out.remaining.decrementAndGet() == 0) {
            journal.ack(out.seq);
        }
    }

    private void failed(Outbound out, Throwable failure) {
        if (!running) {
            return; // shutting down: the entry stays in the journal and is sent after the next start
        }
        String route = out.record.route().name();
        if (out.internal) {
            failedInternal(out, failure);
            return;
        }
        if (isRetriable(failure)) {
            metrics.uplink(route, "retried");
            metrics.uplinkError(route, String.valueOf(failure));
            retryLater(out, route, failure);
            return;
        }
        String reason = String.valueOf(failure);
        metrics.uplinkError(route, reason);
        if (out.error == null && deadLetterTopic.isPresent()) {
            BridgeLog.LOG.deadLettered(route, out.topic, out.mqttTopic, reason, deadLetterTopic.get());
            retries.add(out.deadLetter(deadLetterTopic.get(), reason));
            wakeUp();
            return;
        }
        metrics.uplink(route, "dropped");
        BridgeLog.LOG.poisonDropped(route, out.topic, out.mqttTopic, reason,
                deadLetterTopic.map(t -> "'" + t + "' failed too").orElse("not set"));
        done(out);
    }

    /** Sends {@code out} again in a second, in order with the other retries; logs at most every 10 s (MKB0322). */
    private void retryLater(Outbound out, String what, Throwable failure) {
        long now = System.nanoTime();
        if (now - lastRetryLog > TimeUnit.SECONDS.toNanos(10)) {
            lastRetryLog = now;
            BridgeLog.LOG.uplinkRetry(what, String.valueOf(failure));
        }
        retries.add(out.retryAt(now + RETRY_DELAY_NANOS));
        wakeUp();
    }

    /** A cluster record: tried again while the failure can pass, else dropped with a log line (never dead-lettered). */
    private void failedInternal(Outbound out, Throwable failure) {
        if (isRetriable(failure)) {
            retryLater(out, out.topic, failure);
            return;
        }
        BridgeLog.LOG.poisonDropped(out.record.route().name(), out.topic, out.mqttTopic, String.valueOf(failure), "not used for the cluster's topics");
        done(out);
    }

    /**
     * A failure that can pass (Kafka down, leader moving, a time-out). With the producer defaults of
     * application.properties the producer itself retries those without end and in order, so this is rare.
     */
    private static boolean isRetriable(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof UnknownTopicOrPartitionException) {
                return false;
            }
            if (t instanceof RetriableException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Waits until every journaled entry is in Kafka or the drain time-out has passed. Runs on SIGTERM after the
     * broker has stopped taking publishes, and before the channels stop.
     */
    void drain(@Observes @Priority(DRAIN_PRIORITY) ShutdownEvent event) {
        long pending = journal.pending();
        if (subscribed) {
            BridgeLog.LOG.draining(pending, drainTimeout.toString());
            long start = System.nanoTime();
            long deadline = start + drainTimeout.toNanos();
            while (journal.pending() > 0 && System.nanoTime() - deadline < 0) {
                LockSupport.parkNanos(10_000_000L);
            }
            if (journal.pending() > 0) {
                BridgeLog.LOG.drainTimedOut(journal.pending());
            } else {
                BridgeLog.LOG.drained(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            }
        }
        running = false;
        wakeUp();
    }

    /** One Kafka record on its way: a route's record of a journal entry, or its dead letter. */
    private static final class Outbound {
        final long seq;
        final AtomicInteger remaining;
        final UplinkRecord record;
        final String topic;
        final String error;
        final String mqttTopic;
        /** A record of the cluster ({@link UplinkForwarding}), not of a route. */
        boolean internal;
        long notBefore;

        Outbound(long seq, AtomicInteger remaining, UplinkRecord record, String topic, String error, String mqttTopic) {
            this.seq = seq;
            this.remaining = remaining;
            this.record = record;
            this.topic = topic;
            this.error = error;
            this.mqttTopic = mqttTopic;
        }

        Outbound retryAt(long nanos) {
            Outbound retry = new Outbound(seq, remaining, record, topic, error, mqttTopic);
            retry.internal = internal;
            retry.notBefore = nanos;
            return retry;
        }

        Outbound deadLetter(String deadLetterTopic, String reason) {
            return new Outbound(seq, remaining, record, deadLetterTopic, reason, mqttTopic);
        }
    }
}
