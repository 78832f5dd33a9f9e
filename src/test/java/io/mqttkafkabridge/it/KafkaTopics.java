package io.mqttkafkabridge.it;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Plain Kafka clients against the test broker (or a given one): read a topic from the beginning, produce records. */
public final class KafkaTopics {

    private KafkaTopics() {
    }

    /** Reads {@code topic} from the beginning until {@code until} holds for the records read, or the time is up. */
    static List<ConsumerRecord<String, byte[]>> readUntil(String topic, Predicate<List<ConsumerRecord<String, byte[]>>> until,
            Duration timeout) {
        return readUntil(KafkaTestResource.bootstrapServers(), topic, until, timeout);
    }

    /**
     * Reads {@code topic} of the broker at {@code bootstrap} from the beginning until {@code until} holds for the
     * records read, or the time is up; a topic that does not exist yet is waited for.
     */
    public static List<ConsumerRecord<String, byte[]>> readUntil(String bootstrap, String topic,
            Predicate<List<ConsumerRecord<String, byte[]>>> until, Duration timeout) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            long deadline = System.nanoTime() + timeout.toNanos();
            List<TopicPartition> partitions = List.of();
            while (partitions.isEmpty() && System.nanoTime() < deadline) {
                partitions = consumer.partitionsFor(topic, Duration.ofSeconds(5)).stream()
                        .map(p -> new TopicPartition(topic, p.partition())).toList();
                if (partitions.isEmpty()) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200)); // not created yet
                }
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
            while (!partitions.isEmpty() && !until.test(records) && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            return records;
        }
    }

    /** The records of {@code topic} whose value is {@code value}, waiting until there are at least {@code count}. */
    static List<ConsumerRecord<String, byte[]>> withValue(String topic, byte[] value, int count) {
        return withValue(KafkaTestResource.bootstrapServers(), topic, value, count, Duration.ofSeconds(20));
    }

    /** The records of {@code topic} at {@code bootstrap} whose value is {@code value}, waiting for at least {@code count}. */
    public static List<ConsumerRecord<String, byte[]>> withValue(String bootstrap, String topic, byte[] value, int count,
            Duration timeout) {
        Predicate<ConsumerRecord<String, byte[]>> match = r -> java.util.Arrays.equals(r.value(), value);
        return readUntil(bootstrap, topic, rs -> rs.stream().filter(match).count() >= count, timeout)
                .stream().filter(match).toList();
    }

    /** The end offset of each partition of {@code topic}: what a consumer could read up to now. */
    public static java.util.Map<TopicPartition, Long> endOffsets(KafkaConsumer<?, ?> consumer, String topic) {
        List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(info -> new TopicPartition(topic, info.partition())).toList();
        return new java.util.HashMap<>(consumer.endOffsets(partitions, Duration.ofSeconds(30)));
    }

    public static String header(ConsumerRecord<String, byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    static void produce(ProducerRecord<String, byte[]> record) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaTestResource.bootstrapServers());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
            producer.send(record).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("Could not produce to " + record.topic(), e);
        }
    }
}
