package io.mqttkafkabridge.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import io.mqttkafkabridge.metrics.BridgeLog;

/**
 * Reads the cluster's compacted topics from their start, then follows them, on a thread of its own
 * ("cluster-state-reader"), handing each record to {@link Cluster#stateRecord}. {@link #loaded()} completes once it
 * has read up to the end offsets these topics had when it started: the replica then knows the cluster's retained
 * messages, subscriptions, sessions and members. Uses no consumer group (every replica reads everything).
 */
final class ClusterStateReader implements Runnable {

    private final KafkaConsumer<String, byte[]> consumer;
    private final List<String> topics;
    private final Cluster cluster;
    private final CompletableFuture<Void> loaded = new CompletableFuture<>();
    private volatile boolean running = true;
    private Thread thread;

    ClusterStateReader(Map<String, Object> kafka, List<String> topics, Cluster cluster) {
        Map<String, Object> config = new HashMap<>(kafka);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "mqtt-kafka-bridge-cluster-state");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        config.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        this.consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
        this.topics = topics;
        this.cluster = cluster;
    }

    CompletableFuture<Void> loaded() {
        return loaded;
    }

    void start() {
        thread = new Thread(this, "cluster-state-reader");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void run() {
        Map<TopicPartition, Long> ends = null;
        while (running) {
            try {
                if (ends == null) {
                    List<TopicPartition> partitions = new ArrayList<>();
                    for (String topic : topics) {
                        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
                        for (PartitionInfo info : infos) {
                            partitions.add(new TopicPartition(topic, info.partition()));
                        }
                    }
                    consumer.assign(partitions);
                    consumer.seekToBeginning(partitions);
                    ends = new HashMap<>(consumer.endOffsets(partitions, Duration.ofSeconds(10)));
                }
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    try {
                        cluster.stateRecord(record.topic(), record.key(), record.value(),
                                ClusterRecords.header(record, io.mqttkafkabridge.routing.UplinkRoute.HEADER_QOS));
                    } catch (RuntimeException e) {
                        BridgeLog.LOG.clusterBadRecord(record.topic(), record.partition(), record.offset(), String.valueOf(e));
                    }
                }
                if (!loaded.isDone() && caughtUp(ends)) {
                    loaded.complete(null);
                }
            } catch (org.apache.kafka.common.errors.InterruptException | org.apache.kafka.common.errors.WakeupException e) {
                break;
            } catch (RuntimeException e) {
                if (!running) {
                    break;
                }
                BridgeLog.LOG.clusterReadFailed(topics.toString(), String.valueOf(e));
                sleep();
            }
        }
        consumer.close(Duration.ofSeconds(1));
    }

    private boolean caughtUp(Map<TopicPartition, Long> ends) {
        Set<TopicPartition> assigned = consumer.assignment();
        for (TopicPartition partition : assigned) {
            if (consumer.position(partition, Duration.ofSeconds(10)) < ends.getOrDefault(partition, 0L)) {
                return false;
            }
        }
        return true;
    }

    private static void sleep() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void stop() {
        running = false;
        consumer.wakeup();
        if (thread != null) {
            try {
                thread.join(3000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
