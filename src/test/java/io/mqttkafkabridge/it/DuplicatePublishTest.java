package io.mqttkafkabridge.it;

import static io.mqttkafkabridge.it.Devices.unique;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;

import io.mqttkafkabridge.fault.PacketFuzzer;
import io.mqttkafkabridge.fault.SessionLoopClients;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * A PUBLISH sent again with DUP=1, as every MQTT client does when it resends after a reconnect or a timeout. Moquette
 * 0.17 alone gave a QoS 1/2 one to a subscribed topic no acknowledgement, delivered nothing and lost the session
 * loop it ran on for good (upstream #750). The publisher here is a raw socket, to send exactly those bytes.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
class DuplicatePublishTest {

    @TestHTTPResource("/api/v1/broker")
    URI brokerApi;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    private int port() {
        return Devices.mqttPort(brokerApi);
    }

    static byte[] publish(boolean dup, int qos, String topic, int packetId, String payload) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        PacketFuzzer.string(body, topic);
        body.write(packetId >> 8);
        body.write(packetId);
        body.writeBytes(payload.getBytes(StandardCharsets.UTF_8));
        return PacketFuzzer.packet(0x30 | (dup ? 0x08 : 0) | qos << 1, body.toByteArray());
    }

    /** Reads the next packet, which must be of {@code type}, and returns its packet id. */
    static int ack(Socket socket, int type) throws java.io.IOException {
        byte[] body = PersistentSessionTest.RawMqtt.read(socket, type);
        return (body[0] & 0xFF) << 8 | body[1] & 0xFF;
    }

    private static List<String> drain(Mqtt3BlockingClient.Mqtt3Publishes received) throws InterruptedException {
        List<String> payloads = new ArrayList<>();
        for (Optional<Mqtt3Publish> p = received.receive(5, TimeUnit.SECONDS); p.isPresent();
                p = received.receive(1, TimeUnit.SECONDS)) {
            payloads.add(new String(p.get().getPayloadAsBytes(), StandardCharsets.UTF_8));
        }
        return payloads;
    }

    @Test
    void a_qos_1_publish_resent_with_dup_is_acknowledged_and_delivered_and_every_session_loop_serves_on() throws Exception {
        String topic = "conformance/dup/" + unique("t");
        Mqtt3BlockingClient subscriber = Devices.connect(port(), unique("watcher"), null);
        try (Mqtt3BlockingClient.Mqtt3Publishes received = subscriber.publishes(MqttGlobalPublishFilter.ALL);
                Socket device = new Socket(InetAddress.getLoopbackAddress(), port())) {
            subscriber.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();
            device.setSoTimeout(5_000);
            PersistentSessionTest.RawMqtt.connect(device, unique("resender"), true);

            device.getOutputStream().write(publish(true, 1, topic, 1, "resent"));

            assertThat(ack(device, 0x40)).as("PUBACK for packet id 1").isEqualTo(1);
            assertThat(drain(received)).containsExactly("resent");
        } finally {
            subscriber.disconnect();
        }
        // a client on each session loop (Moquette runs a client on loop |hash(id)| mod cores) connects and is served
        for (String id : SessionLoopClients.onEveryLoop("after-dup-")) {
            Mqtt3BlockingClient client = Devices.connect(port(), id, null);
            try (Mqtt3BlockingClient.Mqtt3Publishes received = client.publishes(MqttGlobalPublishFilter.ALL)) {
                client.subscribeWith().topicFilter("conformance/dup/" + id).qos(MqttQos.AT_LEAST_ONCE).send();
                client.publishWith().topic("conformance/dup/" + id).payload(Devices.utf8("ok")).qos(MqttQos.AT_LEAST_ONCE).send();
                assertThat(received.receive(5, TimeUnit.SECONDS)).as("session loop " + SessionLoopClients.loopOf(id) + " serves")
                        .isPresent();
            } finally {
                client.disconnect();
            }
        }
    }

    @Test
    void a_qos_2_publish_resent_with_the_same_packet_id_is_delivered_and_journaled_once() throws Exception {
        String topic = "sensors/dup/" + unique("t");
        String once = unique("once");
        String again = unique("again");
        double duplicatesBefore = PrometheusMetrics.value(metrics, "mqtt_publish_duplicates_total");
        Mqtt3BlockingClient subscriber = Devices.connect(port(), unique("watcher"), null);
        try (Mqtt3BlockingClient.Mqtt3Publishes received = subscriber.publishes(MqttGlobalPublishFilter.ALL);
                Socket device = new Socket(InetAddress.getLoopbackAddress(), port())) {
            subscriber.subscribeWith().topicFilter(topic).qos(MqttQos.EXACTLY_ONCE).send();
            device.setSoTimeout(5_000);
            PersistentSessionTest.RawMqtt.connect(device, unique("resender"), true);

            // the PUBREC got lost, as far as the device knows: it sends the same packet again, DUP=1
            device.getOutputStream().write(publish(false, 2, topic, 7, once));
            assertThat(ack(device, 0x50)).isEqualTo(7);
            device.getOutputStream().write(publish(true, 2, topic, 7, once));
            assertThat(ack(device, 0x50)).as("PUBREC again").isEqualTo(7);
            device.getOutputStream().write(new byte[] {0x62, 2, 0, 7}); // PUBREL
            assertThat(ack(device, 0x70)).isEqualTo(7);
            // once released, the packet id carries a new message
            device.getOutputStream().write(publish(false, 2, topic, 7, again));
            assertThat(ack(device, 0x50)).isEqualTo(7);
            device.getOutputStream().write(new byte[] {0x62, 2, 0, 7});
            assertThat(ack(device, 0x70)).isEqualTo(7);

            assertThat(drain(received)).containsExactly(once, again);
        } finally {
            subscriber.disconnect();
        }
        List<ConsumerRecord<String, byte[]>> records = KafkaTopics.readUntil("it-sensors",
                rs -> rs.stream().anyMatch(r -> again.equals(new String(r.value(), StandardCharsets.UTF_8))), Duration.ofSeconds(30));
        assertThat(records.stream().map(r -> new String(r.value(), StandardCharsets.UTF_8)).filter(v -> v.equals(once) || v.equals(again)))
                .as("in Kafka (the uplink journal)").containsExactlyInAnyOrder(once, again);
        assertThat(PrometheusMetrics.value(metrics, "mqtt_publish_duplicates_total") - duplicatesBefore).isEqualTo(1.0);
    }
}
