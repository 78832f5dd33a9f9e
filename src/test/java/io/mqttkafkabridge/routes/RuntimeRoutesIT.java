package io.mqttkafkabridge.routes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;

import io.mqttkafkabridge.fault.BridgeProcess;
import io.mqttkafkabridge.fault.KafkaProcess;
import io.mqttkafkabridge.fault.Processes;
import io.mqttkafkabridge.it.KafkaTopics;

/**
 * Runtime routes across two replicas of the packaged bridge on one Kafka, with the cluster off (each replica a broker of
 * its own): a route saved through one replica's API is in force on the other within seconds, both replicas keep it
 * across a restart of both, a downlink route on a new Kafka topic is read without a restart, and a deletion reaches
 * both.
 */
class RuntimeRoutesIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void replicas_share_runtime_routes_through_kafka_and_keep_them_across_restarts() throws Exception {
        Path dir = Processes.scratchDir("runtime-routes");
        String uplinkTopic = "rt-uplink-" + suffix();
        String downlinkTopic = "rt-downlink-" + suffix();
        try (KafkaProcess kafka = new KafkaProcess(Files.createDirectories(dir.resolve("kafka")))) {
            kafka.start();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic(uplinkTopic, 2, (short) 1), new NewTopic(downlinkTopic, 2, (short) 1),
                        new NewTopic("load", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            try (BridgeProcess a = replica(dir, kafka, "a"); BridgeProcess b = replica(dir, kafka, "b")) {
                a.start();
                b.start();
                a.awaitReady();
                b.awaitReady();

                HttpResponse<String> saved = send(a, "PUT", "/api/v1/routes/uplink/meters", """
                        {"mqtt-filter": "meters/+/reading", "kafka-topic": "%s", "key": "json:/meter"}""".formatted(uplinkTopic));
                assertThat(saved.statusCode()).as(saved.body()).isEqualTo(201);
                long savedAt = System.nanoTime();
                await().atMost(Duration.ofSeconds(10)).until(() -> route(b, "uplink", "meters").isPresent());
                System.out.println("RUNTIME-ROUTES uplink route saved on a, in force on b after "
                        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - savedAt) + " ms");
                assertThat(route(b, "uplink", "meters").get().path("origin").asText()).isEqualTo("runtime");
                publishAndExpect(b, kafka, uplinkTopic, "m-7");

                HttpResponse<String> downlink = send(b, "PUT", "/api/v1/routes/downlink/valves", """
                        {"kafka-topic": "%s", "mqtt-topic": "valves/{key}/set", "qos": 1}""".formatted(downlinkTopic));
                assertThat(downlink.statusCode()).as(downlink.body()).isEqualTo(201);
                await().atMost(Duration.ofSeconds(10)).until(() -> route(a, "downlink", "valves").isPresent());
                expectDownlink(a, kafka, downlinkTopic, "v-1");

                for (BridgeProcess replica : List.of(a, b)) {
                    replica.terminate(Duration.ofSeconds(30));
                }
                a.start();
                b.start();
                a.awaitReady();
                b.awaitReady();
                for (BridgeProcess replica : List.of(a, b)) {
                    assertThat(route(replica, "uplink", "meters")).as("after the restart of both").isPresent();
                    assertThat(route(replica, "downlink", "valves")).isPresent();
                    assertThat(replica.log()).contains("MKB0800: Runtime routes: 2 read from Kafka topic 'mqtt-kafka-bridge.routes'");
                }
                publishAndExpect(a, kafka, uplinkTopic, "m-8");
                expectDownlink(b, kafka, downlinkTopic, "v-2");

                assertThat(send(b, "DELETE", "/api/v1/routes/uplink/meters", null).statusCode()).isEqualTo(204);
                await().atMost(Duration.ofSeconds(10)).until(() -> route(a, "uplink", "meters").isEmpty());
                assertThat(a.log()).contains("MKB0801: Route uplink/meters deleted through the API by user 'anonymous' on replica 'b'");
                assertThat(b.log()).contains("MKB0802: Route uplink/meters deleted through the API by user 'anonymous'");
            }
        }
    }

    private static BridgeProcess replica(Path dir, KafkaProcess kafka, String node) throws Exception {
        return new BridgeProcess(Files.createDirectories(dir.resolve(node)), kafka.bootstrapServers(), "load")
                .env("BRIDGE_API_AUTH", "none").env("BRIDGE_CLUSTER_NODE_ID", node)
                .env("BRIDGE_DOWNLINK_GROUP_ID", "runtime-routes-" + node);
    }

    /** A publish through {@code replica} on the uplink route arrives in Kafka with its key from the JSON payload. */
    private static void publishAndExpect(BridgeProcess replica, KafkaProcess kafka, String topic, String meter) {
        Mqtt3BlockingClient device = MqttClient.builder().useMqttVersion3().identifier("meter-" + suffix())
                .serverHost("127.0.0.1").serverPort(replica.mqttPort()).buildBlocking();
        device.connect();
        byte[] payload = ("{\"meter\":\"" + meter + "\",\"kwh\":" + System.nanoTime() + "}").getBytes(StandardCharsets.UTF_8);
        device.publishWith().topic("meters/" + meter + "/reading").qos(MqttQos.AT_LEAST_ONCE).payload(payload).send();
        device.disconnect();
        var records = KafkaTopics.withValue(kafka.bootstrapServers(), topic, payload, 1, Duration.ofSeconds(30));
        assertThat(records).hasSize(1);
        assertThat(records.get(0).key()).isEqualTo(meter);
    }

    /** A record on the downlink route's topic reaches a device subscribed on {@code replica}. */
    private static void expectDownlink(BridgeProcess replica, KafkaProcess kafka, String topic, String valve) throws Exception {
        Mqtt3BlockingClient device = MqttClient.builder().useMqttVersion3().identifier("valve-" + suffix())
                .serverHost("127.0.0.1").serverPort(replica.mqttPort()).buildBlocking();
        device.connect();
        try (Mqtt3BlockingClient.Mqtt3Publishes inbox = device.publishes(MqttGlobalPublishFilter.SUBSCRIBED)) {
            device.subscribeWith().topicFilter("valves/" + valve + "/set").qos(MqttQos.AT_LEAST_ONCE).send();
            String command = "close " + suffix();
            Properties props = new Properties();
            props.put("bootstrap.servers", kafka.bootstrapServers());
            Optional<Mqtt3Publish> received = Optional.empty();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
                // the replica's consumer may still be joining its group after a start: send again until one arrives
                while (received.isEmpty() && System.nanoTime() < deadline) {
                    producer.send(new ProducerRecord<>(topic, valve, command.getBytes(StandardCharsets.UTF_8))).get(10, TimeUnit.SECONDS);
                    received = inbox.receive(3, TimeUnit.SECONDS);
                }
            }
            assertThat(received).as("a record of " + topic + " reaches a device on the replica").isPresent();
            assertThat(new String(received.get().getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo(command);
        } finally {
            device.disconnect();
        }
    }

    private static Optional<JsonNode> route(BridgeProcess replica, String direction, String name) throws Exception {
        JsonNode routes = JSON.readTree(send(replica, "GET", "/api/v1/routes", null).body()).path(direction);
        for (JsonNode route : routes) {
            if (route.path("name").asText().equals(name)) {
                return Optional.of(route);
            }
        }
        return Optional.empty();
    }

    private static HttpResponse<String> send(BridgeProcess replica, String method, String path, String json) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + replica.httpPort() + path))
                .timeout(Duration.ofSeconds(30)).method(method,
                        json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            request.header("Content-Type", "application/json");
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String suffix() {
        return UUID.randomUUID().toString().substring(0, 8);
    }
}
