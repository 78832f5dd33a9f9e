package io.mqttkafkabridge.downlink;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.mqttkafkabridge.dev.LocalKafka;

/**
 * A replica restarted with a downlink route on a new Kafka topic, within the group's session timeout: Kafka takes
 * it for its previous run coming back (same static member id, as the bridge's downlink consumer has) and hands it
 * that run's assignment, without the new topic. A real broker (KRaft, from the jars), real consumers.
 */
class StaticMemberRestartTest {

    private static LocalKafka kafka;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = LocalKafka.start(Files.createTempDirectory(Files.createDirectories(Path.of("target")), "static-member-"), 0);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("old-route", 1, (short) 1), new NewTopic("new-route", 1, (short) 1)))
                    .all().get(30, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stopKafka() {
        if (kafka != null) {
            kafka.close();
        }
    }

    private static KafkaConsumer<byte[], byte[]> replica(String group) {
        Properties config = new Properties();
        config.put("bootstrap.servers", kafka.bootstrapServers());
        config.put("group.id", group);
        config.put("group.instance.id", group); // as DownlinkChannelConfigSourceFactory sets it
        config.put("enable.auto.commit", "false");
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** The replica's first run: it reads old-route, then stops (a static member does not leave the group). */
    private static void firstRun(String group) {
        try (KafkaConsumer<byte[], byte[]> first = replica(group)) {
            first.subscribe(List.of("old-route"));
            pollUntil(first, () -> !first.assignment().isEmpty(), 30);
            assertThat(first.assignment()).containsExactly(new TopicPartition("old-route", 0));
        }
    }

    private static void pollUntil(KafkaConsumer<?, ?> consumer, java.util.function.BooleanSupplier done, int seconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!done.getAsBoolean() && System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(100));
        }
    }

    @Test
    void without_the_check_the_restarted_replica_keeps_the_old_assignment() {
        firstRun("replica-plain");
        try (KafkaConsumer<byte[], byte[]> restarted = replica("replica-plain")) {
            restarted.subscribe(List.of("old-route", "new-route"));
            pollUntil(restarted, () -> restarted.assignment().contains(new TopicPartition("new-route", 0)), 10);
            assertThat(restarted.assignment()).as("what Kafka hands back to a static member").containsExactly(
                    new TopicPartition("old-route", 0));
        }
    }

    @Test
    void the_check_asks_for_a_rebalance_and_the_restarted_replica_reads_the_new_topic() {
        firstRun("replica-checked");
        DownlinkAssignment assignment = new DownlinkAssignment(new SimpleMeterRegistry());
        try (KafkaConsumer<byte[], byte[]> restarted = replica("replica-checked")) {
            restarted.subscribe(List.of("old-route", "new-route"), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    assignment.onPartitionsAssigned(restarted, partitions);
                }

                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                }
            });
            pollUntil(restarted, () -> restarted.assignment().size() == 2, 30);
            assertThat(restarted.assignment()).containsExactlyInAnyOrder(new TopicPartition("old-route", 0),
                    new TopicPartition("new-route", 0));
            assertThat(assignment.elsewhere()).isZero();
        }
    }
}
