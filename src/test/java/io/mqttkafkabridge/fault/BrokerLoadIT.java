package io.mqttkafkabridge.fault;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;

import io.mqttkafkabridge.bench.MqttLoad;
import io.mqttkafkabridge.it.KafkaTopics;

/**
 * The broker under load, on the packaged bridge with its production defaults (h2 store on the data folder,
 * {@value BridgeProcess#HEAP}). Bounded: each phase has a deadline.
 * <ul>
 * <li>4 publishers send 125,000 QoS 1 messages each, as fast as the broker acknowledges them, to one persistent-session
 * subscriber on {@code fanin/#}, which goes offline for a while in the middle (its messages queue in its session) and
 * comes back. Every message must arrive, and a new client must still connect, publish and receive afterwards.</li>
 * <li>4 publishers flood QoS 0 messages (no window at all) into an uplink route: the broker must slow them down by
 * not reading (TCP back-pressure) rather than let its session loops' queues overflow, which drops messages.</li>
 * </ul>
 */
class BrokerLoadIT {

    private static final int PUBLISHERS = 4;
    private static final int PER_PUBLISHER = 125_000;
    private static final int TOTAL = PUBLISHERS * PER_PUBLISHER;
    /** QoS 1 messages each publisher has in flight at most (its own window, as a device's client library has). */
    private static final int IN_FLIGHT = 200;
    private static final Duration DEADLINE = Duration.ofMinutes(4);

    /**
     * The subscriber takes every message from before its CONNECT on: when it comes back, the broker resends its session's
     * messages right after the CONNACK (MQTT-4.4.0-1), before the SUBSCRIBE is out, and HiveMQ's client acknowledges
     * and drops a message no flow of its own is registered for ("No publish flow registered"; hivemq-mqtt-client#254).
     * With a callback on the subscription only, CI lost the 10 messages in flight at the reconnect this way.
     */
    private static Mqtt3AsyncClient subscriber(int port, MqttLoad.Received received) {
        Mqtt3AsyncClient client = MqttClient.builder().useMqttVersion3().identifier("fanin-subscriber")
                .serverHost("127.0.0.1").serverPort(port).buildAsync();
        client.publishes(MqttGlobalPublishFilter.ALL, p -> received.add(p.getPayload().orElseThrow()));
        client.connectWith().cleanSession(false).keepAlive(60).send().join();
        client.subscribeWith().topicFilter("fanin/#").qos(MqttQos.AT_LEAST_ONCE).send().join();
        return client;
    }

    @Test
    void a_persistent_subscriber_receives_500k_qos1_messages_from_4_publishers_and_new_clients_still_connect() throws Exception {
        Path dir = Processes.scratchDir("session-load");
        try (KafkaProcess kafka = new KafkaProcess(dir)) {
            kafka.start();
            try (BridgeProcess bridge = new BridgeProcess(dir, kafka.bootstrapServers(), "session-load")) {
                bridge.start();
                int port = bridge.mqttPort();
                long deadline = System.nanoTime() + DEADLINE.toNanos();
                MqttLoad.Received received = new MqttLoad.Received(PUBLISHERS, PER_PUBLISHER, false);
                Mqtt3AsyncClient subscriber = subscriber(port, received);

                AtomicLong acked = new AtomicLong();
                List<Mqtt3AsyncClient> publishers = new ArrayList<>();
                for (int p = 0; p < PUBLISHERS; p++) {
                    publishers.add(MqttLoad.connect(port, "fanin-publisher-" + p));
                }
                // as fast as the broker acknowledges, each publisher with at most IN_FLIGHT unacknowledged
                Thread senders = new Thread(() -> {
                    try {
                        MqttLoad.burst(publishers, p -> "fanin/" + p, PER_PUBLISHER, MqttQos.AT_LEAST_ONCE, IN_FLIGHT, deadline, acked);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, "fanin-publishers");
                senders.start();

                // offline in the middle: its messages queue in the session store meanwhile
                awaitUntil(() -> received.distinct() >= TOTAL / 5, deadline, "the subscriber to receive " + TOTAL / 5, received, acked, bridge);
                subscriber.disconnect().join();
                long offlineAt = received.distinct();
                TimeUnit.SECONDS.sleep(3);
                subscriber = subscriber(port, received);
                System.out.println("LOAD subscriber was offline from " + offlineAt + " received for 3 s, acked by then " + acked.get());

                senders.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                awaitUntil(() -> received.distinct() >= TOTAL, deadline, "every message to arrive", received, acked, bridge);
                System.out.println("LOAD published=" + TOTAL + " acked=" + acked.get() + " received=" + received.messages()
                        + " distinct=" + received.distinct() + " duplicates=" + received.duplicates()
                        + " queue-dropped=" + bridge.metric("mqtt_queue_dropped_total") + " reads-paused="
                        + bridge.metric("mqtt_reads_paused_total") + " queued-now=" + bridge.metric("mqtt_queued_messages"));

                // the broker still serves a new client
                long connectStart = System.nanoTime();
                Mqtt3BlockingClient late = MqttClient.builder().useMqttVersion3().identifier("late-client").serverHost("127.0.0.1")
                        .serverPort(port).buildBlocking();
                late.connectWith().cleanSession(true).send();
                long connectMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - connectStart);
                try (Mqtt3BlockingClient.Mqtt3Publishes publishes = late.publishes(MqttGlobalPublishFilter.ALL)) {
                    late.subscribeWith().topicFilter("late/echo").qos(MqttQos.AT_LEAST_ONCE).send();
                    late.publishWith().topic("late/echo").payload(new byte[] {42}).qos(MqttQos.AT_LEAST_ONCE).send();
                    assertThat(publishes.receive(10, TimeUnit.SECONDS)).as("a new client's own message comes back").isPresent();
                }
                System.out.println("LOAD a new client connected in " + connectMillis + " ms afterwards");
                late.disconnect();
                subscriber.disconnect().join();
                publishers.forEach(c -> c.disconnect().join());

                assertThat(acked.get()).as("PUBACKs").isEqualTo(TOTAL);
                assertThat(received.missing()).as("messages missing at the subscriber").isEmpty();
                assertThat(bridge.metric("mqtt_queue_dropped_total")).as("messages dropped from full session queues").isZero();
                assertThat(connectMillis).as("CONNECT after the load, ms").isLessThan(5_000);
            }
        }
    }

    @Test
    void a_qos0_flood_is_slowed_down_by_back_pressure_and_every_message_reaches_kafka() throws Exception {
        int perPublisher = 150_000;
        Path dir = Processes.scratchDir("qos0-flood");
        try (KafkaProcess kafka = new KafkaProcess(dir)) {
            kafka.start();
            try (BridgeProcess bridge = new BridgeProcess(dir, kafka.bootstrapServers(), "qos0-flood")) {
                // the gate journals each publish on the connection's event loop, which slows a flood down before the
                // session loops fall behind on this machine; smaller queues make them fall behind, so that the
                // back-pressure is exercised, and must still drop no command
                bridge.env("BRIDGE_BROKER_SESSION_LOOP_QUEUE_SIZE", "2048");
                bridge.start();
                long deadline = System.nanoTime() + DEADLINE.toNanos();
                List<Mqtt3AsyncClient> publishers = new ArrayList<>();
                List<CompletableFuture<?>> sent = new ArrayList<>();
                for (int p = 0; p < PUBLISHERS; p++) {
                    publishers.add(MqttLoad.connect(bridge.mqttPort(), "flood-" + p));
                }
                long start = System.nanoTime();
                for (int seq = 0; seq < perPublisher; seq++) {
                    for (int p = 0; p < PUBLISHERS; p++) {
                        CompletableFuture<Mqtt3Publish> future = publishers.get(p).publishWith().topic("load/flood-" + p + "/data")
                                .payload(MqttLoad.payload(p, seq)).qos(MqttQos.AT_MOST_ONCE).send();
                        if (seq == perPublisher - 1) {
                            sent.add(future);
                        }
                    }
                }
                CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
                long written = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

                long total = (long) PUBLISHERS * perPublisher;
                long inKafka = 0;
                try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(java.util.Map.of(
                        "bootstrap.servers", kafka.bootstrapServers(),
                        "key.deserializer", org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName(),
                        "value.deserializer", org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName()))) {
                    long grewAt = System.nanoTime();
                    while (System.nanoTime() < deadline && System.nanoTime() - grewAt < TimeUnit.SECONDS.toNanos(20)) {
                        long now = KafkaTopics.endOffsets(consumer, "qos0-flood").values().stream().mapToLong(Long::longValue).sum();
                        if (now > inKafka) {
                            inKafka = now;
                            grewAt = System.nanoTime();
                        }
                        if (inKafka >= total) {
                            break;
                        }
                        TimeUnit.MILLISECONDS.sleep(500);
                    }
                }
                double paused = bridge.metric("mqtt_reads_paused_total");
                long overflows = java.nio.file.Files.readAllLines(bridge.logFile()).stream()
                        .filter(line -> line.contains("Session command queue")).count();
                System.out.println("FLOOD qos0 published=" + total + " written in " + written + " ms, in Kafka " + inKafka
                        + ", reads paused " + paused + " times, command queue overflows in the log: " + overflows);
                publishers.forEach(c -> c.disconnect().join());

                assertThat(overflows).as("commands Moquette dropped (its log)").isZero();
                assertThat(paused).as("times the flood was paused").isPositive();
                assertThat(inKafka).as("QoS 0 messages in Kafka").isEqualTo(total);
            }
        }
    }

    private static void awaitUntil(java.util.function.BooleanSupplier condition, long deadline, String what, MqttLoad.Received received,
            AtomicLong acked, BridgeProcess bridge) throws Exception {
        long lastReport = System.nanoTime();
        long last = -1;
        long stalledSince = System.nanoTime();
        while (!condition.getAsBoolean()) {
            long now = System.nanoTime();
            if (now - lastReport > TimeUnit.SECONDS.toNanos(5)) {
                lastReport = now;
                System.out.println("LOAD acked=" + acked.get() + " received=" + received.messages() + " distinct=" + received.distinct());
            }
            long distinct = received.distinct();
            if (distinct != last) {
                last = distinct;
                stalledSince = now;
            }
            if (now > deadline || now - stalledSince > TimeUnit.SECONDS.toNanos(60)) {
                throw new AssertionError("gave up waiting for " + what + ": acked=" + acked.get() + " distinct="
                        + received.distinct() + " missing:" + received.missing() + "\nbridge log:\n" + bridge.logTail());
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }
}
