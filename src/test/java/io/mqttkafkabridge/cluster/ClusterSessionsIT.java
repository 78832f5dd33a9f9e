package io.mqttkafkabridge.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttClientTransportConfig;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.lifecycle.Mqtt3ClientConnectedContext;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;

import io.mqttkafkabridge.fault.BridgeProcess;
import io.mqttkafkabridge.fault.DeviceLoad;
import io.mqttkafkabridge.fault.KafkaProcess;
import io.mqttkafkabridge.fault.Processes;

/**
 * Persistent sessions (clean session 0) follow their device to any replica: three packaged bridges (a, b, c) with the
 * cluster on, and two more (d, e) in a second cluster with a short session expiry and a small queue limit, all on one
 * Kafka broker, all processes. Every device here is a real MQTT client that never sends SUBSCRIBE after it moved.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterSessionsIT {

    private static final String UPLINK_TOPIC = "cluster-sessions-it-uplink";
    private static final int TIGHT_QUEUE_LIMIT = 20;

    private static Path dir;
    private static KafkaProcess kafka;
    private static final List<BridgeProcess> replicas = new ArrayList<>();
    private static final List<BridgeProcess> tight = new ArrayList<>();
    private static final List<Mqtt3AsyncClient> opened = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void startClusters() throws Exception {
        dir = Processes.scratchDir("cluster-sessions-it");
        kafka = new KafkaProcess(Files.createDirectories(dir.resolve("kafka")));
        kafka.start();
        for (String node : List.of("a", "b", "c")) {
            replicas.add(replica("mqtt-kafka-bridge", node));
        }
        for (String node : List.of("d", "e")) {
            tight.add(replica("tight", node).env("BRIDGE_BROKER_SESSION_EXPIRY", "4s")
                    .env("BRIDGE_BROKER_MAX_QUEUED_MESSAGES", Integer.toString(TIGHT_QUEUE_LIMIT)));
        }
        for (BridgeProcess replica : all()) {
            replica.start();
        }
        for (BridgeProcess replica : all()) {
            replica.awaitReady();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> ClusterIT.cluster(replicas.get(0)).path("liveNodes").asInt() == 3
                && ClusterIT.cluster(tight.get(0)).path("liveNodes").asInt() == 2);
    }

    private static List<BridgeProcess> all() {
        List<BridgeProcess> all = new ArrayList<>(replicas);
        all.addAll(tight);
        return all;
    }

    private static BridgeProcess replica(String cluster, String node) throws Exception {
        Path folder = Files.createDirectories(dir.resolve(cluster + "-" + node));
        return new BridgeProcess(folder, kafka.bootstrapServers(), UPLINK_TOPIC)
                .env("BRIDGE_CLUSTER_ENABLED", "true").env("BRIDGE_CLUSTER_NAME", cluster).env("BRIDGE_CLUSTER_NODE_ID", node)
                .env("BRIDGE_CLUSTER_MESSAGES_PARTITIONS", "3").env("BRIDGE_API_AUTH", "none")
                .env("BRIDGE_CLUSTER_HEARTBEAT_INTERVAL", "1s").env("BRIDGE_CLUSTER_MEMBER_TIMEOUT", "4s");
    }

    @AfterAll
    static void stopClusters() throws Exception {
        for (Mqtt3AsyncClient client : opened) {
            try {
                client.disconnect().get(2, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // gone with its replica
            }
        }
        for (BridgeProcess replica : all()) {
            replica.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    // ------------------------------------------------------------------------------------------ 1. takeover

    @Test
    @Order(10)
    void an_offline_session_moves_to_the_replica_its_device_reconnects_to_with_its_queued_messages_in_order() throws Exception {
        BridgeProcess a = replicas.get(0);
        BridgeProcess b = replicas.get(1);
        BridgeProcess c = replicas.get(2);
        Device device = new Device("mover", a, false);
        assertThat(device.connect()).as("session present on the first connection").isFalse();
        device.subscribe("move/y/#", 2);
        device.subscribeAndGoOffline("move/x/#", c);
        double queuedBefore = a.metric("mqtt_queued_messages");
        Mqtt3BlockingClient publisher = publisher(c);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            String topic = i % 3 == 2 ? "move/y/" + (i % 2) : "move/x/" + (i % 2);
            String payload = topic + ":" + i;
            publisher.publishWith().topic(topic).payload(utf8(payload)).qos(i % 3 == 2 ? MqttQos.EXACTLY_ONCE : MqttQos.AT_LEAST_ONCE).send();
            expected.add(payload);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> a.metric("mqtt_queued_messages") >= queuedBefore + 60);

        Device moved = new Device("mover", b, false);
        long connectAt = System.nanoTime();
        assertThat(moved.connect()).as("session present after the move to b").isTrue();
        await().atMost(Duration.ofSeconds(20)).until(() -> moved.messages.size() >= 60);
        long firstMillis = TimeUnit.NANOSECONDS.toMillis(moved.firstAt - connectAt);
        assertThat(byTopic(moved.payloads())).as("every queued message, in order per topic").isEqualTo(byTopic(expected));
        assertThat(moved.payloads()).as("nothing twice").doesNotHaveDuplicates();

        for (int i = 0; i < 5; i++) {
            publisher.publishWith().topic("move/x/0").payload(utf8("after:" + i)).qos(MqttQos.AT_LEAST_ONCE).send();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> moved.payloads().stream().filter(p -> p.startsWith("after:")).count() == 5);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.metric("mqtt_queued_messages") <= queuedBefore);
        assertThat(a.log()).contains("MKB0711").contains("client mover handed over to node b");
        assertThat(b.log()).contains("MKB0712");
        assertThat(a.metric("bridge_cluster_sessions_handed_over_total")).isGreaterThanOrEqualTo(1);
        assertThat(b.metric("bridge_cluster_sessions_taken_over_total{how=\"handover\"")).isGreaterThanOrEqualTo(1);
        assertThat(b.metric("bridge_cluster_session_wait_seconds_count")).isGreaterThanOrEqualTo(1);
        System.out.printf("SESSION takeover of an offline session (a -> b): session present true; %d of 60 queued messages "
                + "(QoS 1 and 2) in order per topic, none twice, first %d ms after CONNECT; 5 of 5 published after the move "
                + "without SUBSCRIBE; a's queue back to %.0f%n", moved.messages.size() - 5, firstMillis, a.metric("mqtt_queued_messages"));
        moved.disconnect();
        publisher.disconnect();
    }

    @Test
    @Order(20)
    void a_connected_session_taken_over_brings_its_in_flight_messages_along() throws Exception {
        BridgeProcess a = replicas.get(0);
        BridgeProcess b = replicas.get(1);
        BridgeProcess c = replicas.get(2);
        Device device = new Device("flying", a, true); // never acknowledges: Moquette's window of 10 stays in flight
        device.connect();
        device.subscribe("flight/#", 1);
        device.awaitForwarding(c, "flight/probe");
        Mqtt3BlockingClient publisher = publisher(c);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            publisher.publishWith().topic("flight/1").payload(utf8("f" + i)).qos(MqttQos.AT_LEAST_ONCE).send();
            expected.add("f" + i);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> device.messages.size() == 10);
        await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(1)).until(() -> true);
        assertThat(device.messages).as("10 in flight, 5 queued behind them").hasSize(10);

        Device taker = new Device("flying", b, false);
        assertThat(taker.connect()).as("session present").isTrue();
        await().atMost(Duration.ofSeconds(20)).until(() -> taker.messages.size() >= 15);
        assertThat(taker.payloads()).as("the 10 in flight on a, resent first, then the 5 queued").isEqualTo(expected);
        await().atMost(Duration.ofSeconds(5)).until(() -> !device.client.getState().isConnected());
        System.out.printf("SESSION takeover of a connected session (a -> b): old connection closed; %d of 15 received on b "
                + "in order (10 were in flight on a, unacknowledged)%n", taker.messages.size());
        taker.disconnect();
        publisher.disconnect();
    }

    // ------------------------------------------------------------------------------------------ 2. crash

    @Test
    @Order(30)
    void after_a_kill_9_the_session_goes_on_elsewhere_and_what_the_dead_replica_held_follows_when_it_is_back() throws Exception {
        BridgeProcess a = replicas.get(0);
        BridgeProcess b = replicas.get(1);
        BridgeProcess c = replicas.get(2);
        new Device("crashing", a, false).connectSubscribeAndGoOffline("crash/#", c);
        Mqtt3BlockingClient publisher = publisher(c);
        List<String> before = publish(publisher, "crash/1", "before", 20);
        await().atMost(Duration.ofSeconds(20)).until(() -> a.metric("mqtt_queued_messages") >= 20);
        await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4)).until(() -> true); // the store saves every 2 s
        a.kill();
        long killedAt = System.nanoTime();
        List<String> between = publish(publisher, "crash/1", "between", 10);

        Device moved = new Device("crashing", b, false);
        long connectAt = System.nanoTime();
        assertThat(moved.connect()).as("session present on b, from the session's record").isTrue();
        long connackAt = System.nanoTime();
        long connectMillis = TimeUnit.NANOSECONDS.toMillis(connackAt - connectAt);
        List<String> after = new ArrayList<>();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            after.addAll(publish(publisher, "crash/2", "after" + after.size(), 1));
            assertThat(moved.payloads()).contains(after.get(0));
        });
        after.addAll(publish(publisher, "crash/2", "later", 9));
        await().atMost(Duration.ofSeconds(10)).until(() -> moved.payloads().containsAll(after));
        long afterMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - connackAt);
        assertThat(moved.payloads()).as("nothing the dead replica held, yet").doesNotContainAnyElementsOf(before);

        long restartAt = System.nanoTime();
        a.start();
        a.awaitReady();
        await().atMost(Duration.ofSeconds(60)).until(() -> moved.payloads().containsAll(before) && moved.payloads().containsAll(between));
        long heldMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartAt);
        assertThat(b.metric("bridge_cluster_sessions_taken_over_total{how=\"record\"")).isGreaterThanOrEqualTo(1);
        assertThat(b.metric("bridge_cluster_sessions_taken_over_total{how=\"late\"")).isGreaterThanOrEqualTo(1);
        List<String> everything = new ArrayList<>(before);
        everything.addAll(between);
        everything.addAll(after);
        int duplicates = moved.messages.size() - (int) moved.payloads().stream().distinct().count();
        assertThat(moved.payloads()).containsAll(everything);
        assertThat(byTopic(moved.payloads()).get("crash/1").stream().distinct().toList()).as("what a held, in order")
                .startsWith(before.toArray(String[]::new));
        System.out.printf("SESSION kill -9 of a: CONNECT on b answered in %d ms (%d ms after the kill), session present true; "
                + "published after the reconnect: %d of %d within %d ms of the CONNACK; held by a (20 queued before the kill) "
                + "and forwarded to a while it was down (10): %d of 30 within %d ms of a's restart; missing 0, duplicates %d%n",
                connectMillis, TimeUnit.NANOSECONDS.toMillis(connectAt - killedAt), after.size(), after.size(), afterMillis,
                before.size() + between.size(), heldMillis, duplicates);
        moved.disconnect();
        publisher.disconnect();
    }

    // ------------------------------------------------------------------------------------------ 3. expiry, 4. limit

    @Test
    @Order(40)
    void a_session_expires_once_wherever_it_lived() throws Exception {
        BridgeProcess d = tight.get(0);
        BridgeProcess e = tight.get(1);
        new Device("expiring", d, false).connectSubscribeAndGoOffline("expire/#", e);
        Device moved = new Device("expiring", e, false);
        assertThat(moved.connect()).as("moved to e").isTrue();
        moved.disconnect();
        Mqtt3BlockingClient publisher = publisher(d);
        publish(publisher, "expire/1", "queued", 3);
        await().atMost(Duration.ofSeconds(15)).until(() -> e.log().contains("MKB0713"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            double forwarded = d.metric("bridge_cluster_forwarded_total");
            publish(publisher, "expire/1", "gone", 1);
            pause(Duration.ofMillis(200));
            assertThat(d.metric("bridge_cluster_forwarded_total")).as("e's filter is withdrawn").isEqualTo(forwarded);
        });
        Device onD = new Device("expiring", d, false);
        assertThat(onD.connect()).as("session present on d after the expiry").isFalse();
        onD.disconnect();
        // that connection made a new, empty session on d: a clean-session connection ends it, then e is asked
        Device cleaner = new Device("expiring", d, false);
        cleaner.client.connectWith().cleanSession(true).send().join();
        cleaner.disconnect();
        pause(Duration.ofMillis(500));
        Device onE = new Device("expiring", e, false);
        assertThat(onE.connect()).as("session present on e after the expiry").isFalse();
        publish(publisher, "expire/1", "late", 3);
        await().pollDelay(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2)).until(() -> true);
        assertThat(onE.messages).as("no subscription left, no queued message left").isEmpty();
        System.out.printf("SESSION expiry (4 s, session moved d -> e, expired on e): MKB0713 on e; session present false on d "
                + "and on e; 0 of 3 queued and 0 of 3 later messages delivered; d forwards nothing for it any more%n");
        onE.disconnect();
        publisher.disconnect();
    }

    @Test
    @Order(50)
    void the_queue_limit_holds_for_a_session_wherever_its_messages_wait() throws Exception {
        BridgeProcess d = tight.get(0);
        BridgeProcess e = tight.get(1);
        new Device("limited", d, false).connectSubscribeAndGoOffline("limit/#", e);
        Mqtt3BlockingClient publisher = publisher(e);
        List<String> first = publish(publisher, "limit/1", "m", 15); // 15 wait on d
        await().atMost(Duration.ofSeconds(10)).until(() -> d.metric("mqtt_queued_messages") >= 15);
        Device moved = new Device("limited", e, true); // on e, takes the 15 over, acknowledges nothing, leaves
        assertThat(moved.connect()).isTrue();
        await().atMost(Duration.ofSeconds(10)).until(() -> moved.messages.size() == 10);
        moved.client.disconnect().get(5, TimeUnit.SECONDS);
        // on e now: 10 in flight (unacknowledged), 5 queued
        double droppedOnE = e.metric("mqtt_queue_dropped_total");
        double droppedOnD = d.metric("mqtt_queue_dropped_total");
        List<String> second = publish(publisher, "limit/1", "n", 25); // 15 more fit e's queue of 20, 10 are dropped
        await().atMost(Duration.ofSeconds(10)).until(() -> e.metric("mqtt_queue_dropped_total") >= droppedOnE + 10);
        Device back = new Device("limited", d, false); // d takes 30 over (10 in flight, 20 queued): 20 fit, 10 dropped
        assertThat(back.connect()).isTrue();
        await().atMost(Duration.ofSeconds(15)).until(() -> back.messages.size() >= TIGHT_QUEUE_LIMIT);
        await().pollDelay(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2)).until(() -> true);
        List<String> kept = new ArrayList<>(first);
        kept.addAll(second.subList(0, TIGHT_QUEUE_LIMIT - first.size()));
        assertThat(back.payloads()).as("the oldest %d, in order; the newest dropped", TIGHT_QUEUE_LIMIT).isEqualTo(kept);
        assertThat(e.metric("mqtt_queue_dropped_total") - droppedOnE).isEqualTo(10);
        assertThat(d.metric("mqtt_queue_dropped_total") - droppedOnD).isEqualTo(10);
        assertThat(e.log()).contains("MKB0015");
        assertThat(d.log()).contains("MKB0015");
        System.out.printf("SESSION queue limit %d across replicas: 15 queued on d moved to e (10 in flight, 5 queued), 25 more "
                + "published: e dropped the newest %.0f; back on d (30 handed over) d dropped the newest %.0f "
                + "(mqtt_queue_dropped_total, MKB0015 on both); the device got %d, the oldest, in order%n", TIGHT_QUEUE_LIMIT,
                e.metric("mqtt_queue_dropped_total") - droppedOnE, d.metric("mqtt_queue_dropped_total") - droppedOnD,
                back.messages.size());
        back.disconnect();
        publisher.disconnect();
    }

    // ------------------------------------------------------------------------------------------ 5. rolling restart

    @Test
    @Order(60)
    void a_rolling_restart_under_load_loses_no_acknowledged_message() throws Exception {
        List<Roamer> roamers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            roamers.add(new Roamer("roamer-" + i, i));
        }
        for (Roamer roamer : roamers) {
            roamer.awaitForwardingFromEveryReplica();
        }
        List<DeviceLoad> loads = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            loads.add(new DeviceLoad(replicas.get(i).mqttPort(), "roll-" + "abc".charAt(i) + "-", 2, 100, 20_000));
        }
        List<String> restarts = new ArrayList<>();
        long loadStart = System.nanoTime();
        try {
            pause(Duration.ofSeconds(3));
            for (BridgeProcess replica : replicas) {
                long at = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - loadStart);
                Duration stop = replica.terminate(Duration.ofSeconds(60));
                Duration start = replica.startUntilReady();
                restarts.add(String.format("SIGTERM at %d ms: %d ms to exit, %d ms to ready", at, stop.toMillis(), start.toMillis()));
                pause(Duration.ofSeconds(3));
            }
        } finally {
            loads.forEach(DeviceLoad::stop);
        }
        for (DeviceLoad load : loads) {
            load.settle();
        }
        Map<String, Set<Long>> acked = new java.util.HashMap<>();
        long published = 0;
        for (DeviceLoad load : loads) {
            acked.putAll(load.acked());
            published += load.published();
        }
        long acknowledged = acked.values().stream().mapToLong(Set::size).sum();
        List<Long> missing = new ArrayList<>();
        List<Long> duplicates = new ArrayList<>();
        List<String> reconnects = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        for (Roamer roamer : roamers) {
            long gap = ClusterIT.missingPayloads(acked, roamer.payloads());
            while (gap > 0 && System.nanoTime() < deadline) {
                pause(Duration.ofMillis(500));
                gap = ClusterIT.missingPayloads(acked, roamer.payloads());
            }
            if (gap > 0) {
                System.out.printf("SESSION rolling restart: %s misses %d: %s%n", roamer.id, gap, missingRanges(acked, roamer.payloads()));
                dumpMessagesTopic(missingSample(acked, roamer.payloads()));
            }
            missing.add(gap);
            duplicates.add(roamer.messages.size() - roamer.payloads().stream().distinct().count());
            reconnects.add(roamer.reconnects.get() + " reconnects, " + roamer.sessionLost.get() + " without session");
        }
        System.out.printf("SESSION rolling restart of a, b, c (%s) under load (6 devices, 300 msg/s QoS 1): published=%d "
                + "acknowledged=%d; per persistent subscriber: %s; missing=%s duplicates=%s%n", restarts, published,
                acknowledged, reconnects, missing, duplicates);
        assertThat(acknowledged).isGreaterThan(1_000);
        assertThat(missing).allSatisfy(m -> assertThat(m).isZero());
        assertThat(roamers).allSatisfy(r -> assertThat(r.sessionLost.get()).as(r.id + " reconnected with session present 0").isZero());
        loads.forEach(DeviceLoad::close);
        roamers.forEach(Roamer::close);
    }

    /**
     * A persistent-session subscriber to {@code load/#} that reconnects to the next replica whenever its connection
     * drops (as behind a load balancer), never subscribing again; counts the reconnects without a session.
     */
    private static final class Roamer {
        final String id;
        final List<Mqtt3Publish> messages = new CopyOnWriteArrayList<>();
        final AtomicInteger reconnects = new AtomicInteger();
        final AtomicInteger sessionLost = new AtomicInteger();
        final Mqtt3AsyncClient client;
        private final AtomicInteger next;
        private volatile boolean subscribed;

        Roamer(String id, int start) {
            this.id = id;
            this.next = new AtomicInteger(start);
            this.client = MqttClient.builder().useMqttVersion3().identifier(id).transportConfig(transport(start))
                    .addDisconnectedListener(context -> {
                        if (context.getReconnector().getAttempts() < 200) {
                            context.getReconnector().reconnect(true).resubscribeIfSessionExpired(false)
                                    .resubscribeIfSessionPresent(false).transportConfig(transport(next.incrementAndGet()))
                                    .delay(200, TimeUnit.MILLISECONDS);
                        }
                    })
                    .addConnectedListener(context -> {
                        reconnects.incrementAndGet();
                        if (subscribed && context instanceof Mqtt3ClientConnectedContext connected
                                && !connected.getConnAck().isSessionPresent()) {
                            sessionLost.incrementAndGet();
                        }
                    })
                    .buildAsync();
            client.publishes(MqttGlobalPublishFilter.ALL, messages::add);
            boolean present = client.connectWith().cleanSession(false).keepAlive(5).send().join().isSessionPresent();
            assertThat(present).isFalse();
            client.subscribeWith().topicFilter("load/#").qos(MqttQos.AT_LEAST_ONCE).send().join();
            opened.add(client);
            reconnects.set(0);
            subscribed = true;
        }

        private static MqttClientTransportConfig transport(int index) {
            return MqttClientTransportConfig.builder().serverAddress(new InetSocketAddress("127.0.0.1",
                    replicas.get(Math.floorMod(index, replicas.size())).mqttPort())).build();
        }

        void awaitForwardingFromEveryReplica() {
            for (BridgeProcess replica : replicas) {
                String probe = "load/probe-" + UUID.randomUUID().toString().substring(0, 8) + "/data";
                Mqtt3BlockingClient prober = publisher(replica);
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
                    prober.publishWith().topic(probe).payload(utf8("probe")).qos(MqttQos.AT_MOST_ONCE).send();
                    return messages.stream().anyMatch(m -> m.getTopic().toString().equals(probe));
                });
                prober.disconnect();
            }
            pause(Duration.ofMillis(300));
            messages.removeIf(m -> m.getTopic().toString().contains("/probe-"));
        }

        List<String> payloads() {
            return messages.stream().filter(m -> !m.getTopic().toString().contains("/probe-"))
                    .map(m -> new String(m.getPayloadAsBytes(), StandardCharsets.UTF_8)).toList();
        }

        void close() {
            try {
                client.disconnect().get(2, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // its replica may be gone
            }
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    /** A device with a persistent session (clean session 0) and what it received, in order. */
    static final class Device {
        final String id;
        final Mqtt3AsyncClient client;
        final List<Mqtt3Publish> messages = new CopyOnWriteArrayList<>();
        volatile long firstAt;

        /** @param holdAcknowledgements true: never sends PUBACK (the messages stay in flight on the broker) */
        Device(String id, BridgeProcess on, boolean holdAcknowledgements) {
            this.id = id;
            this.client = MqttClient.builder().useMqttVersion3().identifier(id).serverHost("127.0.0.1").serverPort(on.mqttPort())
                    .buildAsync();
            client.publishes(MqttGlobalPublishFilter.ALL, message -> {
                if (firstAt == 0) {
                    firstAt = System.nanoTime();
                }
                messages.add(message);
            }, holdAcknowledgements);
            opened.add(client);
        }

        /** Connects with clean session 0; returns session present. */
        boolean connect() {
            return client.connectWith().cleanSession(false).keepAlive(30).send().join().isSessionPresent();
        }

        void subscribe(String filter, int qos) {
            client.subscribeWith().topicFilter(filter).qos(MqttQos.fromCode(qos)).send().join();
        }

        void disconnect() throws Exception {
            client.disconnect().get(5, TimeUnit.SECONDS);
        }

        /** Connects (clean session 0), then {@link #subscribeAndGoOffline}. */
        void connectSubscribeAndGoOffline(String filter, BridgeProcess probeFrom) throws Exception {
            connect();
            subscribeAndGoOffline(filter, probeFrom);
        }

        /** Subscribes to {@code filter} at QoS 1, waits until a publish on {@code probeFrom} reaches it, disconnects. */
        void subscribeAndGoOffline(String filter, BridgeProcess probeFrom) throws Exception {
            subscribe(filter, 1);
            awaitForwarding(probeFrom, filter.replace("#", "probe"));
            disconnect();
        }

        /** Publishes QoS 0 probes on {@code from} until one arrives (the subscription is known there), then forgets them. */
        void awaitForwarding(BridgeProcess from, String probeTopic) {
            Mqtt3BlockingClient prober = publisher(from);
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
                prober.publishWith().topic(probeTopic).payload(utf8("probe")).qos(MqttQos.AT_MOST_ONCE).send();
                return messages.stream().anyMatch(m -> m.getTopic().toString().equals(probeTopic));
            });
            prober.disconnect();
            pause(Duration.ofMillis(300));
            messages.removeIf(m -> m.getTopic().toString().equals(probeTopic));
            firstAt = 0;
        }

        List<String> payloads() {
            return messages.stream().map(m -> new String(m.getPayloadAsBytes(), StandardCharsets.UTF_8)).toList();
        }
    }

    static Mqtt3BlockingClient publisher(BridgeProcess replica) {
        Mqtt3BlockingClient client = MqttClient.builder().useMqttVersion3()
                .identifier("pub-" + UUID.randomUUID().toString().substring(0, 8)).serverHost("127.0.0.1")
                .serverPort(replica.mqttPort()).buildBlocking();
        client.connect();
        return client;
    }

    /** Publishes {@code count} QoS 1 messages {@code <prefix><i>} to {@code topic}; returns their payloads. */
    static List<String> publish(Mqtt3BlockingClient publisher, String topic, String prefix, int count) {
        List<String> payloads = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String payload = prefix + i;
            publisher.publishWith().topic(topic).payload(utf8(payload)).qos(MqttQos.AT_LEAST_ONCE).send();
            payloads.add(payload);
        }
        return payloads;
    }

    /** The payloads grouped by their topic ({@code <topic>:<n>} payloads, or those of {@link #publish} by prefix). */
    private static Map<String, List<String>> byTopic(List<String> payloads) {
        return payloads.stream().collect(Collectors.groupingBy(ClusterSessionsIT::topicOf, LinkedHashMap::new, Collectors.toList()));
    }

    private static String topicOf(String payload) {
        int colon = payload.indexOf(':');
        if (colon > 0) {
            return payload.substring(0, colon);
        }
        return payload.startsWith("after") || payload.startsWith("later") ? "crash/2" : "crash/1";
    }

    /** Debugging aid: where the first missing messages went in the cluster's messages topic. */
    private static void dumpMessagesTopic(List<String> keys) {
        java.util.Properties props = new java.util.Properties();
        props.put("bootstrap.servers", kafka.bootstrapServers());
        try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
                props, new org.apache.kafka.common.serialization.ByteArrayDeserializer(), new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            for (String topic : List.of("mqtt-kafka-bridge.messages", UPLINK_TOPIC)) {
                List<org.apache.kafka.common.TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                        .map(i -> new org.apache.kafka.common.TopicPartition(topic, i.partition())).toList();
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
                Map<org.apache.kafka.common.TopicPartition, Long> ends = consumer.endOffsets(partitions);
                int found = 0;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (System.nanoTime() < deadline && partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
                    for (var record : consumer.poll(Duration.ofMillis(500))) {
                        String payload = new String(record.value() == null ? new byte[0] : record.value(), StandardCharsets.UTF_8);
                        String[] parts = payload.split(":");
                        if (parts.length >= 2 && keys.contains(parts[0] + ":" + parts[1]) && found++ < 20) {
                            StringBuilder headers = new StringBuilder();
                            record.headers().forEach(h -> headers.append(h.key()).append('=').append(new String(h.value(), StandardCharsets.UTF_8)).append(' '));
                            System.out.printf("SESSION debug %s p%d@%d ts=%d %s:%s %s%n", topic, record.partition(), record.offset(),
                                    record.timestamp(), parts[0], parts[1], headers);
                        }
                    }
                }
                System.out.printf("SESSION debug %s: %d of %s found%n", topic, found, keys);
            }
        }
    }

    /** Missing sequence numbers per device, as ranges. */
    private static String missingRanges(Map<String, Set<Long>> acked, List<String> received) {
        Set<String> seen = new java.util.HashSet<>();
        for (String payload : received) {
            String[] parts = payload.split(":");
            if (parts.length >= 2) {
                seen.add(parts[0] + ":" + parts[1]);
            }
        }
        StringBuilder out = new StringBuilder();
        for (var device : new java.util.TreeMap<>(acked).entrySet()) {
            long start = -1;
            long last = -2;
            for (long seq : device.getValue().stream().sorted().toList()) {
                if (seen.contains(device.getKey() + ":" + seq)) {
                    continue;
                }
                if (seq != last + 1) {
                    if (start >= 0) {
                        out.append(device.getKey()).append('[').append(start).append('-').append(last).append("] ");
                    }
                    start = seq;
                }
                last = seq;
            }
            if (start >= 0) {
                out.append(device.getKey()).append('[').append(start).append('-').append(last).append("] ");
            }
        }
        return out.toString();
    }

    /** Up to 10 missing (device:seq) of what {@code received} lacks. */
    private static List<String> missingSample(Map<String, Set<Long>> acked, List<String> received) {
        Set<String> seen = new java.util.HashSet<>();
        for (String payload : received) {
            String[] parts = payload.split(":");
            if (parts.length >= 2) {
                seen.add(parts[0] + ":" + parts[1]);
            }
        }
        return acked.entrySet().stream().flatMap(d -> d.getValue().stream().sorted().map(seq -> d.getKey() + ":" + seq))
                .filter(key -> !seen.contains(key)).limit(10).toList();
    }

    private static void pause(Duration duration) {
        await().pollDelay(duration).atMost(duration.plusSeconds(1)).until(() -> true);
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
