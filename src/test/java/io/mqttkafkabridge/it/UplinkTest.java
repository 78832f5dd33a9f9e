package io.mqttkafkabridge.it;

import static io.mqttkafkabridge.it.Devices.unique;
import static io.mqttkafkabridge.it.Devices.utf8;
import static io.mqttkafkabridge.it.KafkaTopics.header;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.List;


import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Devices publish over MQTT; the records appear in Kafka. Routes (application.properties, %test):
 * {@code devices/+/telemetry -> it-telemetry (key topic-level:1)}, {@code devices/# -> it-audit (key client-id)},
 * {@code sensors/# -> it-sensors (key mqtt-topic)}.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
public class UplinkTest {

    @TestHTTPResource("/api/v1/broker")
    URI brokerApi;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    private Mqtt3BlockingClient device;
    private String clientId;

    @BeforeEach
    void connect() {
        clientId = unique("client");
        device = Devices.connect(Devices.mqttPort(brokerApi), clientId, null);
    }

    @AfterEach
    void disconnect() {
        device.disconnect();
    }

    @Test
    void the_broker_listens_on_the_free_port_it_picked_for_port_0() {
        assertThat(Devices.mqttPort(brokerApi)).isPositive();
    }

    @Test
    void a_qos_1_publish_becomes_a_record_with_the_payload_unchanged_the_route_key_and_mqtt_headers() {
        // given
        String deviceId = unique("d");
        byte[] payload = new byte[256];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) i;
        }
        // when
        Devices.publish(device, "devices/" + deviceId + "/telemetry", payload, 1, false);
        // then
        ConsumerRecord<String, byte[]> record = KafkaTopics.withValue("it-telemetry", payload, 1).get(0);
        assertThat(record.value()).isEqualTo(payload);
        assertThat(record.key()).isEqualTo(deviceId);
        assertThat(header(record, "mqtt.topic")).isEqualTo("devices/" + deviceId + "/telemetry");
        assertThat(header(record, "mqtt.qos")).isEqualTo("1");
        assertThat(header(record, "mqtt.retain")).isEqualTo("false");
        assertThat(header(record, "mqtt.client-id")).isEqualTo(clientId);
        assertThat(record.headers().lastHeader("mqtt.username")).as("anonymous client has no username header").isNull();
    }

    @Test
    void a_publish_matching_several_routes_goes_to_each_routes_topic_with_its_own_key() {
        String deviceId = unique("d");
        byte[] payload = utf8("multi-" + deviceId);

        Devices.publish(device, "devices/" + deviceId + "/telemetry", payload, 1, false);

        assertThat(KafkaTopics.withValue("it-telemetry", payload, 1)).singleElement()
                .extracting(ConsumerRecord::key).isEqualTo(deviceId);
        assertThat(KafkaTopics.withValue("it-audit", payload, 1)).singleElement()
                .extracting(ConsumerRecord::key).isEqualTo(clientId);
    }

    @Test
    void qos_0_retained_publishes_from_a_client_with_a_username_carry_those_headers_and_the_topic_as_key() {
        Mqtt3BlockingClient alice = Devices.connect(Devices.mqttPort(brokerApi), unique("alice"), "alice");
        try {
            String topic = "sensors/" + unique("s") + "/humidity";
            byte[] payload = utf8("55% " + topic);

            Devices.publish(alice, topic, payload, 0, true);

            ConsumerRecord<String, byte[]> record = KafkaTopics.withValue("it-sensors", payload, 1).get(0);
            assertThat(record.key()).isEqualTo(topic);
            assertThat(header(record, "mqtt.qos")).isEqualTo("0");
            assertThat(header(record, "mqtt.retain")).isEqualTo("true");
            assertThat(header(record, "mqtt.username")).isEqualTo("alice");
        } finally {
            alice.disconnect();
        }
    }

    @Test
    void an_unrouted_publish_is_counted_and_not_sent() {
        double unroutedBefore = PrometheusMetrics.value(metrics, "bridge_uplink_unrouted_total");
        String marker = unique("unrouted");

        Devices.publish(device, "nowhere/" + marker, utf8(marker), 1, false);
        // a routed publish after it: once this one is in Kafka, the unrouted one has been handled
        byte[] after = utf8("after-" + marker);
        Devices.publish(device, "sensors/" + marker, after, 1, false);

        KafkaTopics.withValue("it-sensors", after, 1);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                PrometheusMetrics.value(metrics, "bridge_uplink_unrouted_total")).isEqualTo(unroutedBefore + 1));
        for (String topic : KafkaTestResource.TOPICS) {
            List<ConsumerRecord<String, byte[]>> all = KafkaTopics.readUntil(topic, rs -> false, Duration.ofSeconds(1));
            assertThat(all).as(topic).noneMatch(r -> ("nowhere/" + marker).equals(header(r, "mqtt.topic")));
        }
    }

    @Test
    void records_sent_are_counted_per_route() {
        String series = "bridge_uplink_messages_total{outcome=\"sent\",route=\"telemetry\"}";
        double before = PrometheusMetrics.value(metrics, series);

        Devices.publish(device, "devices/" + unique("d") + "/telemetry", utf8("count me"), 1, false);

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(PrometheusMetrics.value(metrics, series)).isEqualTo(before + 1));
    }
}
