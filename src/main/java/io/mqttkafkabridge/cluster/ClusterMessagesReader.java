package io.mqttkafkabridge.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.routing.UplinkRoute;

/**
 * Reads {@code <name>.messages} with this replica's own consumer group ({@code <name>.<node id>}) and hands the
 * records meant for it to {@link Cluster#deliver} (a forwarded publish, injected into the broker as the downlink
 * does) or {@link Cluster#disconnectRequested}. Offsets are committed after delivery: at least once. The group's
 * offsets are the replica's memory across a restart; a new group starts at the end (set up before the broker takes
 * clients, so nothing meant for its first subscribers is skipped). Thread: "cluster-messages-reader".
 */
final class ClusterMessagesReader implements Runnable {

    private final KafkaConsumer<String, byte[]> consumer;
    private final String topic;
    private final String self;
    private final Cluster cluster;
    private volatile boolean running = true;
    private volatile long lag;
    private Map<TopicPartition, Long> ends = Map.of();
    private final java.util.concurrent.CompletableFuture<Void> caughtUp = new java.util.concurrent.CompletableFuture<>();
    private Thread thread;

    ClusterMessagesReader(Map<String, Object> kafka, String topic, String group, String self, Cluster cluster) {
        Map<String, Object> config = new HashMap<>(kafka);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "mqtt-kafka-bridge-cluster-messages");
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        config.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        this.consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
        this.topic = topic;
        this.self = self;
        this.cluster = cluster;
    }

    /** Assigns every partition and fixes a committed position for each (on the calling thread, before {@link #start}). */
    void position() {
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
            partitions.add(new TopicPartition(topic, info.partition()));
        }
        consumer.assign(partitions);
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(new java.util.HashSet<>(partitions),
                Duration.ofSeconds(30));
        Map<TopicPartition, OffsetAndMetadata> start = new HashMap<>();
        for (TopicPartition partition : partitions) {
            if (committed.get(partition) == null) {
                start.put(partition, new OffsetAndMetadata(consumer.position(partition, Duration.ofSeconds(30))));
            }
        }
        if (!start.isEmpty()) {
            consumer.commitSync(start, Duration.ofSeconds(30));
        }
        ends = consumer.endOffsets(partitions, Duration.ofSeconds(30));
    }

    /** Completes once this replica has read what was in the topic when it started (what it missed while away). */
    java.util.concurrent.CompletableFuture<Void> caughtUp() {
        return caughtUp;
    }

    private void checkCaughtUp() {
        for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
            if (consumer.position(end.getKey()) < end.getValue()) {
                return;
            }
        }
        caughtUp.complete(null);
    }

    void start() {
        thread = new Thread(this, "cluster-messages-reader");
        thread.setDaemon(true);
        thread.start();
    }

    long lag() {
        return lag;
    }

    @Override
    public void run() {
        Map<TopicPartition, OffsetAndMetadata> handled = new HashMap<>();
        while (running) {
            try {
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(200));
                Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
                for (ConsumerRecord<String, byte[]> record : records) {
                    if (!handle(record)) {
                        running = false; // the broker stopped: not committed, read again after the restart
                        break;
                    }
                    done.put(new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1));
                }
                if (!done.isEmpty()) {
                    handled.putAll(done);
                    consumer.commitAsync(done, null);
                }
                if (!caughtUp.isDone() && running) {
                    checkCaughtUp();
                }
                long total = 0;
                for (TopicPartition partition : consumer.assignment()) {
                    OptionalLong partitionLag = consumer.currentLag(partition);
                    total += partitionLag.orElse(0);
                }
                lag = total;
            } catch (org.apache.kafka.common.errors.InterruptException | org.apache.kafka.common.errors.WakeupException e) {
                break;
            } catch (RuntimeException e) {
                if (!running) {
                    break;
                }
                BridgeLog.LOG.clusterReadFailed(topic, String.valueOf(e));
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000_000L);
            }
        }
        try {
            // what was handled, not the consumer's position: records fetched but not delivered (the broker stopped) are
            // read again after the restart
            if (!handled.isEmpty()) {
                consumer.commitSync(handled, Duration.ofSeconds(2));
            }
        } catch (RuntimeException e) {
            // Kafka away at shutdown: what was delivered since the last commit is delivered again after the restart
        }
        consumer.close(Duration.ofSeconds(1));
    }

    /** False when the broker no longer runs. */
    private boolean handle(ConsumerRecord<String, byte[]> record) {
        String origin = ClusterRecords.header(record, ClusterRecords.HEADER_ORIGIN);
        String targets = ClusterRecords.header(record, ClusterRecords.HEADER_TARGETS);
        if (self.equals(origin) || targets == null || !isTarget(targets)) {
            return true;
        }
        String kind = ClusterRecords.header(record, ClusterRecords.HEADER_KIND);
        String qos = ClusterRecords.header(record, UplinkRoute.HEADER_QOS);
        if (ClusterRecords.KIND_DISCONNECT.equals(kind)) {
            cluster.disconnectRequested(record.key(), origin);
            return true;
        }
        if (ClusterRecords.KIND_HANDOVER.equals(kind)) {
            cluster.handoverMessage(record.key(), ClusterRecords.header(record, ClusterRecords.HEADER_TOPIC),
                    qos == null ? 1 : Integer.parseInt(qos), record.value() == null ? new byte[0] : record.value());
            return true;
        }
        if (ClusterRecords.KIND_HANDOVER_END.equals(kind)) {
            cluster.handoverEnd(record.key(), origin);
            return true;
        }
        byte[] payload = record.value() == null ? new byte[0] : record.value();
        int level = qos == null ? 0 : Integer.parseInt(qos);
        if (!cluster.deliver(record.key(), payload, level)) {
            return false;
        }
        if (kind == null) {
            // not one passed on already: a chain of replicas that each handed a session over would pass it round
            cluster.relayMoved(record.key(), payload, level, origin, new java.util.HashSet<>(java.util.Arrays.asList(targets.split(","))));
        }
        return true;
    }

    private boolean isTarget(String targets) {
        for (String target : targets.split(",")) {
            if (target.equals(self)) {
                return true;
            }
        }
        return false;
    }

    void stop() {
        running = false;
        consumer.wakeup();
        if (thread != null) {
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
