package io.mqttkafkabridge.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

import io.mqttkafkabridge.dev.LocalKafka;
import io.quarkus.test.common.DevServicesContext;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * A real Apache Kafka broker (KRaft) in the test JVM, on a free loopback port, with the topics of the test routes
 * created up front. Gives the bridge {@code kafka.bootstrap.servers}.
 */
public class KafkaTestResource implements QuarkusTestResourceLifecycleManager, DevServicesContext.ContextAware {

    /** The topics the %test routes in application.properties use. */
    static final List<String> TOPICS = List.of("it-readings", "it-telemetry", "it-audit", "it-sensors", "it-commands", "it-alerts",
            "it-requests", "it-responses", "it-orders", "it-bare",
            "it-dead-letter");
    /** A topic whose records may not exceed 2 KiB: Kafka rejects larger ones for good. */
    static final String SMALL_TOPIC = "it-small";

    private static volatile String bootstrapServers;
    /** True for {@code @QuarkusIntegrationTest}: the bridge runs as the packaged jar or in its container image. */
    private boolean packaged;
    private LocalKafka kafka;
    private Path dir;

    @Override
    public Map<String, String> start() {
        try {
            dir = Files.createTempDirectory(Paths.get("target"), "test-kafka-");
            kafka = LocalKafka.start(dir, 0);
            bootstrapServers = kafka.bootstrapServers();
            Properties admin = new Properties();
            admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            try (Admin client = Admin.create(admin)) {
                List<NewTopic> topics = new java.util.ArrayList<>(TOPICS.stream().map(t -> new NewTopic(t, 2, (short) 1)).toList());
                topics.add(new NewTopic(SMALL_TOPIC, 1, (short) 1).configs(Map.of("max.message.bytes", "2048")));
                client.createTopics(topics).all().get();
            }
        } catch (Exception e) {
            throw new IllegalStateException("Could not start the test Kafka broker", e);
        }
        if (packaged) {
            // The container cannot write to the host's target/ folder; /tmp is writable in the jar's case and in the
            // container's (which shares the host's network, so the Kafka address holds for both).
            String data = "/tmp/bridge-it-" + dir.getFileName();
            return Map.of("kafka.bootstrap.servers", bootstrapServers, "bridge.broker.data-path", data);
        }
        return Map.of("kafka.bootstrap.servers", bootstrapServers, "bridge.journal.path", dir.resolve("journal").toString());
    }

    @Override
    public void setIntegrationTestContext(DevServicesContext context) {
        packaged = true;
    }

    static String bootstrapServers() {
        return bootstrapServers;
    }

    @Override
    public void stop() {
        if (kafka != null) {
            kafka.close();
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (Exception ignored) {
                // target/ is cleaned by the build anyway
            }
        }
    }
}
