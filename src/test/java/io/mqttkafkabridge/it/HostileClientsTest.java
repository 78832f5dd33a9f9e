package io.mqttkafkabridge.it;

import static io.mqttkafkabridge.it.Devices.unique;
import static io.mqttkafkabridge.it.Devices.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3ConnAckException;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAckReturnCode;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;

import io.mqttkafkabridge.fault.PacketFuzzer;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * Hostile and broken clients on raw sockets: each is closed (and counted), and a well-behaved client connected the
 * whole time keeps its service, checked by a publish it receives back after every attack.
 */
@QuarkusTest
@TestProfile(HostileClientsTest.Limits.class)
@WithTestResource(KafkaTestResource.class)
class HostileClientsTest {

    /** Small limits, so that each attack reaches them quickly. */
    public static class Limits implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("bridge.broker.max-message-size", "4096",
                    "bridge.broker.connect-rate-per-address", "20",
                    "bridge.broker.max-connections", "40",
                    "bridge.broker.connect-timeout", "2s",
                    "bridge.broker.slow-reader-timeout", "3s");
        }
    }

    @TestHTTPResource("/api/v1/broker")
    URI brokerApi;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    private Mqtt3BlockingClient bystander;
    private Mqtt3BlockingClient.Mqtt3Publishes received;

    @BeforeEach
    void bystander() {
        bystander = Devices.connect(Devices.mqttPort(brokerApi), unique("bystander"), null);
        received = bystander.publishes(MqttGlobalPublishFilter.ALL);
        bystander.subscribeWith().topicFilter("bystander/echo").qos(MqttQos.AT_LEAST_ONCE).send();
    }

    @AfterEach
    void leave() {
        received.close();
        bystander.disconnect();
    }

    /** The bystander still publishes and receives. */
    private void bystanderIsServed() throws InterruptedException {
        String text = "still here " + System.nanoTime();
        bystander.publishWith().topic("bystander/echo").payload(utf8(text)).qos(MqttQos.AT_LEAST_ONCE).send();
        Optional<Mqtt3Publish> echo = received.receive(10, TimeUnit.SECONDS);
        assertThat(echo).isPresent();
        assertThat(new String(echo.get().getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo(text);
    }

    private Socket socket() throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), Devices.mqttPort(brokerApi));
        socket.setSoTimeout(15_000);
        return socket;
    }

    /** Reads until the server closes the connection; returns what it sent. */
    private static byte[] untilClosed(Socket socket) throws IOException {
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[4096];
        try {
            for (int n; (n = in.read(buffer)) >= 0;) {
                seen.write(buffer, 0, n);
            }
        } catch (SocketException reset) {
            // closed with a reset: closed all the same
        }
        return seen.toByteArray();
    }

    private double outcome(String outcome) {
        return PrometheusMetrics.value(metrics, "mqtt_connections_total{outcome=\"" + outcome + "\"}");
    }

    /** An MQTT 3.1.1 CONNECT, clean session, with an optional will of the given QoS. */
    static byte[] connect(String clientId, Integer willQos) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0, 4, 'M', 'Q', 'T', 'T', 4});
        body.write(0x02 | (willQos == null ? 0 : 0x04 | willQos << 3));
        body.writeBytes(new byte[] {0, 30});
        PacketFuzzer.string(body, clientId);
        if (willQos != null) {
            PacketFuzzer.string(body, "wills/" + clientId);
            PacketFuzzer.string(body, "gone");
        }
        return PacketFuzzer.packet(0x10, body.toByteArray());
    }

    @Test
    void random_bytes_close_that_connection_only() throws Exception {
        double before = outcome("malformed");
        byte[] noise = new byte[512];
        new Random(7).nextBytes(noise);
        noise[0] = (byte) 0xF0; // reserved packet type 15
        try (Socket socket = socket()) {
            socket.getOutputStream().write(noise);
            untilClosed(socket);
        }
        bystanderIsServed();
        await().atMost(Duration.ofSeconds(5)).until(() -> outcome("malformed") > before);
    }

    @Test
    @org.junit.jupiter.api.Timeout(60)
    void a_will_with_qos_3_is_refused_and_every_session_thread_keeps_working() throws Exception {
        try (Socket socket = socket()) {
            socket.getOutputStream().write(connect(unique("evil"), 3));
            assertThat(untilClosed(socket)).as("no CONNACK").isEmpty();
        }
        // clients whose ids land on each of Moquette's session loops (one per core) still connect and publish
        for (int i = 0; i < 8; i++) {
            Mqtt3BlockingClient client = Devices.connect(Devices.mqttPort(brokerApi), "after-evil-" + i, null);
            client.publishWith().topic("after/evil").payload(utf8("ok")).qos(MqttQos.AT_LEAST_ONCE).send();
            client.disconnect();
        }
        bystanderIsServed();
    }

    @Test
    void an_oversized_packet_closes_the_connection_that_sent_it() throws Exception {
        double before = outcome("malformed");
        try (Socket socket = socket()) {
            socket.getOutputStream().write(connect(unique("big"), null));
            assertThat(socket.getInputStream().readNBytes(4)).as("CONNACK").containsExactly(0x20, 2, 0, 0);
            byte[] body = new byte[2 + 3 + 10_000];
            body[1] = 3;
            body[2] = 'b';
            body[3] = 'i';
            body[4] = 'g';
            socket.getOutputStream().write(PacketFuzzer.packet(0x30, body));
            assertThat(untilClosed(socket)).as("closed, nothing else").isEmpty();
        }
        bystanderIsServed();
        assertThat(outcome("malformed")).isGreaterThan(before);
    }

    @Test
    void a_truncated_packet_or_no_connect_at_all_is_closed_after_the_connect_timeout() throws Exception {
        double before = outcome("connect-timeout");
        try (Socket silent = socket(); Socket truncated = socket()) {
            byte[] connect = connect(unique("cut"), null);
            truncated.getOutputStream().write(connect, 0, connect.length - 4);
            long start = System.nanoTime();
            untilClosed(silent);
            untilClosed(truncated);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        }
        assertThat(outcome("connect-timeout")).isGreaterThanOrEqualTo(before + 2);
        bystanderIsServed();
    }

    @Test
    void a_connect_flood_from_one_address_is_cut_off_and_others_go_on() throws Exception {
        double before = outcome("connect-flood");
        List<Socket> flood = new ArrayList<>();
        try {
            for (int i = 0; i < 60; i++) {
                Socket socket = socket();
                socket.getOutputStream().write(connect("flood-" + i, null));
                flood.add(socket);
            }
            // 20 per second are let in: of 60 CONNECTs within two seconds at most 40
            await().atMost(Duration.ofSeconds(5)).until(() -> outcome("connect-flood") >= before + 20);
        } finally {
            for (Socket socket : flood) {
                socket.close();
            }
        }
        TimeUnit.MILLISECONDS.sleep(1100); // the next second: the address may connect again
        bystanderIsServed();
        Devices.connect(Devices.mqttPort(brokerApi), unique("after-flood"), null).disconnect();
    }

    @Test
    void connections_beyond_max_connections_get_connack_3() throws Exception {
        List<Mqtt3BlockingClient> clients = new ArrayList<>();
        try {
            Mqtt3ConnAckException refused = null;
            for (int i = 0; i < 45 && refused == null; i++) {
                TimeUnit.MILLISECONDS.sleep(60); // under the connect rate limit
                Mqtt3BlockingClient client = Devices.client(Devices.mqttPort(brokerApi), "many-" + i).buildBlocking();
                refused = catchThrowableOfType(Mqtt3ConnAckException.class, client::connect);
                if (refused == null) {
                    clients.add(client);
                }
            }
            assertThat(refused).as("a CONNECT beyond bridge.broker.max-connections=40").isNotNull();
            assertThat(refused.getMqttMessage().getReturnCode()).isEqualTo(Mqtt3ConnAckReturnCode.SERVER_UNAVAILABLE);
            assertThat(clients.size() + 1).as("bystander included").isEqualTo(40);
        } finally {
            clients.forEach(Mqtt3BlockingClient::disconnect);
        }
        bystanderIsServed();
    }

    @Test
    void a_subscriber_that_never_reads_is_disconnected_and_the_publisher_is_not_held_up() throws Exception {
        double before = outcome("slow-reader");
        try (Socket deaf = socket()) {
            deaf.setReceiveBufferSize(4096);
            deaf.getOutputStream().write(connect(unique("deaf"), null));
            assertThat(deaf.getInputStream().readNBytes(4)).as("CONNACK").containsExactly(0x20, 2, 0, 0);
            ByteArrayOutputStream subscribe = new ByteArrayOutputStream();
            subscribe.writeBytes(new byte[] {0, 1});
            PacketFuzzer.string(subscribe, "firehose/#");
            subscribe.write(0);
            deaf.getOutputStream().write(PacketFuzzer.packet(0x82, subscribe.toByteArray()));
            assertThat(deaf.getInputStream().readNBytes(5)).as("SUBACK").containsExactly(0x90, 3, 0, 1, 0);
            // from now on it reads nothing

            Mqtt3BlockingClient publisher = Devices.connect(Devices.mqttPort(brokerApi), unique("firehose"), null);
            byte[] payload = new byte[4000];
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (outcome("slow-reader") <= before && System.nanoTime() < deadline) {
                for (int i = 0; i < 200; i++) {
                    publisher.publishWith().topic("firehose/data").payload(payload).qos(MqttQos.AT_MOST_ONCE).send();
                }
                TimeUnit.MILLISECONDS.sleep(100);
            }
            publisher.disconnect();
            assertThat(outcome("slow-reader")).as("the deaf subscriber was disconnected").isGreaterThan(before);
        }
        bystanderIsServed();
    }
}
