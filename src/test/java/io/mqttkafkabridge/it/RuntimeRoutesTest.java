package io.mqttkafkabridge.it;

import static io.mqttkafkabridge.it.Devices.unique;
import static io.mqttkafkabridge.it.Devices.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;

import io.mqttkafkabridge.broker.EmbeddedBroker;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * Routes changed through the API while the bridge runs, kept in Kafka ({@code mqtt-kafka-bridge.routes}), signed in as
 * users of the password file: alice (s3cret) is an admin, bob (p@ss:word) may only read; the token is an admin too.
 * What survives a restart and what other replicas see is in {@code RuntimeRoutesIT}.
 */
@QuarkusTest
@TestProfile(RuntimeRoutesTest.ApiUsers.class)
@WithTestResource(KafkaTestResource.class)
class RuntimeRoutesTest {

    static final Path DIR = Path.of("target", "runtime-routes-test");
    static final String TOKEN = "t0ken-for-tests";
    static final String ALICE = Http.basic("alice", "s3cret");
    static final String BOB = Http.basic("bob", "p@ss:word");

    /** Token and HTTP basic; alice is an admin; anonymous MQTT clients still connect. */
    public static class ApiUsers implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                Files.createDirectories(DIR);
                Files.write(DIR.resolve("passwd"), List.of(BrokerSecurityTest.ALICE, BrokerSecurityTest.BOB));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Map.of("bridge.api.auth", "token", "bridge.api.token", TOKEN, "bridge.api.admins", "alice",
                    "bridge.security.allow-anonymous", "true",
                    "bridge.security.password-file", DIR.resolve("passwd").toString());
        }
    }

    @Inject
    EmbeddedBroker broker;

    @TestHTTPResource("/api/v1/routes")
    URI routes;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    private URI route(String direction, String name) {
        return routes.resolve("routes/" + direction + "/" + name);
    }

    @Test
    void an_uplink_route_is_created_replaced_and_deleted_while_the_bridge_runs() throws Exception {
        String name = unique("rt-up").replace('.', '-');
        String topic = newTopic();
        String other = newTopic();
        Mqtt3BlockingClient device = Devices.connect(broker.port(), unique("rt-device"), null);
        try (LogCapture logs = LogCapture.start()) {
            HttpResponse<String> created = Http.send("PUT", route("uplink", name), """
                    {"mqtt-filter": "rt/%s/+/data", "kafka-topic": "%s", "key": "json:/id", "timestamp": "json:/ts"}"""
                    .formatted(name, topic), "Authorization", ALICE);
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            assertThat(created.body()).contains("\"origin\":\"runtime\"", "\"key\":\"json:/id\"", "\"timestamp\":\"json:/ts\"");
            assertThat(logs.containing("MKB0802")).as("the change, with the API user").anyMatch(line -> line.contains(name)
                    && line.contains("created") && line.contains("alice"));
        }
        assertThat(Http.get(metrics).body()).as("its counters exist at once")
                .contains("bridge_uplink_messages_total{outcome=\"retried\",route=\"" + name + "\"} 0.0");
        assertThat(Http.get(routes, "Authorization", BOB).body()).as("bob may read").contains("\"name\":\"" + name + "\"");

        byte[] first = utf8("{\"id\":\"pump-1\",\"ts\":1700000000000,\"n\":\"" + unique("n") + "\"}");
        Devices.publish(device, "rt/" + name + "/pump-1/data", first, 1, false);
        var record = KafkaTopics.withValue(topic, first, 1).get(0);
        assertThat(record.key()).isEqualTo("pump-1");
        assertThat(record.timestamp()).isEqualTo(1_700_000_000_000L);

        HttpResponse<String> replaced = Http.send("PUT", route("uplink", name), """
                {"mqtt-filter": "rt/%s/+/data", "kafka-topic": "%s"}""".formatted(name, other), "Authorization", "Bearer " + TOKEN);
        assertThat(replaced.statusCode()).as(replaced.body()).isEqualTo(200);
        byte[] second = utf8(unique("second"));
        Devices.publish(device, "rt/" + name + "/pump-1/data", second, 1, false);
        assertThat(KafkaTopics.withValue(other, second, 1).get(0).key()).as("the default key now").isEqualTo("rt/" + name + "/pump-1/data");

        HttpResponse<String> deleted = Http.send("DELETE", route("uplink", name), null, "Authorization", ALICE);
        assertThat(deleted.statusCode()).isEqualTo(204);
        assertThat(Http.get(routes, "Authorization", ALICE).body()).doesNotContain("\"name\":\"" + name + "\"");
        assertThat(Http.get(metrics).body()).as("its series go with it").doesNotContain("route=\"" + name + "\"");
        assertThat(Http.send("DELETE", route("uplink", name), null, "Authorization", ALICE).statusCode()).isEqualTo(404);
        byte[] third = utf8(unique("third"));
        byte[] marker = utf8(unique("marker"));
        Devices.publish(device, "rt/" + name + "/pump-1/data", third, 1, false);
        Devices.publish(device, "devices/" + unique("d") + "/telemetry", marker, 1, false);
        // the journal is read in order: once the marker is in Kafka, the publish before it was routed (or not)
        assertThat(KafkaTopics.withValue("it-telemetry", marker, 1)).hasSize(1);
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(Map.of(
                "bootstrap.servers", KafkaTestResource.bootstrapServers(),
                "key.deserializer", org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName(),
                "value.deserializer", org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName()))) {
            assertThat(KafkaTopics.endOffsets(consumer, other).values().stream().mapToLong(Long::longValue).sum())
                    .as("no route, no record: the topic holds the second message only").isEqualTo(1);
        }
        device.disconnect();
    }

    @Test
    void a_downlink_route_on_a_new_kafka_topic_is_read_without_a_restart() throws Exception {
        String name = unique("rt-down").replace('.', '-');
        String topic = newTopic();
        String deviceId = unique("dev");
        Mqtt3BlockingClient device = Devices.connect(broker.port(), deviceId, null);
        try (Mqtt3BlockingClient.Mqtt3Publishes inbox = device.publishes(MqttGlobalPublishFilter.SUBSCRIBED)) {
            device.subscribeWith().topicFilter("rt/" + deviceId + "/commands").qos(MqttQos.AT_LEAST_ONCE).send();
            HttpResponse<String> created = Http.send("PUT", route("downlink", name), """
                    {"kafka-topic": "%s", "mqtt-topic": "rt/{key}/commands", "qos": 1, "retain": false}""".formatted(topic),
                    "Authorization", ALICE);
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            assertThat(created.body()).contains("\"origin\":\"runtime\"", "\"qos\":1");

            KafkaTopics.produce(new ProducerRecord<>(topic, deviceId, utf8("open valve")));
            Optional<Mqtt3Publish> received = inbox.receive(20, TimeUnit.SECONDS);
            assertThat(received).as("the record of the new topic reaches the device").isPresent();
            assertThat(new String(received.get().getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("open valve");
        } finally {
            Http.send("DELETE", route("downlink", name), null, "Authorization", ALICE);
            device.disconnect();
        }
    }

    @Test
    void a_broken_route_gets_a_problem_naming_the_key_and_changes_nothing() throws Exception {
        String before = Http.get(routes, "Authorization", ALICE).body();
        HttpResponse<String> bad = Http.send("PUT", route("uplink", "broken"), """
                {"mqtt-filter": "a/#/b", "kafka-topic": "no topic", "key": "serial"}""", "Authorization", ALICE);
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(bad.body()).contains("bridge.uplink.routes.broken.mqtt-filter='a/#/b' is not a valid MQTT topic filter",
                "bridge.uplink.routes.broken.kafka-topic='no topic' is not a legal Kafka topic name",
                "bridge.uplink.routes.broken.key: unknown key strategy 'serial'");
        HttpResponse<String> typo = Http.send("PUT", route("downlink", "broken"), """
                {"kafka-topic": "t", "mqtt-topic": "a/{key}", "qos": 3, "retian": true}""", "Authorization", ALICE);
        assertThat(typo.statusCode()).isEqualTo(400);
        assertThat(typo.body()).contains("bridge.downlink.routes.broken.retian is not a key of downlink routes");
        HttpResponse<String> qos = Http.send("PUT", route("downlink", "broken"), """
                {"kafka-topic": "t", "mqtt-topic": "a/{key}", "qos": 3}""", "Authorization", ALICE);
        assertThat(qos.body()).contains("bridge.downlink.routes.broken.qos=3 is not an MQTT QoS");
        assertThat(Http.get(routes, "Authorization", ALICE).body()).as("nothing changed").isEqualTo(before);
    }

    @Test
    void configured_routes_are_static_and_cannot_be_changed() throws Exception {
        String list = Http.get(routes, "Authorization", ALICE).body();
        assertThat(list).contains("\"name\":\"telemetry\"").contains("\"origin\":\"static\"");
        HttpResponse<String> put = Http.send("PUT", route("uplink", "telemetry"), """
                {"mqtt-filter": "x/#", "kafka-topic": "it-telemetry"}""", "Authorization", ALICE);
        assertThat(put.statusCode()).isEqualTo(409);
        assertThat(put.body()).contains("is static", "bridge.uplink.routes.telemetry.*");
        assertThat(Http.send("DELETE", route("downlink", "commands"), null, "Authorization", ALICE).statusCode()).isEqualTo(409);
    }

    @Test
    void readers_may_read_and_dry_run_admins_may_change() throws Exception {
        String body = """
                {"mqtt-filter": "x/#", "kafka-topic": "it-audit"}""";
        HttpResponse<String> refused = Http.send("PUT", route("uplink", "by-bob"), body, "Authorization", BOB);
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body()).contains("User 'bob' may read but not change", "bridge.api.admins");
        assertThat(Http.send("DELETE", routes.resolve("clients/somebody"), null, "Authorization", BOB).statusCode()).isEqualTo(403);
        assertThat(Http.send("POST", routes.resolve("publish"), "{\"topic\":\"a/b\",\"payload\":\"x\"}", "Authorization", BOB)
                .statusCode()).isEqualTo(403);
        assertThat(Http.get(routes, "Authorization", Http.basic("bob", "wrong")).statusCode()).isEqualTo(401);
        assertThat(Http.get(routes, "Authorization", Http.basic("mallory", "s3cret")).statusCode()).isEqualTo(401);
        assertThat(Http.get(routes).statusCode()).isEqualTo(401);

        HttpResponse<String> dryRun = Http.send("POST", routes.resolve("routes/uplink/dry-run"), """
                {"topic": "plant/p7/readings", "payload": "{\\"serial\\":\\"S-9\\",\\"at\\":\\"2026-12-02T06:00:00Z\\"}",
                 "route": {"mqtt-filter": "plant/+/readings", "kafka-topic": "readings", "key": "json:/serial", "timestamp": "json:/at"}}""",
                "Authorization", BOB);
        assertThat(dryRun.statusCode()).as(dryRun.body()).isEqualTo(200);
        assertThat(dryRun.body()).contains("\"route\":\"dry-run\"", "\"kafkaTopic\":\"readings\"", "\"key\":\"S-9\"",
                "\"timestamp\":1796191200000");
        HttpResponse<String> notJson = Http.send("POST", routes.resolve("routes/uplink/dry-run"), """
                {"topic": "plant/p7/readings", "payload": "21.5", "route": {"mqtt-filter": "plant/#", "kafka-topic": "r", "key": "json:/serial"}}""",
                "Authorization", BOB);
        assertThat(notJson.body()).contains("\"invalidPayload\":\"the payload has no key at JSON pointer '/serial'\"",
                "\"kafkaTopic\":\"it-dead-letter\"");
        HttpResponse<String> downlink = Http.send("POST", routes.resolve("routes/downlink/dry-run"), """
                {"kafkaTopic": "valves", "key": "v1", "route": {"kafka-topic": "valves", "mqtt-topic": "valves/{key}/set", "qos": 2}}""",
                "Authorization", BOB);
        assertThat(downlink.body()).contains("\"mqttTopic\":\"valves/v1/set\"", "\"qos\":2");
        HttpResponse<String> broken = Http.send("POST", routes.resolve("routes/downlink/dry-run"), """
                {"kafkaTopic": "valves", "route": {"kafka-topic": "valves", "mqtt-topic": "valves/{nope}"}}""", "Authorization", BOB);
        assertThat(broken.statusCode()).isEqualTo(400);
        assertThat(broken.body()).contains("bridge.downlink.routes.dry-run.mqtt-topic");
    }

    /** A topic of its own, with 2 partitions. */
    private static String newTopic() throws Exception {
        String topic = unique("rt-topic").replace('.', '-');
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", KafkaTestResource.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        return topic;
    }
}
