package io.mqttkafkabridge.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;

import io.mqttkafkabridge.fault.SessionLoopClients;
import io.mqttkafkabridge.it.KafkaTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * Moquette 0.17 ends a session loop for good when one of its commands throws, and nothing noticed a loop that hung.
 * Here a command that throws is skipped and the loop goes on; a command that runs for longer than
 * {@code bridge.broker.session-loop-stall-timeout} turns liveness DOWN until the loop serves again.
 */
@QuarkusTest
@TestProfile(SessionLoopWatchdogTest.ShortStall.class)
@WithTestResource(KafkaTestResource.class)
class SessionLoopWatchdogTest {

    public static class ShortStall implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("bridge.broker.session-loop-stall-timeout", "1s");
        }
    }

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Inject
    EmbeddedBroker broker;

    @TestHTTPResource("/q/health/live")
    URI live;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    private static HttpResponse<String> get(URI uri) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private double failures() throws Exception {
        return get(metrics).body().lines().filter(line -> line.startsWith("mqtt_session_loop_failures_total"))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
    }

    /** Connects, subscribes, publishes QoS 1 and receives it, as a client hashed to {@code clientId}'s loop. */
    private void served(String clientId) throws Exception {
        Mqtt3AsyncClient client = MqttClient.builder().useMqttVersion3().identifier(clientId).serverHost("127.0.0.1")
                .serverPort(broker.port()).buildAsync();
        CompletableFuture<Mqtt3Publish> received = new CompletableFuture<>();
        client.publishes(MqttGlobalPublishFilter.ALL, received::complete);
        client.connectWith().cleanSession(true).send().get(5, TimeUnit.SECONDS);
        try {
            client.subscribeWith().topicFilter("watchdog/" + clientId).qos(MqttQos.AT_LEAST_ONCE).send().get(5, TimeUnit.SECONDS);
            client.publishWith().topic("watchdog/" + clientId).payload("alive".getBytes(StandardCharsets.UTF_8))
                    .qos(MqttQos.AT_LEAST_ONCE).send().get(5, TimeUnit.SECONDS);
            assertThat(new String(received.get(5, TimeUnit.SECONDS).getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("alive");
        } finally {
            client.disconnect().get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void a_command_that_throws_is_skipped_counted_and_the_loop_serves_its_clients_on() throws Exception {
        double before = failures();
        String victim = "watchdog-victim";
        broker.sessionLoops().run(victim, () -> {
            throw new IllegalArgumentException("increment: 0 (as Moquette 0.17 throws for a PUBLISH with DUP=1)");
        });
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(failures()).isEqualTo(before + 1));
        served(SessionLoopClients.onLoop(SessionLoopClients.loopOf(victim), "watchdog-neighbour-"));
        assertThat(get(live).statusCode()).isEqualTo(200);
    }

    @Test
    void a_loop_stuck_in_one_command_turns_liveness_down_until_it_serves_again() throws Exception {
        assertThat(get(live).statusCode()).isEqualTo(200);
        CountDownLatch release = new CountDownLatch(1);
        broker.sessionLoops().run("watchdog-stuck", () -> {
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                HttpResponse<String> response = get(live);
                assertThat(response.statusCode()).isEqualTo(503);
                assertThat(response.body()).contains("mqtt-session-loops").contains("has been running one command for")
                        .contains("Session Executor");
            });
        } finally {
            release.countDown();
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(get(live).statusCode()).isEqualTo(200));
        served(SessionLoopClients.onLoop(SessionLoopClients.loopOf("watchdog-stuck"), "watchdog-after-"));
    }
}
