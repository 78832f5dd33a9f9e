package io.mqttkafkabridge.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;

/** Kafka to devices across replicas and crashes, with a Kafka process and packaged bridges as separate processes. */
class DownlinkFaultIT {

    private static BridgeProcess bridge(Path dir, KafkaProcess kafka, String pod, String topic, boolean retain) {
        return new BridgeProcess(dir, kafka.bootstrapServers(), "unused-uplink")
                .env("HOSTNAME", pod)
                .env("BRIDGE_BROKER_PERSISTENCE", "memory")
                .env("BRIDGE_DOWNLINK_ROUTES_CMD_KAFKA_TOPIC", topic)
                .env("BRIDGE_DOWNLINK_ROUTES_CMD_MQTT_TOPIC", "cmd/{key}")
                .env("BRIDGE_DOWNLINK_ROUTES_CMD_RETAIN", Boolean.toString(retain))
                // new topics in every run: read them from the start
                .env("MP_MESSAGING_INCOMING_DOWNLINK_AUTO_OFFSET_RESET", "earliest");
    }

    /** Connects and subscribes to {@code cmd/#}. */
    private static Mqtt3AsyncClient subscriber(int port, Set<Integer> received) throws Exception {
        Mqtt3AsyncClient client = MqttClient.builder().useMqttVersion3()
                .identifier("sub-" + port + "-" + System.nanoTime()).serverHost("127.0.0.1").serverPort(port).buildAsync();
        client.connect().get(10, TimeUnit.SECONDS);
        client.subscribeWith().topicFilter("cmd/#").qos(MqttQos.AT_LEAST_ONCE)
                .callback(p -> received.add(Integer.parseInt(new String(p.getPayloadAsBytes(), StandardCharsets.US_ASCII))))
                .send().get(10, TimeUnit.SECONDS);
        return client;
    }

    private static KafkaProducer<String, String> producer(KafkaProcess kafka) {
        Properties props = new Properties();
        props.put("bootstrap.servers", kafka.bootstrapServers());
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    @Test
    void every_replica_delivers_every_record_to_its_own_devices() throws Exception {
        Path dir = Processes.scratchDir("replicas");
        try (KafkaProcess kafka = new KafkaProcess(dir)) {
            kafka.start();
            try (BridgeProcess a = bridge(Files.createDirectories(dir.resolve("a")), kafka, "bridge-0", "fault-replicas", false);
                    BridgeProcess b = bridge(Files.createDirectories(dir.resolve("b")), kafka, "bridge-1", "fault-replicas", false);
                    KafkaProducer<String, String> producer = producer(kafka)) {
                a.start();
                b.start();
                Set<Integer> atA = ConcurrentHashMap.newKeySet();
                Set<Integer> atB = ConcurrentHashMap.newKeySet();
                subscriber(a.mqttPort(), atA);
                subscriber(b.mqttPort(), atB);

                for (int i = 0; i < 100; i++) {
                    producer.send(new ProducerRecord<>("fault-replicas", "k" + i, Integer.toString(i)));
                }
                producer.flush();

                await().atMost(Duration.ofSeconds(60)).until(() -> atA.size() == 100 && atB.size() == 100);
                System.out.printf("FAULT downlink-replicas   produced=100 delivered-by-bridge-0=%d delivered-by-bridge-1=%d%n",
                        atA.size(), atB.size());
            }
        }
    }

    @Test
    void a_bridge_killed_mid_stream_resumes_from_the_last_committed_offset() throws Exception {
        Path dir = Processes.scratchDir("downlink-kill9");
        try (KafkaProcess kafka = new KafkaProcess(dir)) {
            kafka.start();
            try (BridgeProcess bridge = bridge(dir, kafka, "bridge-0", "fault-downlink", true);
                    KafkaProducer<String, String> producer = producer(kafka)) {
                bridge.start();
                Set<Integer> before = ConcurrentHashMap.newKeySet();
                Mqtt3AsyncClient first = subscriber(bridge.mqttPort(), before);
                for (int i = 0; i < 100; i++) {
                    producer.send(new ProducerRecord<>("fault-downlink", "k" + i, Integer.toString(i)));
                }
                producer.flush();
                await().atMost(Duration.ofSeconds(60)).until(() -> before.size() == 100);

                // when: the bridge dies, records keep coming, and it starts again
                bridge.kill();
                first.disconnect();
                for (int i = 100; i < 200; i++) {
                    producer.send(new ProducerRecord<>("fault-downlink", "k" + i, Integer.toString(i)));
                }
                producer.flush();
                bridge.start();

                // then: retained per key, every record from the last committed offset on is published again; none skipped
                Set<Integer> received = ConcurrentHashMap.newKeySet();
                Mqtt3AsyncClient second = subscriber(bridge.mqttPort(), received);
                await().atMost(Duration.ofSeconds(60)).until(() -> received.containsAll(range(100, 200)));
                TimeUnit.SECONDS.sleep(1);
                second.disconnect();
                Set<Integer> after = new TreeSet<>(received);
                int resumedFrom = after.stream().mapToInt(Integer::intValue).min().orElseThrow();
                System.out.printf("FAULT downlink-kill-9     produced=200 delivered-before-kill=%d delivered-after-restart=%d "
                        + "resumed-from=%d skipped=%d%n", before.size(), after.size(), resumedFrom,
                        200 - resumedFrom - after.size());
                assertThat(after).containsAll(range(resumedFrom, 200));
                assertThat(resumedFrom).isLessThanOrEqualTo(100);
            }
        }
    }

    private static Set<Integer> range(int from, int to) {
        Set<Integer> set = new TreeSet<>();
        for (int i = from; i < to; i++) {
            set.add(i);
        }
        return set;
    }
}
