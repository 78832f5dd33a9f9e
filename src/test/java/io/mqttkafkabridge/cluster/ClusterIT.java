package io.mqttkafkabridge.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;

import io.mqttkafkabridge.fault.BridgeProcess;
import io.mqttkafkabridge.fault.KafkaProcess;
import io.mqttkafkabridge.fault.Processes;
import io.mqttkafkabridge.it.KafkaTopics;

/**
 * Three packaged bridges with the cluster on and one Kafka broker, all processes: the replicas act as one MQTT broker
 * (pub/sub at every QoS, retained messages, client-id takeover with wills, the REST API and metrics), refuse a second
 * process with a node id in use and a state topic with the wrong cleanup policy, lose nothing acknowledged when a
 * replica is killed under cross-replica QoS 1 load or Kafka is away for 30 s, and a replica started late gets the
 * retained messages before it takes clients.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String UPLINK_TOPIC = "cluster-it-uplink";

    private static Path dir;
    private static KafkaProcess kafka;
    private static final List<BridgeProcess> replicas = new ArrayList<>();
    private static final List<Mqtt3BlockingClient> clients = new CopyOnWriteArrayList<>();
    private static final List<Inbox> inboxes = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void startCluster() throws Exception {
        dir = Processes.scratchDir("cluster-it");
        kafka = new KafkaProcess(java.nio.file.Files.createDirectories(dir.resolve("kafka")));
        kafka.start();
        for (String node : List.of("a", "b", "c")) {
            replicas.add(replica(node, "data-" + node));
        }
        for (BridgeProcess replica : replicas) {
            replica.start();
        }
        for (BridgeProcess replica : replicas) {
            replica.awaitReady();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> cluster(replicas.get(0)).path("liveNodes").asInt() == 3);
    }

    private static BridgeProcess replica(String node, String data) {
        Path folder;
        try {
            folder = java.nio.file.Files.createDirectories(dir.resolve(data));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return new BridgeProcess(folder, kafka.bootstrapServers(), UPLINK_TOPIC)
                .env("BRIDGE_CLUSTER_ENABLED", "true").env("BRIDGE_CLUSTER_NODE_ID", node)
                .env("BRIDGE_CLUSTER_MESSAGES_PARTITIONS", "3").env("BRIDGE_API_AUTH", "none")
                .env("BRIDGE_UPLINK_ROUTES_CHAT_MQTT_FILTER", "chat/#").env("BRIDGE_UPLINK_ROUTES_CHAT_KAFKA_TOPIC", UPLINK_TOPIC);
    }

    @AfterAll
    static void stopCluster() throws Exception {
        for (Mqtt3BlockingClient client : clients) {
            try {
                client.disconnect();
            } catch (RuntimeException ignored) {
                // already gone
            }
        }
        for (BridgeProcess replica : replicas) {
            replica.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    // ------------------------------------------------------------------------------------------ configuration

    @Test
    @Order(1)
    void the_internal_topics_are_created_with_their_cleanup_policies() throws Exception {
        try (Admin admin = admin()) {
            Map<String, String> expected = Map.of("mqtt-kafka-bridge.messages", "delete", "mqtt-kafka-bridge.subscriptions",
                    "compact", "mqtt-kafka-bridge.sessions", "compact", "mqtt-kafka-bridge.retained", "compact",
                    "mqtt-kafka-bridge.nodes", "compact");
            for (Map.Entry<String, String> topic : expected.entrySet()) {
                ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic.getKey());
                String policy = admin.describeConfigs(List.of(resource)).all().get(10, TimeUnit.SECONDS).get(resource)
                        .get("cleanup.policy").value();
                assertThat(policy).as(topic.getKey()).isEqualTo(topic.getValue());
            }
        }
    }

    @Test
    @Order(2)
    void a_second_process_with_a_node_id_in_use_is_refused() throws Exception {
        BridgeProcess duplicate = replica("b", "data-duplicate");
        try {
            Processes.Result result = runToExit(duplicate);
            assertThat(result.exit()).isNotZero();
            assertThat(result.output()).contains("bridge.cluster.node-id 'b' is taken");
        } finally {
            duplicate.close();
        }
    }

    @Test
    @Order(3)
    void a_state_topic_with_the_wrong_cleanup_policy_fails_the_start_naming_topic_and_setting() throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("broken.retained", 1, (short) 1)
                    .configs(Map.of("cleanup.policy", "delete")))).all().get(10, TimeUnit.SECONDS);
        }
        BridgeProcess broken = replica("x", "data-broken").env("BRIDGE_CLUSTER_NAME", "broken");
        try {
            Processes.Result result = runToExit(broken);
            assertThat(result.exit()).isNotZero();
            assertThat(result.output()).contains("Kafka topic 'broken.retained' has cleanup.policy=delete")
                    .contains("cleanup.policy=compact");
        } finally {
            broken.close();
        }
    }

    // ------------------------------------------------------------------------------------------ pub/sub

    @Test
    @Order(10)
    void a_device_on_any_replica_receives_what_devices_on_the_others_publish_at_every_qos() throws Exception {
        String room = "chat/" + UUID.randomUUID().toString().substring(0, 8);
        Inbox qos2 = subscribe(replicas.get(0), room + "/#", 2);
        long tookEffect = awaitForwarding(replicas.get(1), qos2, room + "/probe");
        Inbox qos1 = subscribe(replicas.get(2), room + "/+", 1);
        tookEffect = Math.max(tookEffect, awaitForwarding(replicas.get(1), qos1, room + "/probe"));
        System.out.printf("CLUSTER a subscription took effect on another replica within %d ms of its SUBACK%n", tookEffect);
        assertThat(tookEffect).as("bounded subscription propagation").isLessThan(5_000);
        Mqtt3BlockingClient publisher = connect(replicas.get(1), "pub-" + room.substring(5));
        for (int qos = 0; qos <= 2; qos++) {
            publisher.publishWith().topic(room + "/q" + qos).payload(utf8("m" + qos)).qos(MqttQos.fromCode(qos)).send();
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> qos2.messages.size() >= 3 && qos1.messages.size() >= 3);
        assertThat(qos2.byTopic(room + "/q0").getQos()).isEqualTo(MqttQos.AT_MOST_ONCE);
        assertThat(qos2.byTopic(room + "/q1").getQos()).isEqualTo(MqttQos.AT_LEAST_ONCE);
        assertThat(qos2.byTopic(room + "/q2").getQos()).isEqualTo(MqttQos.EXACTLY_ONCE);
        assertThat(qos1.byTopic(room + "/q2").getQos()).as("the lower of publish and subscription").isEqualTo(MqttQos.AT_LEAST_ONCE);
        assertThat(new String(qos1.byTopic(room + "/q1").getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("m1");
        // exactly once each in Kafka's uplink topic, although three replicas saw the publishes
        KafkaTopics.readUntil(kafka.bootstrapServers(), UPLINK_TOPIC,
                r -> r.stream().filter(c -> c.key() != null && c.key().startsWith(room + "/q")).count() >= 3, Duration.ofSeconds(20));
        // a second look, a moment later: still three (the uplink route's key is the MQTT topic)
        await().pollDelay(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2)).until(() -> true);
        assertThat(KafkaTopics.readUntil(kafka.bootstrapServers(), UPLINK_TOPIC, r -> false, Duration.ofSeconds(3)).stream()
                .filter(r -> r.key() != null && r.key().startsWith(room + "/q")).count()).isEqualTo(3);
        assertThat(qos2.messages).hasSize(3);
        assertThat(qos1.messages).hasSize(3);
    }

    @Test
    @Order(11)
    void a_publish_nobody_else_subscribes_to_is_not_forwarded() throws Exception {
        BridgeProcess b = replicas.get(1);
        double before = b.metric("bridge_cluster_forwarded_total");
        Mqtt3BlockingClient device = connect(b, "telemetry-only");
        for (int i = 0; i < 20; i++) {
            device.publishWith().topic("load/telemetry-only/data").payload(utf8("t" + i)).qos(MqttQos.AT_LEAST_ONCE).send();
        }
        KafkaTopics.readUntil(kafka.bootstrapServers(), UPLINK_TOPIC,
                r -> r.stream().filter(c -> "telemetry-only".equals(c.key())).count() >= 20, Duration.ofSeconds(20));
        assertThat(b.metric("bridge_cluster_forwarded_total")).isEqualTo(before);
    }

    @Test
    @Order(12)
    void mqtt5_properties_reach_a_subscriber_on_another_replica_live_and_from_the_retained_store() throws Exception {
        String room = "chat/" + UUID.randomUUID().toString().substring(0, 8);
        com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient subscriber = mqtt5(replicas.get(0), "v5-sub-" + room.substring(5));
        subscriber.subscribeWith().topicFilter(room + "/#").qos(MqttQos.AT_LEAST_ONCE).send();
        com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient publisher = mqtt5(replicas.get(1), "v5-pub-" + room.substring(5));
        try (var publishes = subscriber.publishes(com.hivemq.client.mqtt.MqttGlobalPublishFilter.ALL)) {
            // the subscription reaches replica 1 within a few seconds: publish until a probe arrives
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
                publisher.publishWith().topic(room + "/probe").payload(utf8("probe")).qos(MqttQos.AT_MOST_ONCE).send();
                return publishes.receive(50, TimeUnit.MILLISECONDS).isPresent();
            });
            while (publishes.receive(300, TimeUnit.MILLISECONDS).isPresent()) {
                // the other probes
            }
            publisher.publishWith().topic(room + "/live").payload(utf8("live")).qos(MqttQos.AT_LEAST_ONCE)
                    .contentType("text/plain").correlationData(utf8("c-1")).messageExpiryInterval(600)
                    .userProperties().add("a", "1").add("a", "2").applyUserProperties().send();

            var live = publishes.receive(20, TimeUnit.SECONDS);
            assertThat(live).isPresent();
            assertThat(live.get().getPayloadAsBytes()).isEqualTo(utf8("live"));
            assertThat(live.get().getContentType()).map(Object::toString).contains("text/plain");
            assertThat(live.get().getCorrelationData()).isPresent();
            assertThat(live.get().getUserProperties().asList()).hasSize(2);
            assertThat(live.get().getUserProperties().asList().get(1).getValue().toString()).isEqualTo("2");
            assertThat(live.get().getMessageExpiryInterval().getAsLong()).isBetween(500L, 600L);
        }
        publisher.publishWith().topic(room + "/status").payload(utf8("kept")).qos(MqttQos.AT_LEAST_ONCE).retain(true)
                .contentType("text/plain").userProperties().add("k", "v").applyUserProperties().send();
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> {
            com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient late = mqtt5(replicas.get(2), "v5-late-" + UUID.randomUUID()
                    .toString().substring(0, 8));
            try (var publishes = late.publishes(com.hivemq.client.mqtt.MqttGlobalPublishFilter.ALL)) {
                late.subscribeWith().topicFilter(room + "/status").qos(MqttQos.AT_LEAST_ONCE).send();
                var retained = publishes.receive(1, TimeUnit.SECONDS);
                assertThat(retained).isPresent();
                assertThat(retained.get().isRetain()).isTrue();
                assertThat(retained.get().getContentType()).map(Object::toString).contains("text/plain");
                assertThat(retained.get().getUserProperties().asList()).hasSize(1);
            } finally {
                late.disconnect();
            }
        });
        subscriber.disconnect();
        publisher.disconnect();
    }

    private static com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient mqtt5(BridgeProcess replica, String clientId) {
        com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient client = MqttClient.builder().useMqttVersion5().identifier(clientId)
                .serverHost("127.0.0.1").serverPort(replica.mqttPort()).buildBlocking();
        client.connect();
        return client;
    }

    // ------------------------------------------------------------------------------------------ retained

    @Test
    @Order(20)
    void retained_messages_and_their_clears_are_cluster_wide() throws Exception {
        String topic = "status/" + UUID.randomUUID().toString().substring(0, 8);
        Mqtt3BlockingClient a = connect(replicas.get(0), "retain-a");
        a.publishWith().topic(topic).payload(utf8("online")).qos(MqttQos.AT_LEAST_ONCE).retain(true).send();
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> {
            Inbox late = subscribe(replicas.get(1), topic, 1);
            try {
                await().atMost(Duration.ofSeconds(1)).until(() -> !late.messages.isEmpty());
                assertThat(late.messages.get(0).isRetain()).isTrue();
                assertThat(new String(late.messages.get(0).getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("online");
            } finally {
                late.client.disconnect();
            }
        });
        Mqtt3BlockingClient c = connect(replicas.get(2), "retain-c");
        c.publishWith().topic(topic).payload(new byte[0]).qos(MqttQos.AT_LEAST_ONCE).retain(true).send();
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> {
            Inbox late = subscribe(replicas.get(0), topic, 1);
            try {
                await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(1)).until(() -> true);
                assertThat(late.messages).as("cleared on c, seen on a").isEmpty();
            } finally {
                late.client.disconnect();
            }
        });
    }

    // ------------------------------------------------------------------------------------------ takeover

    @Test
    @Order(30)
    void a_client_id_connected_on_another_replica_is_taken_over_and_its_will_reaches_every_replica() throws Exception {
        String will = "wills/" + UUID.randomUUID().toString().substring(0, 8);
        Inbox onA = subscribe(replicas.get(0), will, 1);
        Inbox onB = subscribe(replicas.get(1), will, 1);
        Inbox onC = subscribe(replicas.get(2), will, 1);
        awaitForwarding(replicas.get(0), onB, will);
        awaitForwarding(replicas.get(0), onC, will);
        Mqtt3AsyncClient first = MqttClient.builder().useMqttVersion3().identifier("takeover-1").serverHost("127.0.0.1")
                .serverPort(replicas.get(0).mqttPort()).buildAsync();
        first.connectWith().willPublish().topic(will).payload(utf8("gone")).qos(MqttQos.AT_LEAST_ONCE).applyWillPublish()
                .send().get(10, TimeUnit.SECONDS);
        Mqtt3BlockingClient second = MqttClient.builder().useMqttVersion3().identifier("takeover-1").serverHost("127.0.0.1")
                .serverPort(replicas.get(1).mqttPort()).buildBlocking();
        long connected = System.nanoTime();
        second.connect();
        clients.add(second);
        await().atMost(Duration.ofSeconds(5)).until(() -> !first.getState().isConnected());
        long closedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - connected);
        await().atMost(Duration.ofSeconds(10)).until(() -> onA.messages.size() == 1 && onB.messages.size() == 1
                && onC.messages.size() == 1);
        assertThat(new String(onC.messages.get(0).getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("gone");
        System.out.printf("CLUSTER takeover: old connection closed %d ms after the CONNECT on the other replica; its will "
                + "reached the subscribers on a, b and c%n", closedMillis);
        assertThat(second.getState().isConnected()).isTrue();
        JsonNode listed = clientsOf(replicas.get(2)).get("takeover-1");
        assertThat(listed.path("node").asText()).isEqualTo("b");
    }

    // ------------------------------------------------------------------------------------------ operations

    @Test
    @Order(40)
    void the_rest_api_and_the_metrics_see_the_whole_cluster() throws Exception {
        JsonNode view = cluster(replicas.get(2));
        assertThat(view.path("liveNodes").asInt()).isEqualTo(3);
        assertThat(view.path("members")).extracting(m -> m.path("node").asText()).containsExactly("a", "b", "c");
        assertThat(view.path("members").get(2).path("self").asBoolean()).isTrue();
        assertThat(view.path("members").get(0).has("lag")).isTrue();
        assertThat(replicas.get(0).metric("bridge_cluster_nodes")).isEqualTo(3.0);

        Mqtt3BlockingClient onB = connect(replicas.get(1), "listed-on-b");
        onB.subscribeWith().topicFilter("listed/#").send();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            JsonNode listed = clientsOf(replicas.get(0)).get("listed-on-b");
            assertThat(listed).isNotNull();
            assertThat(listed.path("node").asText()).isEqualTo("b");
            assertThat(listed.path("subscriptions").toString()).contains("listed/#");
        });
        HttpResponse<String> deleted = HTTP.send(HttpRequest.newBuilder(api(replicas.get(0), "clients/listed-on-b")).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(deleted.statusCode()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(5)).until(() -> !onB.getState().isConnected());

        Inbox onA = subscribe(replicas.get(0), "rest/+", 1);
        awaitForwarding(replicas.get(2), onA, "rest/probe");
        HttpResponse<String> published = HTTP.send(HttpRequest.newBuilder(api(replicas.get(2), "publish"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"topic\":\"rest/x\",\"payload\":\"from c\",\"qos\":1}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(published.statusCode()).isEqualTo(200);
        assertThat(published.body()).contains("\"forwardedTo\":[\"a\"");
        await().atMost(Duration.ofSeconds(10)).until(() -> onA.messages.size() == 1);
        assertThat(replicas.get(0).metric("bridge_cluster_received_total")).isPositive();
        assertThat(replicas.get(2).metric("bridge_cluster_forwarded_total")).isPositive();
    }

    // ------------------------------------------------------------------------------------------ failures

    @Test
    @Order(50)
    void a_replica_killed_under_cross_replica_qos_1_load_loses_nothing_acknowledged() throws Exception {
        List<Inbox> subscribers = loadSubscribers(replicas.get(2), replicas.get(0), replicas.get(1));
        loadSubscribers(replicas.get(0), replicas.get(2)); // goes with its replica
        underCrossReplicaLoad("kill -9 of c", 300, subscribers, () -> {
            replicas.get(2).kill();
            pause(Duration.ofSeconds(2));
            replicas.get(2).startUntilReady();
        });
        subscribers.forEach(s -> disconnectQuietly(s.client));
    }

    @Test
    @Order(55)
    void a_replica_stopped_with_sigterm_under_cross_replica_load_loses_nothing_acknowledged() throws Exception {
        List<Inbox> subscribers = loadSubscribers(replicas.get(1), replicas.get(0), replicas.get(2));
        underCrossReplicaLoad("SIGTERM of b", 300, subscribers, () -> {
            replicas.get(1).terminate(Duration.ofSeconds(40));
            replicas.get(1).startUntilReady();
        });
        subscribers.forEach(s -> disconnectQuietly(s.client));
    }

    @Test
    @Order(60)
    void cross_replica_traffic_through_a_30_s_kafka_outage_is_delivered_after_it() throws Exception {
        List<Inbox> subscribers = loadSubscribers(replicas.get(2), replicas.get(0), replicas.get(1));
        underCrossReplicaLoad("30 s Kafka outage", 100, subscribers, () -> {
            kafka.stop();
            pause(Duration.ofSeconds(30));
            kafka.start();
        });
        subscribers.forEach(s -> disconnectQuietly(s.client));
    }

    /** A {@code load/#} subscriber on each of {@code on}, each reached by a publish on {@code from}. */
    private static List<Inbox> loadSubscribers(BridgeProcess from, BridgeProcess... on) {
        List<Inbox> subscribers = new ArrayList<>();
        for (BridgeProcess replica : on) {
            Inbox inbox = subscribe(replica, "load/#", 1);
            awaitForwarding(from, inbox, "load/probe/" + UUID.randomUUID().toString().substring(0, 8));
            subscribers.add(inbox);
        }
        return subscribers;
    }

    /** What happens to the cluster while the load runs. */
    interface Disruption {
        void run() throws Exception;
    }

    /**
     * Three devices on each replica publish QoS 1 ({@code rate} msg/s per replica, at most 6,000 each) to topics the
     * subscribers on the other replicas match; {@code disruption} runs 3 s in; the load stops 2 s after it. Then every
     * acknowledged message must reach every subscriber in {@code stayed}: the counts are printed, missing must be 0.
     */
    private static void underCrossReplicaLoad(String scenario, int rate, List<Inbox> stayed, Disruption disruption)
            throws Exception {
        String prefix = scenario.replaceAll("[^a-z0-9]", "") + "-";
        List<io.mqttkafkabridge.fault.DeviceLoad> loads = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            loads.add(new io.mqttkafkabridge.fault.DeviceLoad(replicas.get(i).mqttPort(), prefix + "abc".charAt(i) + "-", 3,
                    rate, 6_000));
        }
        try {
            pause(Duration.ofSeconds(3));
            disruption.run();
            pause(Duration.ofSeconds(2));
        } finally {
            loads.forEach(io.mqttkafkabridge.fault.DeviceLoad::stop);
        }
        for (io.mqttkafkabridge.fault.DeviceLoad load : loads) {
            load.settle();
        }
        assertEverythingAcknowledgedArrives(scenario, loads, stayed);
        loads.forEach(io.mqttkafkabridge.fault.DeviceLoad::close);
    }

    private static void pause(Duration duration) {
        await().pollDelay(duration).atMost(duration.plusSeconds(1)).until(() -> true);
    }

    @Test
    @Order(70)
    void a_replica_started_late_gets_the_retained_messages_before_it_takes_clients() throws Exception {
        Mqtt3BlockingClient a = connect(replicas.get(0), "retain-late");
        for (int i = 0; i < 5; i++) {
            a.publishWith().topic("late/" + i).payload(utf8("kept " + i)).qos(MqttQos.AT_LEAST_ONCE).retain(true).send();
        }
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> {
            Inbox probe = subscribe(replicas.get(1), "late/#", 1);
            try {
                await().atMost(Duration.ofSeconds(2)).until(() -> probe.messages.size() == 5);
            } finally {
                disconnectQuietly(probe.client);
            }
        });
        BridgeProcess late = replica("d", "data-d");
        replicas.add(late);
        late.startUntilReady();
        String log = late.log();
        assertThat(log).containsPattern("MKB0700.*node d .* loaded [1-9][0-9]* retained messages");
        assertThat(log.indexOf("MKB0700")).as("the cluster's state is loaded before the MQTT listener opens (MKB0001)")
                .isLessThan(log.indexOf("MKB0001"));
        Inbox first = subscribe(late, "late/#", 1);
        await().atMost(Duration.ofSeconds(5)).until(() -> first.messages.size() == 5);
        assertThat(first.messages).allSatisfy(m -> assertThat(m.isRetain()).isTrue());
        System.out.printf("CLUSTER late replica: %d of 5 retained messages on its first subscription%n", first.messages.size());
    }

    private static void assertEverythingAcknowledgedArrives(String scenario, List<io.mqttkafkabridge.fault.DeviceLoad> loads,
            List<Inbox> subscribers) {
        Map<String, Set<Long>> acked = new java.util.HashMap<>();
        long published = 0;
        for (io.mqttkafkabridge.fault.DeviceLoad load : loads) {
            acked.putAll(load.acked());
            published += load.published();
        }
        long acknowledged = acked.values().stream().mapToLong(Set::size).sum();
        List<Long> missing = new ArrayList<>();
        List<Long> duplicates = new ArrayList<>();
        for (Inbox subscriber : subscribers) {
            long[] counts = new long[2];
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> {
                counts[0] = missing(acked, subscriber.messages);
                return counts[0] == 0;
            });
            missing.add(counts[0]);
            duplicates.add((long) subscriber.messages.size() - distinct(subscriber.messages));
        }
        System.out.printf("CLUSTER %s: published=%d acknowledged=%d; per subscriber that stayed connected: missing=%s "
                + "duplicates=%s%n", scenario, published, acknowledged, missing, duplicates);
        assertThat(acknowledged).isPositive();
        assertThat(missing).allSatisfy(m -> assertThat(m).isZero());
    }

    private static long missing(Map<String, Set<Long>> acked, List<Mqtt3Publish> received) {
        return missingPayloads(acked, received.stream().map(m -> new String(m.getPayloadAsBytes(), StandardCharsets.UTF_8)).toList());
    }

    /** How many acknowledged (device, sequence) pairs no {@code <device>:<seq>:…} payload received carries. */
    static long missingPayloads(Map<String, Set<Long>> acked, List<String> received) {
        Map<String, Set<Long>> seen = new java.util.HashMap<>();
        for (String payload : received) {
            String[] parts = payload.split(":");
            if (parts.length >= 2) {
                seen.computeIfAbsent(parts[0], d -> new java.util.HashSet<>()).add(Long.parseLong(parts[1]));
            }
        }
        long missing = 0;
        for (Map.Entry<String, Set<Long>> device : acked.entrySet()) {
            Set<Long> got = seen.getOrDefault(device.getKey(), Set.of());
            missing += device.getValue().stream().filter(seq -> !got.contains(seq)).count();
        }
        return missing;
    }

    private static long distinct(List<Mqtt3Publish> received) {
        return received.stream().map(m -> new String(m.getPayloadAsBytes(), StandardCharsets.UTF_8)).distinct().count();
    }

    private static void disconnectQuietly(Mqtt3BlockingClient client) {
        try {
            client.disconnect();
        } catch (RuntimeException ignored) {
            // gone with its replica
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    /** A subscriber and what it received. */
    record Inbox(Mqtt3BlockingClient client, List<Mqtt3Publish> messages) {
        Mqtt3Publish byTopic(String topic) {
            return messages.stream().filter(m -> m.getTopic().toString().equals(topic)).findFirst().orElseThrow();
        }
    }

    static Inbox subscribe(BridgeProcess replica, String filter, int qos) {
        Mqtt3BlockingClient client = connect(replica, "sub-" + UUID.randomUUID().toString().substring(0, 8));
        List<Mqtt3Publish> messages = new CopyOnWriteArrayList<>();
        client.toAsync().subscribeWith().topicFilter(filter).qos(MqttQos.fromCode(qos)).callback(messages::add).send().join();
        Inbox inbox = new Inbox(client, messages);
        inboxes.add(inbox);
        return inbox;
    }

    static Mqtt3BlockingClient connect(BridgeProcess replica, String clientId) {
        Mqtt3BlockingClient client = MqttClient.builder().useMqttVersion3().identifier(clientId).serverHost("127.0.0.1")
                .serverPort(replica.mqttPort()).buildBlocking();
        client.connect();
        clients.add(client);
        return client;
    }

    /**
     * Waits until a publish on {@code from} reaches {@code inbox} (its subscription has taken effect there): publishes a
     * QoS 0 probe to {@code probeTopic} every 50 ms, then removes the probes from the inbox. Returns the milliseconds
     * from the call (right after the SUBACK) to the first probe received.
     */
    static long awaitForwarding(BridgeProcess from, Inbox inbox, String probeTopic) {
        Mqtt3BlockingClient prober = connect(from, "probe-" + UUID.randomUUID().toString().substring(0, 8));
        long start = System.nanoTime();
        long[] firstAt = {0};
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
            prober.publishWith().topic(probeTopic).payload(utf8("probe")).qos(MqttQos.AT_MOST_ONCE).send();
            if (inbox.messages.stream().anyMatch(m -> m.getTopic().toString().equals(probeTopic))) {
                firstAt[0] = System.nanoTime();
                return true;
            }
            return false;
        });
        prober.disconnect();
        clients.remove(prober);
        // the probes reached other subscribers of the topic too: take them out of every inbox
        await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(1)).until(() -> true);
        for (Inbox any : inboxes) {
            any.messages.removeIf(m -> m.getTopic().toString().equals(probeTopic)
                    && new String(m.getPayloadAsBytes(), StandardCharsets.UTF_8).equals("probe"));
        }
        return TimeUnit.NANOSECONDS.toMillis(firstAt[0] - start);
    }

    static JsonNode cluster(BridgeProcess replica) throws Exception {
        return JSON.readTree(HTTP.send(HttpRequest.newBuilder(api(replica, "cluster")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }

    static Map<String, JsonNode> clientsOf(BridgeProcess replica) throws Exception {
        Map<String, JsonNode> byId = new ConcurrentHashMap<>();
        for (JsonNode client : JSON.readTree(HTTP.send(HttpRequest.newBuilder(api(replica, "clients")).build(),
                HttpResponse.BodyHandlers.ofString()).body())) {
            byId.put(client.path("id").asText(), client);
        }
        return byId;
    }

    static URI api(BridgeProcess replica, String path) {
        return URI.create("http://127.0.0.1:" + replica.httpPort() + "/api/v1/" + path);
    }

    static Admin admin() {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        return Admin.create(props);
    }

    /** Starts a bridge that is expected to fail its start, and returns its exit code and log. */
    static Processes.Result runToExit(BridgeProcess bridge) throws Exception {
        try {
            bridge.start();
        } catch (IllegalStateException expected) {
            // exited before MKB0001
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (bridge.isAlive() && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(100);
        }
        return new Processes.Result(bridge.isAlive() ? 0 : bridge.exitValue(), bridge.log());
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

}
