package io.mqttkafkabridge.cluster;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import io.mqttkafkabridge.metrics.BridgeLog;

/**
 * Writes the cluster's state records (subscriptions, sessions, heartbeats) and the bridge's own forwards (REST
 * publishes, disconnect requests) with one idempotent producer ({@code acks=all}; it retries while Kafka is away).
 * Changes reported by the broker are queued to one thread ("cluster-writer") so that they are written in the order
 * they happened and the broker's session loops never wait for Kafka. A write that failed for good sets a flag the
 * heartbeat reads to write the whole local state again ({@link #takeResync}).
 */
final class ClusterWriter {

    private final KafkaProducer<String, byte[]> producer;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "cluster-writer");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean resync = new AtomicBoolean();
    private volatile boolean stopping;

    ClusterWriter(Map<String, Object> kafka) {
        Map<String, Object> config = new java.util.HashMap<>(kafka);
        config.put(ProducerConfig.CLIENT_ID_CONFIG, "mqtt-kafka-bridge-cluster");
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Integer.MAX_VALUE);
        this.producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
    }

    /** Queues a change for the writer thread; never throws into the caller (a broker session loop). */
    void submit(Runnable change) {
        if (stopping) {
            return; // stop() writes what is left in one go
        }
        try {
            thread.execute(change);
        } catch (RejectedExecutionException e) {
            // stopped meanwhile
        }
    }

    /** Runs {@code task} on the writer thread every {@code period}, from now on; a failure is logged, not fatal. */
    void every(Duration period, Runnable task) {
        thread.scheduleWithFixedDelay(() -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                BridgeLog.LOG.clusterWriteFailed("(heartbeat)", String.valueOf(e)); // a task that threw would never run again
            }
        }, 0, period.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Writes one state record ({@code value} null: a tombstone). */
    void send(String topic, String key, byte[] value) {
        send(new ProducerRecord<>(topic, key, value), null);
    }

    /** Writes one record; {@code done} (may be null) is told of the outcome on the producer's thread. */
    void send(ProducerRecord<String, byte[]> record, Callback done) {
        try {
            producer.send(record, (metadata, failure) -> {
                if (failure != null) {
                    resync.set(true);
                    BridgeLog.LOG.clusterWriteFailed(record.topic(), String.valueOf(failure));
                }
                if (done != null) {
                    done.onCompletion(metadata, failure);
                }
            });
        } catch (RuntimeException e) {
            resync.set(true);
            BridgeLog.LOG.clusterWriteFailed(record.topic(), String.valueOf(e));
        }
    }

    /** True, once, after a write failed: the local state must be written again. */
    boolean takeResync() {
        return resync.compareAndSet(true, false);
    }

    /** Stops taking changes and waits (2 s at most) for those queued; {@link #send} still works. */
    void stopTaking() {
        stopping = true;
        thread.shutdownNow();
        try {
            thread.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sends what is buffered (5 s at most) and closes the producer. */
    void close() {
        producer.flush();
        producer.close(Duration.ofSeconds(5));
    }
}
