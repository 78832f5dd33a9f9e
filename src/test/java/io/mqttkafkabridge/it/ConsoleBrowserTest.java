package io.mqttkafkabridge.it;

import static io.mqttkafkabridge.it.Devices.unique;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;

import io.mqttkafkabridge.broker.EmbeddedBroker;
import io.mqttkafkabridge.cluster.Cluster;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * The web console in a real browser: Debian's Chromium driven by playwright-core (src/test/browser, installed by
 * {@code npm install} there; .ci/run does it). The page must show a device that connected, show a message that
 * device published in its live tail (Paho JavaScript over the broker's WebSocket listener) and in its messages-in
 * chart (uPlot from its webjar, over GET /api/v1/metrics/history), and publish through its form; the configured
 * routes are static, read-only in the route editor; its clients carry this replica's node id and its Cluster section
 * says the cluster is off (as in the test configuration), then lists members from a cluster answer the script serves
 * itself. Saves target/console.png. {@link ConsoleRouteEditorBrowserTest} creates a route in the editor.
 */
@QuarkusTest
@TestProfile(ConsoleBrowserTest.WithWebSocket.class)
@WithTestResource(KafkaTestResource.class)
class ConsoleBrowserTest {

    /** The WebSocket listener on, on a free port (shared through a system property: two class loaders). */
    public static class WithWebSocket implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            String port = System.getProperty("console-test.ws-port");
            if (port == null) {
                try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                    port = Integer.toString(socket.getLocalPort());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                System.setProperty("console-test.ws-port", port);
            }
            return Map.of("bridge.broker.websocket-port", port);
        }
    }

    @Inject
    EmbeddedBroker broker;

    @Inject
    Cluster cluster;

    @TestHTTPResource("/")
    URI console;

    @Test
    void the_console_shows_clients_routes_and_live_messages_and_publishes() throws Exception {
        Path script = Paths.get("src", "test", "browser", "console-check.mjs").toAbsolutePath();
        // .ci/run installs Chromium, and the build then installs playwright-core; a machine with only a JDK skips this
        Assumptions.assumeTrue(Files.isExecutable(Paths.get(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"))),
                "Debian's chromium is not installed (apt-get install chromium): the browser test is skipped");
        assertThat(script.getParent().resolve("node_modules").resolve("playwright-core"))
                .as("the browser-tests Maven profile runs 'npm install' in src/test/browser").isDirectory();
        Path screenshot = Paths.get("target", "console.png").toAbsolutePath();
        Files.deleteIfExists(screenshot);
        String clientId = unique("console-device");
        String message = unique("temperature=21.5");
        Mqtt3BlockingClient device = Devices.connect(broker.port(), clientId, "alice");

        assertThat(cluster.enabled()).as("the test configuration runs without the cluster").isFalse();
        Process node = new ProcessBuilder("node", script.toString(), console.toString(), screenshot.toString(), clientId, message,
                cluster.nodeId())
                .directory(script.getParent().toFile()).redirectErrorStream(true).start();
        List<String> output = new ArrayList<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                output.add(line);
                if (line.equals("TAIL-READY")) {
                    Devices.publish(device, "devices/" + clientId + "/telemetry", Devices.utf8(message), 1, false);
                }
            }
        }
        assertThat(node.waitFor(90, TimeUnit.SECONDS)).isTrue();
        device.disconnect();

        assertThat(node.exitValue()).as(String.join("\n", output)).isZero();
        assertThat(output).contains("TAIL-READY", "OK").noneMatch(line -> line.startsWith("PAGE-ERROR"));
        assertThat(screenshot).isRegularFile();
        assertThat(Files.size(screenshot)).isGreaterThan(10_000);
    }
}
