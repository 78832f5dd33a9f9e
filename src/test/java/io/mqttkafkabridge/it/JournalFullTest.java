package io.mqttkafkabridge.it;

import static io.mqttkafkabridge.it.Devices.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;

import io.mqttkafkabridge.broker.EmbeddedBroker;
import io.mqttkafkabridge.dev.LocalKafka;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * Kafka is down and the journal fills: the broker stops acknowledging, readiness goes DOWN; once Kafka is up, the
 * journal drains and publishes are acknowledged again, by themselves.
 */
@QuarkusTest
@TestProfile(JournalFullTest.SmallJournalNoKafka.class)
class JournalFullTest {

    /**
     * A 256 KiB journal and a Kafka address where no broker runs yet. Quarkus loads this class in two class loaders,
     * so the port and folder are shared through system properties.
     */
    public static class SmallJournalNoKafka implements QuarkusTestProfile {
        static final int KAFKA_PORT = Integer.parseInt(shared("journal-full-test.kafka-port", () -> Integer.toString(freePort())));
        static final Path DIR = Paths.get(shared("journal-full-test.dir", () -> tempDir().toString()));

        private static synchronized String shared(String key, java.util.function.Supplier<String> initial) {
            String value = System.getProperty(key);
            if (value == null) {
                value = initial.get();
                System.setProperty(key, value);
            }
            return value;
        }

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("kafka.bootstrap.servers", "127.0.0.1:" + KAFKA_PORT,
                    "bridge.journal.max-bytes", "256K",
                    "bridge.journal.path", DIR.resolve("journal").toString(),
                    "bridge.broker.max-message-size", "8192");
        }

        private static int freePort() {
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                return socket.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static Path tempDir() {
            try {
                Files.createDirectories(Paths.get("target"));
                return Files.createTempDirectory(Paths.get("target"), "journal-full-");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Inject
    EmbeddedBroker broker;

    @TestHTTPResource("/q/health/ready")
    URI readiness;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    @Test
    void a_full_journal_refuses_publishes_until_kafka_takes_the_backlog() throws Exception {
        Mqtt3AsyncClient device = MqttClient.builder().useMqttVersion3().identifier(unique("filler"))
                .serverHost("127.0.0.1").serverPort(broker.port()).buildAsync();
        device.connect().get(10, TimeUnit.SECONDS);
        byte[] payload = new byte[4096];

        // when: Kafka is down and the device keeps publishing QoS 1
        int acknowledged = 0;
        CompletableFuture<Mqtt3Publish> refused = null;
        for (int i = 0; i < 200 && refused == null; i++) {
            CompletableFuture<Mqtt3Publish> ack = device.publishWith().topic("devices/d1/telemetry")
                    .payload(payload).qos(MqttQos.AT_LEAST_ONCE).send();
            try {
                ack.get(2, TimeUnit.SECONDS);
                acknowledged++;
            } catch (java.util.concurrent.TimeoutException e) {
                refused = ack;
            }
        }

        // then: the broker stopped acknowledging once the journal was full, and said so
        assertThat(refused).as("a publish without PUBACK").isNotNull();
        assertThat(acknowledged).isBetween(40, 64); // 256 KiB of 4 KiB payloads, less the room for one more message
        assertThat(PrometheusMetrics.value(metrics, "bridge_journal_refused_total")).isGreaterThanOrEqualTo(1);
        assertThat(status(readiness)).contains("journal full");
        assertThat(status(readiness)).contains("\"status\": \"DOWN\"");
        assertThat(status(URI.create(readiness.toString().replace("/ready", "/well")))).contains("Kafka is unreachable");
        assertThat(status(URI.create(readiness.toString().replace("/ready", "/live")))).contains("\"status\": \"UP\"");

        // when: Kafka starts where the bridge expects it
        try (LocalKafka kafka = LocalKafka.start(SmallJournalNoKafka.DIR.resolve("kafka"), SmallJournalNoKafka.KAFKA_PORT)) {
            // then: the backlog drains, readiness comes back, and new publishes are acknowledged again
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                    assertThat(PrometheusMetrics.value(metrics, "bridge_journal_entries")).isZero());
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(status(readiness)).contains("accepting publishes"));
            device.publishWith().topic("devices/d1/telemetry").payload(payload).qos(MqttQos.AT_LEAST_ONCE).send()
                    .get(10, TimeUnit.SECONDS);
            int acknowledgedWhileDown = acknowledged;
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(PrometheusMetrics.value(metrics,
                    "bridge_uplink_messages_total{outcome=\"sent\",route=\"telemetry\"}")).isGreaterThan(acknowledgedWhileDown));
            device.disconnect().get(10, TimeUnit.SECONDS);
        }
    }

    private static String status(URI uri) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body();
    }
}
