package io.mqttkafkabridge.it;

import static io.mqttkafkabridge.it.Devices.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;

import io.mqttkafkabridge.broker.EmbeddedBroker;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * GET /api/v1/metrics/history, the console's chart data, after a real device published through the bridge to a real
 * Kafka: the columns line up, and the rates they hold add up to what was published.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
class MetricsHistoryTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    EmbeddedBroker broker;

    @TestHTTPResource("/")
    URI base;

    @Test
    void the_history_shows_the_rate_of_publishes_sent_to_kafka_and_their_latency() throws Exception {
        // given: a history with a first point (the time before it is not in the answer), and a device publishing 40
        // messages on the telemetry route (it-telemetry)
        await().atMost(Duration.ofSeconds(10)).until(() -> history().get("t").size() >= 1);
        int count = 40;
        String device = unique("history-device");
        byte[] payload = Devices.utf8(unique("reading"));
        double from = System.currentTimeMillis() / 1000.0;
        Mqtt3BlockingClient client = Devices.connect(broker.port(), device, null);
        try {
            for (int i = 0; i < count; i++) {
                Devices.publish(client, "devices/" + device + "/telemetry", payload, 1, false);
            }
        } finally {
            client.disconnect();
        }
        assertThat(KafkaTopics.withValue("it-telemetry", payload, count)).hasSize(count);

        // then: within a few samples, the points since the first publish hold those messages in and out
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            JsonNode history = history();
            double in = integral(history, "messagesIn", from);
            double toKafka = integral(history, "messagesToKafka", from);
            assertThat(in).as("messages in since the publishes, rate x interval, in %s", history).isGreaterThanOrEqualTo(count - 0.5);
            assertThat(toKafka).as("records to Kafka since the publishes (telemetry and audit routes)")
                    .isGreaterThanOrEqualTo(count - 0.5);
            assertThat(maxSince(history, "kafkaSendMillis", from)).as("mean Kafka send latency").isPositive();
        });

        JsonNode history = history();
        int n = history.get("t").size();
        assertThat(history.get("intervalSeconds").asInt()).isEqualTo(2);
        assertThat(n).isBetween(2, 450);
        for (String column : new String[] { "messagesIn", "messagesToKafka", "messagesToMqtt", "kafkaSendMillis",
                "journalBacklog", "downlinkLag" }) {
            assertThat(history.get(column).size()).as(column).isEqualTo(n);
        }
        double last = history.get("t").get(n - 1).asDouble();
        assertThat(last).isBetween(from, System.currentTimeMillis() / 1000.0);
        assertThat(last - history.get("t").get(n - 2).asDouble()).as("seconds between samples").isBetween(1.5, 2.5);
        assertThat(history.get("journalBacklog").get(n - 1).isNumber()).as("the journal gauge is sampled").isTrue();
    }

    @Test
    void the_history_endpoint_is_in_the_openapi_document() throws Exception {
        assertThat(Http.get(base.resolve("q/openapi")).body()).contains("/api/v1/metrics/history")
                .contains("The last 15 minutes of the bridge's meters");
    }

    private JsonNode history() throws Exception {
        HttpResponse<String> response = Http.get(base.resolve("api/v1/metrics/history"));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    /** The sum of rate x interval of the points after {@code from} (epoch seconds): messages counted since then. */
    private static double integral(JsonNode history, String column, double from) {
        double total = 0;
        JsonNode t = history.get("t");
        for (int i = 1; i < t.size(); i++) {
            if (t.get(i).asDouble() > from) {
                total += history.get(column).get(i).asDouble() * (t.get(i).asDouble() - t.get(i - 1).asDouble());
            }
        }
        return total;
    }

    private static double maxSince(JsonNode history, String column, double from) {
        double max = 0;
        for (int i = 0; i < history.get("t").size(); i++) {
            if (history.get("t").get(i).asDouble() >= from && history.get(column).get(i).isNumber()) {
                max = Math.max(max, history.get(column).get(i).asDouble());
            }
        }
        return max;
    }
}
