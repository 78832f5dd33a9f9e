package io.mqttkafkabridge.routes;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.mqttkafkabridge.config.BridgeConfig;
import io.mqttkafkabridge.cluster.Cluster;
import io.mqttkafkabridge.kafka.KafkaAdmin;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.quarkus.runtime.StartupEvent;

/**
 * The runtime routes, kept in the compacted Kafka topic {@code <bridge.cluster.name>.routes} (one partition; key
 * {@code uplink/<name>} or {@code downlink/<name>}; value: the route's configuration keys, who saved it, where and
 * when; a tombstone deletes). Every replica reads it from the start on a thread of its own ("route-store-reader") and
 * follows it, so a change saved on one replica is in force on all of them within the reader's poll (200 ms), and
 * survives restarts of all of them. It does not need the cluster to be on: a single bridge keeps its runtime routes
 * the same way.
 *
 * <p>{@link Routes#loaded()} completes once the topic has been read up to its end as of start-up: the uplink routes
 * nothing before that, so a publish the journal kept is never unrouted for want of a route saved before a restart.
 * While Kafka cannot be reached the reader waits, as the uplink does. When the topic cannot be created or read for good
 * (not authorized, or it exists with another cleanup policy), the bridge goes on with its configured routes only, says
 * why (MKB0804), and the API refuses changes.
 */
@ApplicationScoped
public class RouteStore {

    static final String HEADER_BY = "bridge.by";
    static final String HEADER_NODE = "bridge.node";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final Routes routes;
    private final KafkaAdmin admin;
    private final String topic;
    private final Optional<Short> replication;
    private final String node;
    /** Per partition: the offset after the last record applied (the reader's only writer). */
    private final Map<Integer, Long> applied = new HashMap<>();
    private volatile String unavailable;
    private volatile boolean running = true;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile KafkaProducer<String, byte[]> producer;
    private Thread reader;

    RouteStore(Routes routes, KafkaAdmin admin, BridgeConfig config, Cluster cluster) {
        this.routes = routes;
        this.admin = admin;
        this.topic = config.cluster().name() + ".routes";
        this.replication = config.cluster().replicationFactor();
        this.node = cluster.nodeId();
    }

    void start(@Observes StartupEvent event) {
        reader = new Thread(this::run, "route-store-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /** The topic the runtime routes are kept in. */
    public String topic() {
        return topic;
    }

    /** Why changes are refused now (the topic not loaded yet, or unusable), or empty when they are taken. */
    public Optional<String> refusal() {
        if (unavailable != null) {
            return Optional.of(unavailable);
        }
        if (!routes.loaded().toCompletableFuture().isDone()) {
            return Optional.of("the runtime routes are still being read from Kafka topic '" + topic + "' (is Kafka reachable?)");
        }
        return Optional.empty();
    }

    /**
     * Saves a runtime route ({@code keys} null: deletes it) and waits until this replica has read it back and put it in
     * force, so that the caller sees its change at once. The other replicas apply it when they read it.
     *
     * @throws IllegalStateException when Kafka did not take it, or it was not read back, within 10 s
     */
    public void save(Direction direction, String name, Map<String, String> keys, String user) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(HEADER_BY, user.getBytes(StandardCharsets.UTF_8));
        headers.add(HEADER_NODE, node.getBytes(StandardCharsets.UTF_8));
        byte[] value = null;
        if (keys != null) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("keys", keys);
            body.put("by", user);
            body.put("node", node);
            body.put("at", Instant.now().toString());
            try {
                value = JSON.writeValueAsBytes(body);
            } catch (java.io.IOException e) {
                throw new IllegalStateException("could not write the route as JSON", e);
            }
        }
        RecordMetadata written;
        try {
            written = producer().send(new ProducerRecord<>(topic, null, direction.label() + "/" + name, value, headers))
                    .get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Kafka did not take the change to topic '" + topic + "' within " + WAIT.toSeconds()
                    + " s: " + (e.getCause() == null ? e : e.getCause()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        long deadline = System.nanoTime() + WAIT.toNanos();
        synchronized (applied) {
            while (applied.getOrDefault(written.partition(), 0L) <= written.offset()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("the change is in Kafka topic '" + topic + "' (offset " + written.offset()
                            + ") but this replica did not read it back within " + WAIT.toSeconds() + " s");
                }
                try {
                    applied.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            }
        }
    }

    private void run() {
        if (!ensureTopic()) {
            routes.markLoaded();
            return;
        }
        Map<String, Object> config = admin.clientConfig(ConsumerConfig.configNames());
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "mqtt-kafka-bridge-routes");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        config.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        KafkaConsumer<String, byte[]> reading = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
        consumer = reading;
        Map<TopicPartition, Long> ends = null;
        try {
            while (running) {
                try {
                    if (ends == null) {
                        List<TopicPartition> partitions = new ArrayList<>();
                        for (PartitionInfo info : reading.partitionsFor(topic, WAIT)) {
                            partitions.add(new TopicPartition(topic, info.partition()));
                        }
                        reading.assign(partitions);
                        reading.seekToBeginning(partitions);
                        ends = new HashMap<>(reading.endOffsets(partitions, WAIT));
                    }
                    boolean loading = !routes.loaded().toCompletableFuture().isDone();
                    for (ConsumerRecord<String, byte[]> record : reading.poll(Duration.ofMillis(200))) {
                        apply(record, loading);
                        synchronized (applied) {
                            applied.put(record.partition(), record.offset() + 1);
                            applied.notifyAll();
                        }
                    }
                    if (loading && caughtUp(reading, ends)) {
                        BridgeLog.LOG.runtimeRoutesLoaded(routes.runtimeCount(), topic);
                        routes.markLoaded();
                    }
                } catch (org.apache.kafka.common.errors.InterruptException | org.apache.kafka.common.errors.WakeupException e) {
                    break;
                } catch (AuthorizationException e) {
                    giveUp(String.valueOf(e));
                    break;
                } catch (RuntimeException e) {
                    if (!running) {
                        break;
                    }
                    BridgeLog.LOG.runtimeRoutesReadFailed(topic, String.valueOf(e));
                    sleep(1000);
                }
            }
        } finally {
            reading.close(Duration.ofSeconds(1));
        }
    }

    /** Creates the topic if it is missing, waiting for Kafka; false when it cannot be used for good. */
    private boolean ensureTopic() {
        List<KafkaAdmin.TopicSpec> spec = List.of(new KafkaAdmin.TopicSpec(topic, 1, replication,
                Map.of("cleanup.policy", "compact", "min.compaction.lag.ms", "0", "segment.ms", "3600000")));
        long lastLog = 0;
        while (running) {
            try {
                admin.ensureTopics(spec, WAIT, reason -> {
                });
                return true;
            } catch (IllegalStateException e) {
                Throwable cause = e.getCause();
                if (cause == null || cause instanceof AuthorizationException) {
                    giveUp(cause == null ? e.getMessage() : String.valueOf(cause));
                    return false;
                }
                if (System.nanoTime() - lastLog > TimeUnit.SECONDS.toNanos(30) || lastLog == 0) {
                    lastLog = System.nanoTime();
                    BridgeLog.LOG.runtimeRoutesWaiting(topic, String.valueOf(cause));
                }
            }
        }
        return false;
    }

    private void giveUp(String reason) {
        unavailable = "Kafka topic '" + topic + "', where runtime routes are kept, cannot be used: " + reason;
        BridgeLog.LOG.runtimeRoutesUnavailable(topic, reason);
        routes.markLoaded();
    }

    /** Puts one record's route in force (or deletes it). */
    private void apply(ConsumerRecord<String, byte[]> record, boolean loading) {
        String key = record.key();
        int slash = key == null ? -1 : key.indexOf('/');
        Optional<Direction> direction = slash < 0 ? Optional.empty() : Direction.of(key.substring(0, slash));
        if (direction.isEmpty()) {
            BridgeLog.LOG.runtimeRouteUnreadable(topic, record.offset(), "key '" + key + "' is not uplink/<name> or downlink/<name>");
            return;
        }
        String name = key.substring(slash + 1);
        Map<String, String> keys = null;
        String by = header(record, HEADER_BY);
        if (record.value() != null) {
            try {
                Map<String, Object> body = JSON.readValue(record.value(), new TypeReference<Map<String, Object>>() {
                });
                @SuppressWarnings("unchecked")
                Map<String, Object> raw = (Map<String, Object>) body.get("keys");
                keys = new LinkedHashMap<>();
                for (Map.Entry<String, Object> entry : raw.entrySet()) {
                    keys.put(entry.getKey(), String.valueOf(entry.getValue()));
                }
            } catch (java.io.IOException | RuntimeException e) {
                BridgeLog.LOG.runtimeRouteUnreadable(topic, record.offset(), String.valueOf(e));
                return;
            }
        }
        boolean changed = routes.applyRuntime(direction.get(), name, keys);
        String from = header(record, HEADER_NODE);
        // the replica that took the change logs it with MKB0802
        if (changed && !loading && !node.equals(from)) {
            BridgeLog.LOG.runtimeRouteApplied(direction.get().label(), name, keys == null ? "deleted" : "saved",
                    by == null ? "?" : by, String.valueOf(from));
        }
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static boolean caughtUp(KafkaConsumer<String, byte[]> reading, Map<TopicPartition, Long> ends) {
        for (TopicPartition partition : reading.assignment()) {
            if (reading.position(partition, WAIT) < ends.getOrDefault(partition, 0L)) {
                return false;
            }
        }
        return true;
    }

    private KafkaProducer<String, byte[]> producer() {
        KafkaProducer<String, byte[]> current = producer;
        if (current == null) {
            synchronized (this) {
                if (producer == null) {
                    Map<String, Object> config = admin.clientConfig(ProducerConfig.configNames());
                    config.put(ProducerConfig.CLIENT_ID_CONFIG, "mqtt-kafka-bridge-routes");
                    config.put(ProducerConfig.ACKS_CONFIG, "all");
                    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
                    config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
                    config.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
                    producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
                }
                current = producer;
            }
        }
        return current;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @PreDestroy
    void stop() {
        running = false;
        KafkaConsumer<String, byte[]> reading = consumer;
        if (reading != null) {
            reading.wakeup();
        }
        if (reader != null) {
            try {
                reader.join(3000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        KafkaProducer<String, byte[]> writing = producer;
        if (writing != null) {
            writing.close(Duration.ofSeconds(2));
        }
    }
}
