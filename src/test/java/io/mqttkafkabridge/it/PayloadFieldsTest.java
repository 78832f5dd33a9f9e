package io.mqttkafkabridge.it;

import static io.mqttkafkabridge.it.Devices.unique;
import static io.mqttkafkabridge.it.Devices.utf8;
import static io.mqttkafkabridge.it.KafkaTopics.header;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;

import io.mqttkafkabridge.broker.EmbeddedBroker;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Keys and timestamps from the payload. Route (%test): {@code readings/# -> it-readings}, key {@code json:/deviceId},
 * timestamp {@code json:/ts}; dead letters go to {@code it-dead-letter}. It reads the bridge's log records, so it is not
 * part of the tests the packaged application runs too. Also: every route's counters exist at 0 before any message.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
class PayloadFieldsTest {

    @Inject
    EmbeddedBroker broker;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    @Test
    void the_key_and_timestamp_come_from_the_json_payload() {
        Mqtt3BlockingClient device = Devices.connect(broker.port(), unique("reader"), null);
        String id = unique("pump");
        byte[] epochMillis = utf8("{\"deviceId\":\"" + id + "\",\"ts\":1700000000123,\"t\":21.5}");
        byte[] iso = utf8("{\"deviceId\":\"" + id + "\",\"ts\":\"2026-12-02T06:30:00.250+01:00\"}");

        Devices.publish(device, "readings/site-1", epochMillis, 1, false);
        Devices.publish(device, "readings/site-1", iso, 1, false);

        ConsumerRecord<String, byte[]> first = KafkaTopics.withValue("it-readings", epochMillis, 1).get(0);
        ConsumerRecord<String, byte[]> second = KafkaTopics.withValue("it-readings", iso, 1).get(0);
        assertThat(first.key()).isEqualTo(id);
        assertThat(first.timestamp()).isEqualTo(1_700_000_000_123L);
        assertThat(second.key()).isEqualTo(id);
        assertThat(second.timestamp()).isEqualTo(Instant.parse("2026-12-02T05:30:00.250Z").toEpochMilli());
        assertThat(first.partition()).as("one device, one partition").isEqualTo(second.partition());
        device.disconnect();
    }

    @Test
    void a_payload_without_them_is_dead_lettered_counted_and_logged_and_holds_nothing_up() {
        String invalid = "bridge_uplink_invalid_payload_total{route=\"readings\"}";
        String deadLettered = "bridge_uplink_messages_total{outcome=\"dead-lettered\",route=\"readings\"}";
        double invalidBefore = PrometheusMetrics.value(metrics, invalid);
        double deadBefore = PrometheusMetrics.value(metrics, deadLettered);
        Mqtt3BlockingClient device = Devices.connect(broker.port(), unique("reader"), null);
        byte[] notJson = utf8(unique("temperature=21"));
        byte[] noTimestamp = utf8("{\"deviceId\":\"" + unique("d") + "\"}");
        byte[] good = utf8("{\"deviceId\":\"" + unique("d") + "\",\"ts\":1700000000000}");
        try (LogCapture logs = LogCapture.start()) {
            Devices.publish(device, "readings/site-2", notJson, 1, false);
            Devices.publish(device, "readings/site-2", noTimestamp, 1, false);
            Devices.publish(device, "readings/site-2", good, 1, false);

            assertThat(KafkaTopics.withValue("it-readings", good, 1)).as("the next record is not held up").hasSize(1);
            ConsumerRecord<String, byte[]> dead = KafkaTopics.withValue("it-dead-letter", notJson, 1).get(0);
            assertThat(header(dead, "bridge.error")).startsWith("the payload is not JSON");
            assertThat(header(dead, "bridge.original-topic")).isEqualTo("it-readings");
            assertThat(header(dead, "mqtt.topic")).isEqualTo("readings/site-2");
            assertThat(dead.key()).isNull();
            ConsumerRecord<String, byte[]> missing = KafkaTopics.withValue("it-dead-letter", noTimestamp, 1).get(0);
            assertThat(header(missing, "bridge.error")).isEqualTo("the payload has no timestamp at JSON pointer '/ts'");
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(PrometheusMetrics.value(metrics, invalid)).isEqualTo(invalidBefore + 2);
                assertThat(PrometheusMetrics.value(metrics, deadLettered)).isEqualTo(deadBefore + 2);
            });
            assertThat(logs.containing("MKB0323")).as("logged with its id, at most every 10 s per route")
                    .anyMatch(line -> line.contains("readings/site-2") && line.contains("the payload is not JSON")
                            && line.contains("it-dead-letter"));
        }
        device.disconnect();
    }

    @Test
    void every_routes_counters_exist_at_zero_from_the_start() throws Exception {
        String body = Http.get(metrics).body();
        // outcomes no test here produces: they exist only because they are registered at start-up
        for (String route : new String[] {"telemetry", "audit", "sensors", "small", "readings"}) {
            assertThat(body).contains("bridge_uplink_messages_total{outcome=\"retried\",route=\"" + route + "\"} 0.0");
            assertThat(body).contains("bridge_uplink_invalid_payload_total{route=\"" + route + "\"}");
        }
        for (String route : new String[] {"commands", "alerts"}) {
            assertThat(body).contains("bridge_downlink_messages_total{outcome=\"failed\",route=\"" + route + "\"} 0.0");
            assertThat(body).contains("bridge_downlink_messages_total{outcome=\"published\",route=\"" + route + "\"}");
        }
    }
}
