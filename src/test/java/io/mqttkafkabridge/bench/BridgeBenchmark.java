package io.mqttkafkabridge.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;

import io.mqttkafkabridge.fault.BridgeProcess;
import io.mqttkafkabridge.fault.KafkaProcess;
import io.mqttkafkabridge.fault.Processes;
import io.mqttkafkabridge.it.KafkaTopics;

/**
 * The benchmark suite: {@code ./mvnw -q package -DskipTests exec:java@bench} (about 6 minutes). One real Kafka broker
 * (KRaft, its own JVM), the packaged bridge (its own JVM, {@value #BRIDGE_HEAP}: the heap a 768 MiB Kubernetes limit
 * gives it), and, in this JVM, the load generator ({@link MqttLoad}, HiveMQ MQTT client) and the Kafka clients that
 * read what arrived. Baselines in the same run with the same load generator: Moquette 0.17 alone and Mosquitto
 * (Debian package) pub → sub, and Kafka's own {@code ProducerPerformance} against the same broker. Prints one table;
 * {@code -Dbench.quick} runs a tenth of the messages (a smoke test of the suite itself). The {@code cluster} phase
 * ({@link ClusterBenchmark}, about 9 minutes, alone: {@code -Dbench.phases=cluster}) starts bridges of its own with the
 * cluster on and off.
 */
public final class BridgeBenchmark {

    static final String BRIDGE_HEAP = "-Xmx384m";
    private static final boolean QUICK = Boolean.getBoolean("bench.quick");
    static final int PUBLISHERS = 8;
    static final int WINDOW = 256;
    static final int THROUGHPUT_MESSAGES = QUICK ? 40_000 : 400_000;
    private static final int LATENCY_RATE = 5_000;
    private static final int LATENCY_SECONDS = QUICK ? 4 : 20;
    private static final int LATENCY_WARMUP_SECONDS = QUICK ? 2 : 5;
    private static final int CONNECTIONS = QUICK ? 1_000 : 10_000;
    static final Duration PHASE = Duration.ofMinutes(2);
    /**
     * {@code -Dbench.phases=latency,connections}: only those (ready, uplink, latency, downlink, profile, connections,
     * cluster, baselines; downlink-profile: the downlink phase with a profile of its throughput run, not by default).
     */
    private static final java.util.Set<String> PHASES = java.util.Set.of(System.getProperty("bench.phases",
            "ready,uplink,latency,downlink,profile,connections,cluster,baselines").split(","));
    /** {@code -Dbench.env=NAME=value,...}: extra environment of the bridge, to try a setting. */
    private static final String EXTRA_ENV = System.getProperty("bench.env", "");

    private final Path dir;
    private final List<String[]> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    private BridgeBenchmark(Path dir) {
        this.dir = dir;
    }

    public static void main(String[] args) throws Exception {
        try {
            new BridgeBenchmark(Processes.scratchDir("bench")).run();
        } catch (Throwable failure) {
            // exec:java would report it only after the load generator's non-daemon threads ended, which they may not
            failure.printStackTrace();
            System.exit(1);
        }
    }

    private void run() throws Exception {
        long suiteStart = System.nanoTime();
        try (KafkaProcess kafka = new KafkaProcess(dir)) {
            kafka.start();
            try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                    Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                // one partition each, as the broker's auto-creation would make them
                admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("bench-up", 1, (short) 1),
                        new org.apache.kafka.clients.admin.NewTopic("bench-down", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            if (PHASES.contains("ready")) {
                readiness(kafka);
            }
            double[] bridgeUplink = null;
            if (PHASES.contains("uplink") || PHASES.contains("latency") || PHASES.contains("downlink")
                    || PHASES.contains("downlink-profile") || PHASES.contains("profile")) {
            try (BridgeProcess bridge = bridge(kafka, "bridge")) {
                bridge.start();
                if (PHASES.contains("uplink")) {
                    bridgeUplink = uplinkThroughput(bridge, kafka);
                }
                if (PHASES.contains("latency")) {
                    uplinkLatency(bridge, kafka);
                }
                if (PHASES.contains("downlink") || PHASES.contains("downlink-profile")) {
                    downlink(bridge, kafka, PHASES.contains("downlink-profile"));
                }
                if (PHASES.contains("profile")) {
                    profile(bridge, kafka);
                }
            }
            }
            if (PHASES.contains("connections")) {
                // a bridge of its own: what the connections cost, not what the load before left in the heap
                try (BridgeProcess bridge = bridge(kafka, "connections")) {
                    bridge.start();
                    connections(bridge);
                }
            }
            if (PHASES.contains("cluster")) {
                new ClusterBenchmark(kafka, node -> clusterBridge(kafka, node), this::row, QUICK).run();
            }
            if (!PHASES.contains("baselines")) {
                print(suiteStart);
                return;
            }
            double[] moquette = pubSub("Moquette 0.17 standalone", moquette());
            double[] mosquitto = pubSub("Mosquitto " + mosquittoVersion(), mosquitto());
            double producerPerformance = producerPerformance(kafka);
            if (bridgeUplink == null) {
                print(suiteStart);
                return;
            }

            row("uplink QoS 1 ÷ Moquette standalone pub → sub QoS 1", ratio(bridgeUplink[1], moquette[1]), "≥ 0.80",
                    bridgeUplink[1] / moquette[1] >= 0.8);
            row("uplink QoS 1 ÷ Mosquitto pub → sub QoS 1", ratio(bridgeUplink[1], mosquitto[1]), "", null);
            row("uplink QoS 0 ÷ Moquette standalone pub → sub QoS 0", ratio(bridgeUplink[0], moquette[0]), "", null);
            row("uplink QoS 1 ÷ Kafka ProducerPerformance", ratio(bridgeUplink[1], producerPerformance), "", null);
        }
        print(suiteStart);
    }

    private void print(long suiteStart) {
        System.out.println();
        System.out.println("Benchmark " + LocalDate.now() + ", " + Runtime.getRuntime().availableProcessors() + " cores, "
                + System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ", "
                + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - suiteStart) + " s" + (QUICK ? " (quick)" : ""));
        System.out.println();
        System.out.println("| measurement | result | target | met |");
        System.out.println("| --- | ---: | ---: | :---: |");
        for (String[] row : rows) {
            System.out.println("| " + String.join(" | ", row) + " |");
        }
        System.out.println();
        notes.forEach(System.out::println);
    }

    private static String lost(long missing) {
        return missing == 0 ? ", none lost" : String.format(Locale.ROOT, ", %,d not delivered", missing);
    }

    private static String ratio(double ours, double baseline) {
        return String.format(Locale.ROOT, "%.2f", ours / baseline);
    }

    private void row(String what, String result, String target, Boolean met) {
        rows.add(new String[] {what, result, target, met == null ? "" : met ? "yes" : "**no**"});
        System.out.println("BENCH " + what + ": " + result + (target.isEmpty() ? "" : " (target " + target + ")"));
    }

    static String rate(double perSecond) {
        return String.format(Locale.ROOT, "%,.0f msg/s", perSecond);
    }

    /** The heap, and {@code -Dbench.jvm=-XX:...,...}: extra options of the bridge's JVM, to try one. */
    private static String[] jvmOptions() {
        List<String> options = new ArrayList<>(List.of(BRIDGE_HEAP));
        for (String option : System.getProperty("bench.jvm", "").split(",")) {
            if (!option.isBlank()) {
                options.add(option);
            }
        }
        return options.toArray(String[]::new);
    }

    private BridgeProcess bridge(KafkaProcess kafka, String name) throws IOException {
        BridgeProcess bridge = new BridgeProcess(Files.createDirectories(dir.resolve(name + "-" + System.nanoTime())), kafka.bootstrapServers(),
                "bench-up")
                .jvmOptions(jvmOptions())
                .env("BRIDGE_BROKER_CONNECT_RATE_PER_ADDRESS", "1000000")
                .env("BRIDGE_DOWNLINK_ROUTES_BENCH_KAFKA_TOPIC", "bench-down")
                .env("BRIDGE_DOWNLINK_ROUTES_BENCH_MQTT_TOPIC", "down/{key}")
                .env("BRIDGE_DOWNLINK_ROUTES_BENCH_QOS", "1")
                .env("MP_MESSAGING_INCOMING_DOWNLINK_AUTO_OFFSET_RESET", "earliest");
        for (String setting : EXTRA_ENV.split(",")) {
            if (setting.contains("=")) {
                bridge.env(setting.substring(0, setting.indexOf('=')), setting.substring(setting.indexOf('=') + 1));
            }
        }
        return bridge;
    }

    /** A bridge as {@link #bridge} configures it, with the cluster on as node {@code node}, or off when null. */
    private BridgeProcess clusterBridge(KafkaProcess kafka, String node) throws IOException {
        BridgeProcess bridge = bridge(kafka, node == null ? "cluster-off" : "cluster-" + node)
                .env("BRIDGE_API_AUTH", "none");
        if (node != null) {
            bridge.env("BRIDGE_CLUSTER_ENABLED", "true").env("BRIDGE_CLUSTER_NODE_ID", node);
        }
        return bridge;
    }

    // ---------------------------------------------------------------------------------------------- start-up

    private void readiness(KafkaProcess kafka) throws Exception {
        List<Long> without = startsUntilReady(kafka, false);
        List<Long> with = startsUntilReady(kafka, true);
        long median = median(with);
        row("start → ready, packaged JVM application without its class-data archive (median of " + without + " ms)",
                median(without) + " ms", "", null);
        row("start → ready, packaged JVM application as the README runs it, with its class-data archive (median of " + with
                + " ms)", median + " ms", "< 2,000 ms", median < 2_000);
    }

    /** Three starts to {@code /q/health/ready}, in ms, with or without the class-data archive the package phase wrote. */
    private List<Long> startsUntilReady(KafkaProcess kafka, boolean archive) throws Exception {
        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            try (BridgeProcess bridge = bridge(kafka, "start").classDataArchive(archive)) {
                millis.add(bridge.startUntilReady().toMillis());
                bridge.terminate(Duration.ofSeconds(30));
            }
        }
        return millis;
    }

    private static long median(List<Long> values) {
        return values.stream().sorted().toList().get(values.size() / 2);
    }

    // ---------------------------------------------------------------------------------------------- uplink

    /** {QoS 0, QoS 1} msg/s acknowledged by Kafka. */
    private double[] uplinkThroughput(BridgeProcess bridge, KafkaProcess kafka) throws Exception {
        double[] result = new double[2];
        List<Mqtt3AsyncClient> publishers = clients(bridge.mqttPort(), "up", PUBLISHERS);
        IntFunction<String> topic = p -> "load/dev" + p + "/data";
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(kafka)) {
            // warm-up, the same run as the one kept: the JIT compiles the hot path (the pub → sub baselines get the same)
            uplinkBurst(publishers, topic, THROUGHPUT_MESSAGES / PUBLISHERS, MqttQos.AT_LEAST_ONCE, consumer);
            for (MqttQos qos : List.of(MqttQos.AT_LEAST_ONCE, MqttQos.AT_MOST_ONCE)) {
                double perSecond = uplinkBurst(publishers, topic, THROUGHPUT_MESSAGES / PUBLISHERS, qos, consumer);
                result[qos.getCode()] = perSecond;
                row("uplink MQTT → Kafka, QoS " + qos.getCode() + ", " + PUBLISHERS + " devices (acknowledged by Kafka, none lost)",
                        rate(perSecond), "", null);
            }
        }
        disconnect(publishers);
        return result;
    }

    /** Publishes, waits until Kafka holds every message, checks that none is missing; returns msg/s. */
    static double uplinkBurst(List<Mqtt3AsyncClient> publishers, IntFunction<String> topic, int perPublisher, MqttQos qos,
            KafkaConsumer<byte[], byte[]> consumer) throws Exception {
        Map<TopicPartition, Long> before = KafkaTopics.endOffsets(consumer, "bench-up");
        long total = (long) perPublisher * publishers.size();
        long deadline = System.nanoTime() + PHASE.toNanos();
        MqttLoad.Burst burst = MqttLoad.burst(publishers, topic, perPublisher, qos, WINDOW, deadline);
        long inKafka = 0;
        long completedAt = 0;
        while (System.nanoTime() < deadline) {
            inKafka = sum(KafkaTopics.endOffsets(consumer, "bench-up")) - sum(before);
            if (inKafka >= total) {
                completedAt = System.nanoTime();
                break;
            }
            TimeUnit.MILLISECONDS.sleep(2);
        }
        MqttLoad.Received received = new MqttLoad.Received(publishers.size(), perPublisher, false);
        readInto(consumer, before, received, total, deadline);
        if (received.distinct() != total || burst.acknowledged() != total) {
            throw new IllegalStateException("uplink QoS " + qos.getCode() + ": published " + total + ", acknowledged "
                    + burst.acknowledged() + ", in Kafka " + inKafka + ", distinct " + received.distinct());
        }
        return total / ((completedAt - burst.started()) / 1e9);
    }

    private void uplinkLatency(BridgeProcess bridge, KafkaProcess kafka) throws Exception {
        int devices = 10;
        List<Mqtt3AsyncClient> publishers = clients(bridge.mqttPort(), "lat", devices);
        // a warm-up run at the same rate, not measured: on a fresh bridge the first records wait for the topic's
        // metadata and the JIT (a stall of about a second), and this JVM's Kafka consumer has its own to warm up
        MqttLoad.Received warmUp = pacedIntoKafka(kafka, publishers, LATENCY_WARMUP_SECONDS);
        System.out.println("LATENCY warm-up (the bridge's first records when this phase runs alone) slowest ms per second: "
                + warmUp.maxima(LATENCY_RATE));
        MqttLoad.Received received = pacedIntoKafka(kafka, publishers, LATENCY_SECONDS);
        disconnect(publishers);
        double[] p = received.percentilesMillis(0);
        System.out.println("LATENCY slowest ms (and how many over 10 ms) per second: " + received.maxima(LATENCY_RATE));
        row(String.format(Locale.ROOT, "uplink latency at %,d msg/s QoS 1, device publish → readable in Kafka: p50 / p99 / p99.9 / max",
                LATENCY_RATE), String.format(Locale.ROOT, "%.1f / %.1f / %.1f / %.1f ms", p[0], p[1], p[2], p[3]), "p99 < 10 ms",
                p[1] < 10);
    }

    /** {@link #LATENCY_RATE} msg/s QoS 1 for {@code seconds}, read back from Kafka as they arrive. */
    private static MqttLoad.Received pacedIntoKafka(KafkaProcess kafka, List<Mqtt3AsyncClient> publishers, int seconds)
            throws Exception {
        int devices = publishers.size();
        int perDevice = LATENCY_RATE * seconds / devices;
        MqttLoad.Received received = new MqttLoad.Received(devices, perDevice, true);
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(kafka)) {
            Map<TopicPartition, Long> from = KafkaTopics.endOffsets(consumer, "bench-up");
            Thread reader = new Thread(() -> readInto(consumer, from, received, (long) devices * perDevice,
                    System.nanoTime() + PHASE.toNanos()), "bench-kafka-reader");
            reader.start();
            TimeUnit.MILLISECONDS.sleep(500); // the consumer has its partitions
            MqttLoad.paced(publishers, p -> "load/lat" + p + "/data", perDevice, LATENCY_RATE, MqttQos.AT_LEAST_ONCE);
            reader.join(PHASE.toMillis());
        }
        return received;
    }

    // ---------------------------------------------------------------------------------------------- downlink

    /** With {@code profile}, Java Flight Recorder runs on the bridge during the throughput runs (notes: where CPU went). */
    private void downlink(BridgeProcess bridge, KafkaProcess kafka, boolean profile) throws Exception {
        int subscribers = 4;
        List<Mqtt3AsyncClient> clients = clients(bridge.mqttPort(), "down", subscribers);
        int perSubscriber = THROUGHPUT_MESSAGES / 2 / subscribers;
        MqttLoad.Received throughput;
        int latencyPerSubscriber = LATENCY_RATE * LATENCY_SECONDS / subscribers;
        MqttLoad.Received latency = new MqttLoad.Received(subscribers, latencyPerSubscriber, true);
        MqttLoad.Received[] current = {null};
        for (int s = 0; s < subscribers; s++) {
            subscribe(clients.get(s), "down/sub" + s, MqttQos.AT_LEAST_ONCE, payload -> current[0].add(payload));
        }
        Path recording = dir.resolve("downlink.jfr");
        if (profile) {
            jfr(bridge, "JFR.start", "name=downlink", "settings=profile");
        }
        // Two bursts, as the pub → sub baselines run (they keep their second QoS 1 run): the first, right after start-up,
        // pays for the JIT compiling the downlink path (it measured half the second's rate); both are reported.
        for (String run : List.of(" (first run after start-up, JIT cold)", "")) {
        throughput = new MqttLoad.Received(subscribers, perSubscriber, false);
        current[0] = throughput;
        try (KafkaProducer<String, byte[]> producer = producer(kafka, "5")) {
            // records as fast as the producer sends them
            long deadline = System.nanoTime() + PHASE.toNanos();
            long cpuBefore = cpuMillis(bridge.pid());
            long started = System.nanoTime();
            for (int seq = 0; seq < perSubscriber; seq++) {
                for (int s = 0; s < subscribers; s++) {
                    producer.send(new ProducerRecord<>("bench-down", "sub" + s, MqttLoad.payload(s, seq)));
                }
            }
            producer.flush();
            boolean all = throughput.await((long) subscribers * perSubscriber, 20_000, deadline);
            double perSecond = throughput.distinct() / ((throughput.lastAt() - started) / 1e9);
            long cpu = cpuMillis(bridge.pid()) - cpuBefore;
            row("downlink Kafka → MQTT, QoS 1, " + subscribers + " subscribed devices" + run + (all ? " (none lost)" : " (**"
                    + ((long) subscribers * perSubscriber - throughput.distinct()) + " missing**)"), rate(perSecond), "", null);
            // what the bridge spent, whatever else ran on the machine meanwhile
            row("downlink bridge CPU time per record (user + system, whole process)" + run,
                    String.format(Locale.ROOT, "%.1f µs", cpu * 1000.0 / Math.max(1, throughput.distinct())), "", null);
        }
        }
        if (profile) {
            jfr(bridge, "JFR.stop", "name=downlink", "filename=" + recording.toAbsolutePath());
            notes.add("Profile of the bridge during the two QoS 1 downlink throughput runs (" + recording + "):");
            notes.add("");
            notes.addAll(JfrTop.summary(recording, 15));
            notes.add("");
        }
        current[0] = latency;
        try (KafkaProducer<String, byte[]> producer = producer(kafka, "0")) {
            long start = System.nanoTime();
            long total = (long) subscribers * latencyPerSubscriber;
            int[] next = new int[subscribers];
            long sent = 0;
            while (sent < total && System.nanoTime() - start < PHASE.toNanos()) {
                long due = Math.min(total, (System.nanoTime() - start) * LATENCY_RATE / 1_000_000_000L);
                for (; sent < due; sent++) {
                    int s = (int) (sent % subscribers);
                    producer.send(new ProducerRecord<>("bench-down", "sub" + s, MqttLoad.payload(s, next[s]++)));
                }
                TimeUnit.MICROSECONDS.sleep(500);
            }
            latency.await(total, 10_000, System.nanoTime() + PHASE.toNanos());
        }
        disconnect(clients);
        double[] p = latency.percentilesMillis(LATENCY_RATE);
        row(String.format(Locale.ROOT, "downlink latency at %,d msg/s QoS 1, Kafka send → device: p50 / p99 / p99.9 / max", LATENCY_RATE),
                String.format(Locale.ROOT, "%.1f / %.1f / %.1f / %.1f ms", p[0], p[1], p[2], p[3]), "", null);
    }

    // ---------------------------------------------------------------------------------------------- connections

    private void connections(BridgeProcess bridge) throws Exception {
        TimeUnit.SECONDS.sleep(3);
        long rssBefore = rssKiB(bridge.pid());
        List<Mqtt3AsyncClient> idle = new ArrayList<>();
        long deadline = System.nanoTime() + PHASE.toNanos();
        try {
            for (int i = 0; i < CONNECTIONS && System.nanoTime() < deadline; i += 200) {
                List<java.util.concurrent.CompletableFuture<?>> batch = new ArrayList<>();
                for (int j = i; j < Math.min(CONNECTIONS, i + 200); j++) {
                    Mqtt3AsyncClient client = com.hivemq.client.mqtt.MqttClient.builder().useMqttVersion3().identifier("idle-" + j)
                            .serverHost("127.0.0.1").serverPort(bridge.mqttPort()).buildAsync();
                    idle.add(client);
                    batch.add(client.connectWith().cleanSession(true).keepAlive(300).send());
                }
                java.util.concurrent.CompletableFuture.allOf(batch.toArray(java.util.concurrent.CompletableFuture[]::new))
                        .get(60, TimeUnit.SECONDS);
            }
            TimeUnit.SECONDS.sleep(3);
            double connected = bridge.metric("mqtt_clients_connected");
            long rssAfter = rssKiB(bridge.pid());
            double heapMiB = bridge.metric("jvm_memory_used_bytes{area=\"heap\"") / 1024 / 1024;
            row(String.format(Locale.ROOT, "idle connections held (of %,d opened; ulimit -n %s)", CONNECTIONS, ulimit()),
                    String.format(Locale.ROOT, "%,.0f", connected), "10,000", connected >= 10_000);
            row(String.format(Locale.ROOT, "bridge RSS with them (heap used %.0f MiB)", heapMiB),
                    String.format(Locale.ROOT, "%,.0f MiB", rssAfter / 1024.0), "< 1,024 MiB", rssAfter < 1024 * 1024);
            row(String.format(Locale.ROOT, "RSS per connection ((RSS after − before) ÷ connections; before: %,.0f MiB)",
                    rssBefore / 1024.0), String.format(Locale.ROOT, "%.1f KiB", (rssAfter - rssBefore) / connected), "", null);
        } finally {
            idle.forEach(c -> c.disconnect());
        }
        TimeUnit.SECONDS.sleep(2);
    }

    /** CPU time (user + system) of a process so far, from /proc (clock ticks of 10 ms). */
    private static long cpuMillis(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        // fields after the command name (which may hold spaces) in parentheses: utime and stime are the 12th and 13th
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10;
    }

    private static long rssKiB(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS for " + pid);
    }

    private static String ulimit() {
        try {
            return Processes.run(List.of("sh", "-c", "ulimit -n"), Path.of("."), Duration.ofSeconds(5)).output().trim();
        } catch (Exception e) {
            return "?";
        }
    }

    // ---------------------------------------------------------------------------------------------- profile

    /** Runs a JFR diagnostic command ({@code jcmd <pid> ...}) on the bridge. */
    private void jfr(BridgeProcess bridge, String... command) throws Exception {
        List<String> line = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(bridge.pid())));
        line.addAll(List.of(command));
        Processes.run(line, dir, Duration.ofSeconds(60));
    }

    /** A QoS 1 uplink burst with Java Flight Recorder on the bridge; prints where its CPU time went. */
    private void profile(BridgeProcess bridge, KafkaProcess kafka) throws Exception {
        Path recording = dir.resolve("uplink.jfr");
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        String pid = Long.toString(bridge.pid());
        Processes.run(List.of(jcmd, pid, "JFR.start", "name=bench", "settings=profile"), dir, Duration.ofSeconds(30));
        List<Mqtt3AsyncClient> publishers = clients(bridge.mqttPort(), "prof", PUBLISHERS);
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(kafka)) {
            uplinkBurst(publishers, p -> "load/prof" + p + "/data", THROUGHPUT_MESSAGES / PUBLISHERS, MqttQos.AT_LEAST_ONCE, consumer);
        }
        disconnect(publishers);
        Processes.run(List.of(jcmd, pid, "JFR.stop", "name=bench", "filename=" + recording.toAbsolutePath()), dir,
                Duration.ofSeconds(60));
        notes.add("Profile of the bridge during a QoS 1 uplink burst (" + recording + "):");
        notes.add("");
        notes.addAll(JfrTop.summary(recording, 15));
        notes.add("");
    }

    // ---------------------------------------------------------------------------------------------- baselines

    /** A broker process for the pub → sub baselines; closing it stops it. */
    private record Broker(Process process, int port) implements AutoCloseable {
        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    private Broker moquette() throws Exception {
        int port = Processes.freePort();
        Path log = dir.resolve("moquette.log");
        Process process = new ProcessBuilder(Processes.java(), BRIDGE_HEAP, "-cp", Processes.classpath(),
                MoquetteStandaloneMain.class.getName(), Integer.toString(port)).redirectErrorStream(true).redirectOutput(log.toFile())
                .start();
        Processes.awaitLog(process, log, "READY", Duration.ofSeconds(60));
        return new Broker(process, port);
    }

    private Broker mosquitto() throws Exception {
        int port = Processes.freePort();
        Path conf = dir.resolve("mosquitto.conf");
        Files.writeString(conf, String.join("\n", "listener " + port + " 127.0.0.1", "allow_anonymous true", "persistence false",
                "max_queued_messages 10000000", "log_dest stdout", ""));
        Path log = dir.resolve("mosquitto.log");
        Process process = new ProcessBuilder("mosquitto", "-c", conf.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try (java.net.Socket probe = new java.net.Socket("127.0.0.1", port)) {
                return new Broker(process, port);
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline || !process.isAlive()) {
                    process.destroyForcibly();
                    throw new IllegalStateException("mosquitto did not start: " + Files.readString(log));
                }
                TimeUnit.MILLISECONDS.sleep(20);
            }
        }
    }

    private static String mosquittoVersion() {
        try {
            String out = Processes.run(List.of("mosquitto", "-h"), Path.of("."), Duration.ofSeconds(5)).output();
            return out.lines().findFirst().map(l -> l.replaceAll(".*version ", "").trim()).orElse("");
        } catch (Exception e) {
            return "";
        }
    }

    /** {QoS 0, QoS 1} msg/s from {@link #PUBLISHERS} publishers to as many subscribers, one topic per pair. */
    private double[] pubSub(String name, Broker broker) throws Exception {
        double[] result = new double[2];
        long[] missing = new long[2];
        try (broker) {
            List<Mqtt3AsyncClient> publishers = clients(broker.port(), "pub", PUBLISHERS);
            List<Mqtt3AsyncClient> subscribers = clients(broker.port(), "sub", PUBLISHERS);
            int run = 0;
            for (MqttQos qos : List.of(MqttQos.AT_LEAST_ONCE, MqttQos.AT_LEAST_ONCE, MqttQos.AT_MOST_ONCE)) {
                // topics of its own per run: what a broker still delivers of the run before reaches no one
                String prefix = "bench/r" + (run++) + "/p";
                IntFunction<String> topic = p -> prefix + p;
                int perPublisher = THROUGHPUT_MESSAGES / PUBLISHERS;
                MqttLoad.Received received = new MqttLoad.Received(PUBLISHERS, perPublisher, false);
                for (int p = 0; p < PUBLISHERS; p++) {
                    subscribe(subscribers.get(p), topic.apply(p), qos, received::add);
                }
                long deadline = System.nanoTime() + PHASE.toNanos();
                MqttLoad.Burst burst = MqttLoad.burst(publishers, topic, perPublisher, qos, WINDOW, deadline);
                long total = (long) perPublisher * PUBLISHERS;
                boolean all = received.await(total, 10_000, deadline);
                double perSecond = received.distinct() / ((received.lastAt() - burst.started()) / 1e9);
                result[qos.getCode()] = perSecond; // the second QoS 1 run (the first warms the JIT) is the one kept
                missing[qos.getCode()] = total - received.distinct();
                for (int p = 0; p < PUBLISHERS; p++) {
                    try {
                        subscribers.get(p).unsubscribeWith().topicFilter(topic.apply(p)).send().get(10, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                        System.out.println("BASELINE " + name + ": unsubscribe of " + topic.apply(p) + " failed (" + e
                                + "); the next run uses topics of its own");
                    }
                }
                System.out.println("BASELINE " + name + " QoS " + qos.getCode() + ": " + rate(perSecond)
                        + (all ? "" : ", " + (total - received.distinct()) + " missing"));
                if (!all && qos == MqttQos.AT_LEAST_ONCE) {
                    notes.add(name + " QoS 1: " + (total - received.distinct()) + " of " + total + " messages missing");
                }
            }
            disconnect(publishers);
            disconnect(subscribers);
        }
        row(name + " pub → sub, QoS 1, " + PUBLISHERS + " publishers → " + PUBLISHERS + " subscribers (baseline)"
                + lost(missing[1]), rate(result[1]), "", null);
        row(name + " pub → sub, QoS 0 (baseline)" + lost(missing[0]), rate(result[0]), "", null);
        return result;
    }

    /** Kafka's own ProducerPerformance with the bridge's producer settings, against the same broker; records/s. */
    private double producerPerformance(KafkaProcess kafka) throws Exception {
        int records = QUICK ? 200_000 : 2_000_000;
        Processes.Result result = Processes.run(List.of(Processes.java(), "-Xmx512m", "-cp", Processes.classpath(),
                "org.apache.kafka.tools.ProducerPerformance", "--topic", "bench-producer-perf", "--num-records", Integer.toString(records),
                "--record-size", Integer.toString(MqttLoad.PAYLOAD_BYTES), "--throughput", "-1", "--producer-props",
                "bootstrap.servers=" + kafka.bootstrapServers(), "acks=all", "enable.idempotence=true", "linger.ms=2",
                "compression.type=lz4"), dir, PHASE);
        String summary = result.output().lines().filter(l -> l.contains("records sent")).reduce((a, b) -> b)
                .orElseThrow(() -> new IllegalStateException("ProducerPerformance printed no summary:\n" + result.output()));
        double perSecond = Double.parseDouble(summary.replaceAll(".*records sent, ([0-9.]+) records/sec.*", "$1"));
        row("Kafka ProducerPerformance, 100-byte records, acks=all, idempotent, linger.ms=2, lz4 (baseline)", rate(perSecond), "", null);
        notes.add("ProducerPerformance: " + summary.trim());
        return perSecond;
    }

    // ---------------------------------------------------------------------------------------------- helpers

    static List<Mqtt3AsyncClient> clients(int port, String prefix, int count) {
        List<Mqtt3AsyncClient> clients = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            clients.add(MqttLoad.connect(port, prefix + "-" + i + "-" + System.nanoTime()));
        }
        return clients;
    }

    static void disconnect(List<Mqtt3AsyncClient> clients) {
        for (Mqtt3AsyncClient client : clients) {
            try {
                client.disconnect().get(10, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // gone already
            }
        }
    }

    /**
     * Subscribes, trying again: Moquette 0.17 alone (the standalone baseline; the bridge holds such packets) drops a
     * connection whose SUBSCRIBE it reads before its CONNACK write completed.
     */
    static void subscribe(Mqtt3AsyncClient client, String filter, MqttQos qos, java.util.function.Consumer<ByteBuffer> sink)
            throws Exception {
        Exception last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                if (!client.getState().isConnected()) {
                    client.connectWith().cleanSession(true).keepAlive(60).send().get(10, TimeUnit.SECONDS);
                }
                client.subscribeWith().topicFilter(filter).qos(qos).callback(p -> sink.accept(p.getPayload().orElseThrow()))
                        .send().get(10, TimeUnit.SECONDS);
                return;
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                last = e;
            }
        }
        throw last;
    }

    static KafkaConsumer<byte[], byte[]> consumer(KafkaProcess kafka) {
        Properties props = new Properties();
        props.put("bootstrap.servers", kafka.bootstrapServers());
        return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static KafkaProducer<String, byte[]> producer(KafkaProcess kafka, String lingerMs) {
        Properties props = new Properties();
        props.put("bootstrap.servers", kafka.bootstrapServers());
        props.put("acks", "all");
        props.put("linger.ms", lingerMs);
        return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    }

    private static long sum(Map<TopicPartition, Long> offsets) {
        return offsets.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Reads from {@code from} until {@code expected} distinct messages arrived, or 10 s without any, or the deadline. */
    private static void readInto(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> from, MqttLoad.Received received,
            long expected, long deadlineNanos) {
        consumer.assign(from.keySet());
        from.forEach(consumer::seek);
        long quietSince = System.nanoTime();
        while (received.distinct() < expected && System.nanoTime() < deadlineNanos
                && System.nanoTime() - quietSince < TimeUnit.SECONDS.toNanos(10)) {
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                received.add(ByteBuffer.wrap(record.value()));
                quietSince = System.nanoTime();
            }
        }
    }
}
