package io.mqttkafkabridge.fault;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * What reached Kafka, compared with what the broker acknowledged: missing acknowledged messages, duplicates, and
 * per-device order (the first copy of each message must come in the order the device sent it).
 */
public record Delivery(long published, long acknowledged, long records, long delivered, long missing, long duplicates,
        long orderViolations, Map<String, Set<Long>> seen) {

    /** Reads the topic from the beginning until every acknowledged message is there or {@code timeout} passes. */
    public static Delivery check(String bootstrap, String topic, long published, Map<String, Set<Long>> acked, Duration timeout) {
        long acknowledged = acked.values().stream().mapToLong(Set::size).sum();
        Map<String, Set<Long>> seen = new HashMap<>();
        Map<String, Long> highestFirst = new HashMap<>();
        long records = 0;
        long violations = 0;
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline && missing(acked, seen) > 0) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    records++;
                    String text = new String(record.value(), StandardCharsets.US_ASCII);
                    String[] parts = text.split(":", 3);
                    long seq = Long.parseLong(parts[1]);
                    if (seen.computeIfAbsent(parts[0], k -> new HashSet<>()).add(seq)) {
                        long highest = highestFirst.getOrDefault(parts[0], -1L);
                        if (seq < highest) {
                            violations++;
                        }
                        highestFirst.put(parts[0], Math.max(highest, seq));
                    }
                }
            }
        }
        long delivered = seen.values().stream().mapToLong(Set::size).sum();
        return new Delivery(published, acknowledged, records, delivered, missing(acked, seen), records - delivered, violations,
                seen);
    }

    /** How many of {@code expected} did not reach Kafka. */
    long missingOf(Map<String, Set<Long>> expected) {
        return missing(expected, seen);
    }

    private static long missing(Map<String, Set<Long>> acked, Map<String, Set<Long>> seen) {
        long missing = 0;
        for (Map.Entry<String, Set<Long>> device : acked.entrySet()) {
            Set<Long> got = seen.getOrDefault(device.getKey(), Set.of());
            for (Long seq : device.getValue()) {
                if (!got.contains(seq)) {
                    missing++;
                }
            }
        }
        return missing;
    }

    public String line(String scenario) {
        return String.format("FAULT %-22s published=%d acknowledged=%d kafka-records=%d delivered-acknowledged-or-not=%d "
                + "missing-acknowledged=%d duplicates=%d order-violations=%d", scenario, published, acknowledged, records,
                delivered, missing, duplicates, orderViolations);
    }
}
