package io.mqttkafkabridge.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntFunction;

import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.message.subscribe.Mqtt3Subscribe;
import com.hivemq.client.mqtt.mqtt3.message.subscribe.Mqtt3Subscription;

import io.mqttkafkabridge.fault.BridgeProcess;
import io.mqttkafkabridge.fault.KafkaProcess;
import io.mqttkafkabridge.fault.Processes;

/**
 * The suite's scale phases, each as interleaved pairs:
 * <ul>
 * <li><b>fan-out</b>: one Kafka record on a downlink route to {@value #DEVICES} connected devices that all subscribe
 * to the same filter, against Mosquitto fanning one publish out to as many subscribers of the same load generator;
 * the time until the last device has it, and deliveries per second over a burst of {@value #FANOUT_BURST} messages,
 * at QoS 0 and QoS 1;</li>
 * <li><b>routes</b>: uplink throughput of a bridge with {@value #ROUTES} uplink routes (distinct filters) and
 * {@value #DEVICES} connected devices holding {@value #SUBSCRIPTIONS_PER_DEVICE} subscriptions each, against the
 * bridge with one route; and the memory that state takes.</li>
 * </ul>
 */
final class ScaleBenchmark {

    static final int DEVICES = Boolean.getBoolean("bench.quick") ? 1_000 : 10_000;
    static final int ROUTES = 10_000;
    static final int SUBSCRIPTIONS_PER_DEVICE = 10;
    static final int FANOUT_BURST = 10;
    static final String FANOUT_FILTER = "fleet/notice/+";
    /** The downlink routes of the fan-out: Kafka topic {@code bench-fanout-<qos>} → MQTT topic {@code fleet/notice/q<qos>}. */
    static final String FANOUT_KAFKA_TOPIC = "bench-fanout-";
    private static final Duration QUIET = Duration.ofSeconds(10);

    private final KafkaProcess kafka;
    private final Path dir;
    ScaleBenchmark(KafkaProcess kafka, Path dir) {
        this.kafka = kafka;
        this.dir = dir;
    }

    /** The environment of a bridge that serves the fan-out: one downlink route per QoS. */
    static void fanoutRoutes(BridgeProcess bridge) {
        for (int qos = 0; qos <= 1; qos++) {
            bridge.env("BRIDGE_DOWNLINK_ROUTES_FANOUT" + qos + "_KAFKA_TOPIC", FANOUT_KAFKA_TOPIC + qos)
                    .env("BRIDGE_DOWNLINK_ROUTES_FANOUT" + qos + "_MQTT_TOPIC", "fleet/notice/q" + qos)
                    .env("BRIDGE_DOWNLINK_ROUTES_FANOUT" + qos + "_QOS", Integer.toString(qos));
        }
    }

    // ---------------------------------------------------------------------------------------------- fan-out

    /** Deliveries of the fan-out's messages (by sequence number) to every subscriber, and the last arrival of each. */
    static final class Deliveries {
        private final AtomicIntegerArray count = new AtomicIntegerArray(4096);
        private final AtomicLongArray lastAt = new AtomicLongArray(4096);

        void add(ByteBuffer payload) {
            int seq = MqttLoad.seq(payload);
            if (seq >= 0 && seq < count.length()) {
                count.incrementAndGet(seq);
                lastAt.accumulateAndGet(seq, System.nanoTime(), Math::max);
            }
        }

        long delivered(int from, int to) {
            long sum = 0;
            for (int seq = from; seq < to; seq++) {
                sum += count.get(seq);
            }
            return sum;
        }

        long lastAt(int from, int to) {
            long last = 0;
            for (int seq = from; seq < to; seq++) {
                last = Math.max(last, lastAt.get(seq));
            }
            return last;
        }

        /** Waits until messages [from, to) reached every subscriber, or none arrived for {@link #QUIET}. */
        boolean await(int from, int to, long expected) throws InterruptedException {
            long last = -1;
            long changedAt = System.nanoTime();
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while (System.nanoTime() < deadline) {
                long now = delivered(from, to);
                if (now >= expected) {
                    return true;
                }
                if (now != last) {
                    last = now;
                    changedAt = System.nanoTime();
                } else if (System.nanoTime() - changedAt > QUIET.toNanos()) {
                    return false;
                }
                TimeUnit.MILLISECONDS.sleep(1);
            }
            return false;
        }
    }

    /** Sends message {@code seq} at {@code qos} to the fan-out's topic: a Kafka record for the bridge, a publish for Mosquitto. */
    interface Sender {
        void send(int qos, int seq) throws Exception;
    }

    /** One fan-out measurement: time to the last device for one message, and deliveries/s over a burst. */
    record Fanout(double lastDeviceMillis, double deliveriesPerSecond, long notDelivered) {
    }

    private int nextSeq;

    /** Connects {@value #DEVICES} subscribers, runs a warm-up and one measurement per QoS, disconnects; {QoS 0, QoS 1}. */
    Fanout[] fanout(int port, String prefix, Sender sender) throws Exception {
        Deliveries deliveries = new Deliveries();
        List<Mqtt3AsyncClient> subscribers = connect(port, prefix, DEVICES,
                client -> client.subscribeWith().topicFilter(FANOUT_FILTER).qos(MqttQos.AT_LEAST_ONCE)
                        .callback(p -> deliveries.add(p.getPayload().orElseThrow())).send());
        try {
            Fanout[] result = new Fanout[2];
            for (int qos = 0; qos <= 1; qos++) {
                fanoutRun(sender, deliveries, qos); // warm-up
                result[qos] = fanoutRun(sender, deliveries, qos);
            }
            return result;
        } finally {
            BridgeBenchmark.disconnect(subscribers);
        }
    }

    private Fanout fanoutRun(Sender sender, Deliveries deliveries, int qos) throws Exception {
        if (nextSeq + 1 + FANOUT_BURST > 4096) {
            nextSeq = 0; // not reached in a run of the suite; a fresh Deliveries counts from 0
        }
        int single = nextSeq++;
        long sentAt = System.nanoTime();
        sender.send(qos, single);
        deliveries.await(single, single + 1, DEVICES);
        if (deliveries.delivered(single, single + 1) == 0) {
            throw new IllegalStateException("fan-out QoS " + qos + ": not one of " + DEVICES + " devices received message " + single);
        }
        double lastDevice = (deliveries.lastAt(single, single + 1) - sentAt) / 1e6;
        long missing = DEVICES - deliveries.delivered(single, single + 1);
        int from = nextSeq;
        nextSeq += FANOUT_BURST;
        long started = System.nanoTime();
        for (int seq = from; seq < nextSeq; seq++) {
            sender.send(qos, seq);
        }
        long expected = (long) DEVICES * FANOUT_BURST;
        deliveries.await(from, nextSeq, expected);
        long delivered = deliveries.delivered(from, nextSeq);
        if (delivered == 0) {
            throw new IllegalStateException("fan-out QoS " + qos + ": not one of " + expected + " deliveries arrived");
        }
        double perSecond = delivered / ((deliveries.lastAt(from, nextSeq) - started) / 1e9);
        return new Fanout(lastDevice, perSecond, missing + expected - delivered);
    }

    /** Sends the fan-out's messages as Kafka records, as fast as the producer takes them (linger.ms=0). */
    KafkaProducer<String, byte[]> fanoutProducer() {
        Properties props = new Properties();
        props.put("bootstrap.servers", kafka.bootstrapServers());
        props.put("acks", "all");
        props.put("linger.ms", "0");
        return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    }

    static Sender kafkaSender(KafkaProducer<String, byte[]> producer) {
        return (qos, seq) -> {
            producer.send(new ProducerRecord<>(FANOUT_KAFKA_TOPIC + qos, "notice", MqttLoad.payload(0, seq)));
            producer.flush();
        };
    }

    static Sender mqttSender(Mqtt3AsyncClient publisher) {
        return (qos, seq) -> publisher.publishWith().topic("fleet/notice/q" + qos).payload(MqttLoad.payload(0, seq))
                .qos(MqttQos.fromCode(qos)).send().get(30, TimeUnit.SECONDS);
    }

    // ---------------------------------------------------------------------------------------------- routes

    /** A properties file with {@value #ROUTES} uplink routes {@code fleet/<n>/+/data} → {@code bench-up}. */
    Path routesFile() throws IOException {
        StringBuilder routes = new StringBuilder();
        for (int i = 0; i < ROUTES; i++) {
            routes.append("bridge.uplink.routes.r").append(i).append(".mqtt-filter=fleet/").append(i).append("/+/data\n")
                    .append("bridge.uplink.routes.r").append(i).append(".kafka-topic=bench-up\n")
                    .append("bridge.uplink.routes.r").append(i).append(".key=topic-level:2\n");
        }
        return Files.writeString(dir.resolve("routes-" + System.nanoTime() + ".properties"), routes);
    }

    /** The topic of publisher {@code p} on the bridge with {@value #ROUTES} routes: each publisher its own route. */
    static IntFunction<String> routedTopic() {
        return p -> "fleet/" + ((p * 1_237 + 4_001) % ROUTES) + "/dev" + p + "/data";
    }

    /** {@value #DEVICES} devices, each subscribed to {@value #SUBSCRIPTIONS_PER_DEVICE} filters of its own. */
    List<Mqtt3AsyncClient> subscribedDevices(int port) throws Exception {
        return connect(port, "held", DEVICES, client -> {
            String id = client.getConfig().getClientIdentifier().map(Object::toString).orElseThrow();
            List<Mqtt3Subscription> filters = new ArrayList<>();
            for (int j = 0; j < SUBSCRIPTIONS_PER_DEVICE; j++) {
                filters.add(Mqtt3Subscription.builder().topicFilter("cmd/" + id + "/" + j + "/+").qos(MqttQos.AT_LEAST_ONCE).build());
            }
            return client.subscribe(Mqtt3Subscribe.builder().addSubscriptions(filters).build());
        });
    }

    /**
     * The live heap in MiB: the total of {@code jcmd GC.class_histogram}, which counts live objects after a full
     * collection. Not the bridge's heap meter after {@code GC.run}: reading it means scraping /q/metrics, and with
     * 10,000 routes that scrape allocates tens of MiB before the meter is read (one run read 112 MiB for the routes
     * where the histogram finds 40).
     */
    static double heapAfterGc(BridgeProcess bridge) throws Exception {
        return liveMiB(classHistogram(bridge));
    }

    /** The output of {@code jcmd GC.class_histogram} on the bridge (a full collection first). */
    static String classHistogram(BridgeProcess bridge) throws Exception {
        for (int attempt = 1; attempt <= 5; attempt++) {
            // jcmd may fail to attach (a JVM that just started)
            Processes.Result histogram = Processes.run(List.of(BridgeBenchmark.jcmd(), Long.toString(bridge.pid()),
                    "GC.class_histogram"), Path.of("."), Duration.ofSeconds(60));
            if (histogram.exit() == 0 && TOTAL.matcher(histogram.output()).find()) {
                return histogram.output();
            }
            TimeUnit.SECONDS.sleep(2);
        }
        throw new IllegalStateException("jcmd GC.class_histogram did not run on the bridge (pid " + bridge.pid() + ")");
    }

    private static final java.util.regex.Pattern TOTAL = java.util.regex.Pattern.compile("(?m)^Total\\s+\\d+\\s+(\\d+)\\s*$");

    /** The live heap in MiB of a class histogram: its total. */
    static double liveMiB(String histogram) {
        java.util.regex.Matcher total = TOTAL.matcher(histogram);
        if (!total.find()) {
            throw new IllegalArgumentException("no total in the class histogram");
        }
        return Long.parseLong(total.group(1)) / 1024.0 / 1024.0;
    }

    /** Uplink QoS 1 burst ({@link BridgeBenchmark#uplinkBurst}) with a warm-up of the same size; msg/s. */
    static double uplink(BridgeProcess bridge, KafkaProcess kafka, IntFunction<String> topic, boolean warmUp) throws Exception {
        List<Mqtt3AsyncClient> publishers = BridgeBenchmark.clients(bridge.mqttPort(), "rt", BridgeBenchmark.PUBLISHERS);
        try (KafkaConsumer<byte[], byte[]> consumer = BridgeBenchmark.consumer(kafka)) {
            int perPublisher = BridgeBenchmark.THROUGHPUT_MESSAGES / BridgeBenchmark.PUBLISHERS;
            if (warmUp) {
                BridgeBenchmark.uplinkBurst(publishers, topic, perPublisher, MqttQos.AT_LEAST_ONCE, consumer);
            }
            return BridgeBenchmark.uplinkBurst(publishers, topic, perPublisher, MqttQos.AT_LEAST_ONCE, consumer);
        } finally {
            BridgeBenchmark.disconnect(publishers);
        }
    }

    // ---------------------------------------------------------------------------------------------- helpers

    interface Setup {
        CompletableFuture<?> apply(Mqtt3AsyncClient client);
    }

    /** Connects {@code count} clients in batches of 200 (clean session, keep-alive 300 s), each set up by {@code setup}. */
    static List<Mqtt3AsyncClient> connect(int port, String prefix, int count, Setup setup) throws Exception {
        List<Mqtt3AsyncClient> clients = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        for (int i = 0; i < count; i += 200) {
            if (System.nanoTime() > deadline) {
                BridgeBenchmark.disconnect(clients);
                throw new IllegalStateException(prefix + ": only " + clients.size() + " of " + count + " connected in 3 minutes");
            }
            List<CompletableFuture<?>> batch = new ArrayList<>();
            for (int j = i; j < Math.min(count, i + 200); j++) {
                Mqtt3AsyncClient client = MqttClient.builder().useMqttVersion3().identifier(prefix + "-" + j)
                        .serverHost("127.0.0.1").serverPort(port).buildAsync();
                clients.add(client);
                batch.add(connectOne(client, setup, prefix, 3));
            }
            CompletableFuture.allOf(batch.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        }
        return clients;
    }

    /**
     * CONNECT (and set up) one client, again after a failure up to {@code attempts} times in all: once in a complete
     * run, the 570th of 10,000 connections to Mosquitto, just after the 10,000 of the bridge's side closed, was reset.
     * A retry is printed; a client that fails every attempt fails the phase.
     */
    private static CompletableFuture<?> connectOne(Mqtt3AsyncClient client, Setup setup, String prefix, int attempts) {
        return client.connectWith().cleanSession(true).keepAlive(300).send().thenCompose(ack -> setup.apply(client))
                .handle((done, failure) -> {
                    if (failure == null) {
                        return CompletableFuture.completedFuture(done);
                    }
                    if (attempts <= 1) {
                        return CompletableFuture.failedFuture(failure);
                    }
                    System.out.println("CONNECT " + prefix + ": " + client.getConfig().getClientIdentifier().map(Object::toString)
                            .orElse("?") + " failed (" + failure + "), trying again");
                    return CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS))
                            .thenCompose(waited -> connectOne(client, setup, prefix, attempts - 1));
                }).thenCompose(f -> f);
    }
}
