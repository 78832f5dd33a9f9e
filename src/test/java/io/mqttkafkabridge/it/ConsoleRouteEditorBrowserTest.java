package io.mqttkafkabridge.it;

import static io.mqttkafkabridge.it.Devices.unique;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;

import io.mqttkafkabridge.broker.EmbeddedBroker;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * The console's route editor and charts in a real browser (Debian's Chromium through playwright-core, as
 * {@link ConsoleBrowserTest}; script src/test/browser/console-route-editor.mjs): an invalid filter gets the API's
 * problem next to the form, naming the key; a dry run of the unsaved route shows its record; Save creates it
 * ({@code PUT /api/v1/routes/uplink/{name}}); a real MQTT device publishes through it, the route's Sent column and the
 * messages-in chart move, and the records are in the test's own Kafka topic with the key the route gives. Saves
 * target/console-screenshot.png (charts, routes table with the new route, editor), then deletes the route in the
 * editor. A downlink route (from a second topic of its own to editor/{key}/commands) goes through a dry run, Save and
 * Delete in its form too.
 */
@QuarkusTest
@TestProfile(ConsoleBrowserTest.WithWebSocket.class)
@WithTestResource(KafkaTestResource.class)
class ConsoleRouteEditorBrowserTest {

    private static final int MESSAGES = 20;

    @Inject
    EmbeddedBroker broker;

    @TestHTTPResource("/")
    URI console;

    @Test
    void a_route_created_in_the_editor_carries_a_devices_publishes_to_kafka_and_the_chart_shows_them() throws Exception {
        Path script = Paths.get("src", "test", "browser", "console-route-editor.mjs").toAbsolutePath();
        Assumptions.assumeTrue(Files.isExecutable(Paths.get(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"))),
                "Debian's chromium is not installed (apt-get install chromium): the browser test is skipped");
        assertThat(script.getParent().resolve("node_modules").resolve("playwright-core"))
                .as("the browser-tests Maven profile runs 'npm install' in src/test/browser").isDirectory();
        Path screenshot = Paths.get("target", "console-screenshot.png").toAbsolutePath();
        Files.deleteIfExists(screenshot);
        // given: a Kafka topic of this test's own, and a device that will publish to editor/<id>/data (no static route
        // matches editor/#)
        String topic = unique("it-editor");
        String commandsTopic = unique("it-editor-commands");
        createTopics(topic, commandsTopic);
        String route = unique("editor");
        String deviceId = unique("editor-device");
        byte[] payload = Devices.utf8(unique("reading"));
        Mqtt3BlockingClient device = Devices.connect(broker.port(), deviceId, null);

        Process node = new ProcessBuilder("node", script.toString(), console.toString(), screenshot.toString(), route, topic,
                deviceId, commandsTopic).directory(script.getParent().toFile()).redirectErrorStream(true).start();
        ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor();
        watchdog.schedule(node::destroyForcibly, 150, TimeUnit.SECONDS);
        List<String> output = new ArrayList<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                output.add(line);
                if (line.equals("ROUTE-READY")) {
                    for (int i = 0; i < MESSAGES; i++) {
                        Devices.publish(device, "editor/" + deviceId + "/data", payload, 1, false);
                    }
                }
            }
        } finally {
            watchdog.shutdownNow();
            device.disconnect();
        }
        assertThat(node.waitFor(10, TimeUnit.SECONDS)).isTrue();

        assertThat(node.exitValue()).as(String.join("\n", output)).isZero();
        assertThat(output).contains("ROUTE-READY", "OK").noneMatch(line -> line.startsWith("PAGE-ERROR"));
        assertThat(screenshot).isRegularFile();
        assertThat(Files.size(screenshot)).isGreaterThan(10_000);
        List<ConsumerRecord<String, byte[]>> records = KafkaTopics.withValue(topic, payload, MESSAGES);
        assertThat(records).hasSize(MESSAGES).allSatisfy(r -> assertThat(r.key()).as("key topic-level:1").isEqualTo(deviceId));
    }

    private static void createTopics(String... topics) throws Exception {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaTestResource.bootstrapServers());
        try (Admin admin = Admin.create(props)) {
            admin.createTopics(java.util.Arrays.stream(topics).map(t -> new NewTopic(t, 1, (short) 1)).toList())
                    .all().get(30, TimeUnit.SECONDS);
        }
    }
}
