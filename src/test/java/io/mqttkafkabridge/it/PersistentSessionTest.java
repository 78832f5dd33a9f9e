package io.mqttkafkabridge.it;

import static io.mqttkafkabridge.it.Devices.unique;
import static io.mqttkafkabridge.it.Devices.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;

import io.mqttkafkabridge.fault.PacketFuzzer;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * Persistent sessions (clean-session=false): queued while offline, at most bridge.broker.max-queued-messages each,
 * dropped after bridge.broker.session-expiry, and no message lost to a packet id the new connection reuses.
 */
@QuarkusTest
@TestProfile(PersistentSessionTest.ShortExpiry.class)
@WithTestResource(KafkaTestResource.class)
class PersistentSessionTest {

    /** Offline sessions expire after 3 s and hold 5 queued messages at most. */
    public static class ShortExpiry implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("bridge.broker.session-expiry", "3s", "bridge.broker.max-queued-messages", "5");
        }
    }

    @TestHTTPResource("/api/v1/broker")
    URI brokerApi;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    private Mqtt3BlockingClient client(String id) {
        return Devices.client(Devices.mqttPort(brokerApi), id).buildBlocking();
    }

    /** Connects {@code id} with a persistent session, subscribes it to {@code filter} at QoS 1 and disconnects. */
    private void subscribeAndLeave(String id, String filter) {
        Mqtt3BlockingClient device = client(id);
        device.connectWith().cleanSession(false).keepAlive(30).send();
        device.subscribeWith().topicFilter(filter).qos(MqttQos.AT_LEAST_ONCE).send();
        device.disconnect();
    }

    private void publish(String topic, String... messages) {
        Mqtt3BlockingClient publisher = Devices.connect(Devices.mqttPort(brokerApi), unique("publisher"), null);
        for (String message : messages) {
            publisher.publishWith().topic(topic).payload(utf8(message)).qos(MqttQos.AT_LEAST_ONCE).send();
        }
        publisher.disconnect();
    }

    @Test
    void a_persistent_session_gets_its_subscriptions_and_the_qos_1_messages_published_while_it_was_offline() throws Exception {
        String id = unique("persistent");
        subscribeAndLeave(id, "persist/" + id);

        publish("persist/" + id, "one", "two", "three");

        Mqtt3BlockingClient again = client(id);
        try (Mqtt3BlockingClient.Mqtt3Publishes received = again.publishes(MqttGlobalPublishFilter.ALL)) {
            assertThat(again.connectWith().cleanSession(false).keepAlive(30).send().isSessionPresent()).isTrue();
            List<String> payloads = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Optional<Mqtt3Publish> message = received.receive(10, TimeUnit.SECONDS);
                assertThat(message).as("queued message " + (i + 1)).isPresent();
                payloads.add(new String(message.get().getPayloadAsBytes(), StandardCharsets.UTF_8));
            }
            assertThat(payloads).containsExactly("one", "two", "three");
        } finally {
            again.disconnect();
        }
    }

    @Test
    void an_offline_session_is_dropped_after_the_session_expiry() throws Exception {
        String id = unique("expiring");
        subscribeAndLeave(id, "expire/" + id);

        TimeUnit.MILLISECONDS.sleep(5_500); // 3 s of expiry, checked by Moquette every second

        publish("expire/" + id, "too late");
        Mqtt3BlockingClient again = client(id);
        try (Mqtt3BlockingClient.Mqtt3Publishes received = again.publishes(MqttGlobalPublishFilter.ALL)) {
            assertThat(again.connectWith().cleanSession(false).keepAlive(30).send().isSessionPresent()).isFalse();
            assertThat(received.receive(2, TimeUnit.SECONDS)).isEmpty();
            // the expired session's subscription is gone from the subscription tree too: the new session, which
            // subscribed to nothing, receives nothing (Moquette 0.17 alone keeps the filter and delivers it)
            publish("expire/" + id, "not subscribed");
            assertThat(received.receive(2, TimeUnit.SECONDS)).isEmpty();
        } finally {
            again.disconnect();
        }
    }

    @Test
    void beyond_max_queued_messages_new_messages_for_an_offline_session_are_dropped_counted_and_logged() throws Exception {
        String id = unique("queue-limit");
        subscribeAndLeave(id, "limit/" + id);
        double droppedBefore = PrometheusMetrics.value(metrics, "mqtt_queue_dropped_total");

        publish("limit/" + id, "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8");

        assertThat(PrometheusMetrics.value(metrics, "mqtt_queue_dropped_total") - droppedBefore).as("dropped").isEqualTo(3.0);
        Mqtt3BlockingClient again = client(id);
        try (Mqtt3BlockingClient.Mqtt3Publishes received = again.publishes(MqttGlobalPublishFilter.ALL)) {
            assertThat(again.connectWith().cleanSession(false).keepAlive(30).send().isSessionPresent()).isTrue();
            List<String> payloads = new ArrayList<>();
            for (Optional<Mqtt3Publish> m = received.receive(3, TimeUnit.SECONDS); m.isPresent(); m = received.receive(1, TimeUnit.SECONDS)) {
                payloads.add(new String(m.get().getPayloadAsBytes(), StandardCharsets.UTF_8));
            }
            // the oldest five were kept, as Mosquitto's max_queued_messages does
            assertThat(payloads).containsExactly("m1", "m2", "m3", "m4", "m5");
        } finally {
            again.disconnect();
        }
    }

    /**
     * Moquette 0.17 numbers a reconnected session's new connection from packet id 1 again while its in-flight window
     * still holds what the old connection sent unacknowledged; a new message under a reused id used to drop the old
     * one. Raw MQTT over a socket, to control exactly what is read and acknowledged.
     */
    @Test
    void messages_in_flight_when_a_persistent_session_dropped_are_delivered_after_it_reconnects() throws Exception {
        String id = unique("inflight");
        String topic = "inflight/" + id;
        int port = Devices.mqttPort(brokerApi);
        try (java.net.Socket first = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
            first.setSoTimeout(10_000);
            RawMqtt.connect(first, id, false);
            RawMqtt.subscribe(first, topic);
            // sent on packet ids 1, 2, 3 to a connection that never reads them, then drops
            publish(topic, "lost-1", "lost-2", "lost-3");
            TimeUnit.MILLISECONDS.sleep(500);
        }
        TimeUnit.MILLISECONDS.sleep(300);
        try (java.net.Socket second = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
            second.setSoTimeout(500);
            assertThat(RawMqtt.connect(second, id, false)).as("session present").isTrue();
            // these go straight out on the new connection, whose packet ids start at 1 again
            publish(topic, "new-1", "new-2", "new-3", "new-4");
            List<String> received = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (received.stream().distinct().count() < 7 && System.nanoTime() < deadline) {
                RawMqtt.Publish publish = RawMqtt.readPublish(second);
                if (publish != null) {
                    received.add(publish.payload());
                    RawMqtt.puback(second, publish.packetId());
                }
            }
            assertThat(received).as("received on the new connection")
                    .contains("lost-1", "lost-2", "lost-3", "new-1", "new-2", "new-3", "new-4");
        }
    }

    /** Just enough MQTT 3.1.1 over a plain socket. */
    static final class RawMqtt {

        record Publish(int packetId, String payload) {
        }

        static byte[] connectPacket(String clientId, boolean clean) {
            java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
            body.writeBytes(new byte[] {0, 4, 'M', 'Q', 'T', 'T', 4, (byte) (clean ? 0x02 : 0x00), 0, 60});
            PacketFuzzer.string(body, clientId);
            return PacketFuzzer.packet(0x10, body.toByteArray());
        }

        /** SUBSCRIBE to one filter at QoS 1, packet id 1. */
        static byte[] subscribePacket(String filter) {
            java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
            body.writeBytes(new byte[] {0, 1});
            PacketFuzzer.string(body, filter);
            body.write(1);
            return PacketFuzzer.packet(0x82, body.toByteArray());
        }

        /** CONNECT; returns CONNACK's session-present flag. */
        static boolean connect(java.net.Socket socket, String clientId, boolean clean) throws java.io.IOException {
            socket.getOutputStream().write(connectPacket(clientId, clean));
            return connackSessionPresent(socket);
        }

        /** Reads a CONNACK, which must accept; returns its session-present flag. */
        static boolean connackSessionPresent(java.net.Socket socket) throws java.io.IOException {
            byte[] connack = read(socket, 0x20);
            assertThat(connack[1]).as("CONNACK return code").isZero();
            return (connack[0] & 1) == 1;
        }

        static void subscribe(java.net.Socket socket, String filter) throws java.io.IOException {
            socket.getOutputStream().write(subscribePacket(filter));
            read(socket, 0x90);
        }

        static void puback(java.net.Socket socket, int packetId) throws java.io.IOException {
            socket.getOutputStream().write(new byte[] {0x40, 2, (byte) (packetId >> 8), (byte) packetId});
        }

        /** The next PUBLISH, or null when nothing arrives within the socket's timeout. */
        static Publish readPublish(java.net.Socket socket) throws java.io.IOException {
            try {
                byte[] body = read(socket, 0x30);
                int topicLength = (body[0] & 0xFF) << 8 | body[1] & 0xFF;
                int packetId = (body[2 + topicLength] & 0xFF) << 8 | body[3 + topicLength] & 0xFF;
                return new Publish(packetId, new String(body, 4 + topicLength, body.length - 4 - topicLength, StandardCharsets.UTF_8));
            } catch (java.net.SocketTimeoutException e) {
                return null;
            }
        }

        /** The body of the next packet, which must be of the given type (flags ignored). */
        static byte[] read(java.net.Socket socket, int type) throws java.io.IOException {
            Packet packet = next(socket);
            assertThat(packet.header() & 0xF0).as("packet type").isEqualTo(type);
            return packet.body();
        }

        /** A packet as it came off the wire: its first byte (type and flags) and its body. */
        record Packet(int header, byte[] body) {
            int type() {
                return header & 0xF0;
            }

            int packetId() {
                return (body[0] & 0xFF) << 8 | body[1] & 0xFF;
            }

            /** A PUBLISH's packet id (QoS 1 or 2). */
            int publishPacketId() {
                int topicLength = (body[0] & 0xFF) << 8 | body[1] & 0xFF;
                return (body[2 + topicLength] & 0xFF) << 8 | body[3 + topicLength] & 0xFF;
            }
        }

        /** The next packet, whatever its type. */
        static Packet next(java.net.Socket socket) throws java.io.IOException {
            java.io.DataInputStream in = new java.io.DataInputStream(socket.getInputStream());
            int header = in.readUnsignedByte();
            int length = 0;
            for (int shift = 0, digit = 0x80; (digit & 0x80) != 0; shift += 7) {
                digit = in.readUnsignedByte();
                length |= (digit & 0x7F) << shift;
            }
            byte[] body = new byte[length];
            in.readFully(body);
            return new Packet(header, body);
        }

        /** UNSUBSCRIBE from one filter. */
        static byte[] unsubscribePacket(int packetId, String filter) {
            java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
            body.writeBytes(new byte[] {(byte) (packetId >> 8), (byte) packetId});
            PacketFuzzer.string(body, filter);
            return PacketFuzzer.packet(0xA2, body.toByteArray());
        }
    }
}
