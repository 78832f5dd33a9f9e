package io.mqttkafkabridge.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

import org.apache.kafka.clients.consumer.KafkaConsumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;

import io.mqttkafkabridge.fault.BridgeProcess;
import io.mqttkafkabridge.fault.KafkaProcess;

/**
 * The {@code cluster} phase of {@link BridgeBenchmark} ({@code -Dbench.phases=cluster}): two packaged bridges with
 * the cluster on (nodes a and b) and one with it off, on the same Kafka broker, all running for the whole phase.
 * <ol>
 * <li>pub → sub QoS 1, publishers on a, one subscriber on b (cross-replica, through Kafka) against the subscriber on
 * a (single-replica), interleaved single, cross, single, cross...: throughput over a fixed count and latency at a
 * paced rate, each pair's ratio and the spread;</li>
 * <li>subscription propagation: a publisher on a sends a QoS 0 probe to T every 1 ms; a fresh client on b subscribes
 * to T; delay = b's SUBACK → first probe on b, for fresh topics;</li>
 * <li>uplink QoS 1 throughput (the uplink phase's measurement) on a (cluster on, b running, no remote subscriber)
 * against the bridge with the cluster off, interleaved off, on, off, on...</li>
 * <li>session takeover: a device with a persistent session and 1,000 QoS 1 messages queued for it reconnects, to the
 * replica that holds the session (the baseline, as on one broker) or to the other one (the session is handed over
 * through Kafka); time from CONNECT to the first queued message and to the last, interleaved same, other, same,
 * other... ({@code -Dbench.cluster.takeovers=N} pairs, default 20, after 3 pairs of warm-up).</li>
 * </ol>
 * {@code -Dbench.cluster.pairs=N} (default 3) sets the number of interleaved pairs; {@code -Dbench.cluster.parts=takeover}
 * runs only the parts named (pubsub, propagation, uplink, takeover).
 */
final class ClusterBenchmark {

    /** Creates a bridge with the cluster on as {@code node}, or off when {@code node} is null. */
    interface Replicas {
        BridgeProcess create(String node) throws IOException;
    }

    /** A row of the benchmark's table. */
    interface Rows {
        void row(String what, String result, String target, Boolean met);
    }

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PAIRS = Integer.getInteger("bench.cluster.pairs", 3);
    private static final int PUBLISHERS = BridgeBenchmark.PUBLISHERS;

    private final KafkaProcess kafka;
    private final Replicas replicas;
    private final Rows rows;
    private final int pubSubMessages;
    private final int latencyRate = 2_000;
    private final int latencySeconds;
    private final int probes;
    private final int uplinkMessages;
    private int run;
    private final boolean quickTakeovers;

    ClusterBenchmark(KafkaProcess kafka, Replicas replicas, Rows rows, boolean quick) {
        this.kafka = kafka;
        this.replicas = replicas;
        this.rows = rows;
        this.pubSubMessages = Integer.getInteger("bench.cluster.pubsub", quick ? 10_000 : 100_000);
        this.latencySeconds = Integer.getInteger("bench.cluster.latency-seconds", quick ? 4 : 15);
        this.probes = Integer.getInteger("bench.cluster.probes", quick ? 10 : 40);
        this.uplinkMessages = Integer.getInteger("bench.cluster.uplink", BridgeBenchmark.THROUGHPUT_MESSAGES);
        this.quickTakeovers = quick;
    }

    void run() throws Exception {
        try (BridgeProcess a = replicas.create("a"); BridgeProcess b = replicas.create("b"); BridgeProcess off = replicas.create(null)) {
            a.start();
            b.start();
            off.start();
            a.awaitReady();
            b.awaitReady();
            off.awaitReady();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (cluster(a).path("liveNodes").asInt() != 2 && System.nanoTime() < deadline) {
                TimeUnit.MILLISECONDS.sleep(100);
            }
            if (cluster(a).path("liveNodes").asInt() != 2) {
                throw new IllegalStateException("the cluster did not see 2 live nodes: " + cluster(a));
            }
            java.util.Set<String> parts = java.util.Set.of(System.getProperty("bench.cluster.parts",
                    "pubsub,propagation,uplink,takeover").split(","));
            if (parts.contains("pubsub")) {
                pubSub(a, b);
            }
            if (parts.contains("propagation")) {
                propagation(a, b);
            }
            if (parts.contains("uplink")) {
                uplink(a, b, off);
            }
            if (parts.contains("takeover")) {
                takeover(a, b);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- 1. pub → sub

    /** The outcome of one pub → sub run: throughput, and latency {p50, p99, p99.9, max} in ms. */
    private record PubSub(double perSecond, long missing, double[] latency, long latencyMissing) {
    }

    private void pubSub(BridgeProcess a, BridgeProcess b) throws Exception {
        List<Mqtt3AsyncClient> publishers = BridgeBenchmark.clients(a.mqttPort(), "cpub", PUBLISHERS);
        Mqtt3AsyncClient subscriberA = MqttLoad.connect(a.mqttPort(), "csub-a-" + System.nanoTime());
        Mqtt3AsyncClient subscriberB = MqttLoad.connect(b.mqttPort(), "csub-b-" + System.nanoTime());
        // warm-up, not reported, as long as a measured run: the JIT of both replicas on both paths (with a quarter of
        // the messages and 2 s, the cross-replica latency still fell from pair to pair: p50 45, 12, 3 ms)
        for (Mqtt3AsyncClient subscriber : List.of(subscriberA, subscriberB)) {
            PubSub warmUp = pubSubRun(publishers, subscriber, pubSubMessages, latencySeconds);
            System.out.println("CLUSTER warm-up " + (subscriber == subscriberA ? "single" : "cross") + ": "
                    + BridgeBenchmark.rate(warmUp.perSecond()) + String.format(Locale.ROOT, ", latency p50 %.1f p99 %.1f ms",
                            warmUp.latency()[0], warmUp.latency()[1]));
        }
        double[] throughputRatios = new double[PAIRS];
        double[] p50Ratios = new double[PAIRS];
        double[] p99Ratios = new double[PAIRS];
        double[][] crossP = new double[PAIRS][];
        for (int pair = 0; pair < PAIRS; pair++) {
            PubSub single = pubSubRun(publishers, subscriberA, pubSubMessages, latencySeconds);
            PubSub cross = pubSubRun(publishers, subscriberB, pubSubMessages, latencySeconds);
            throughputRatios[pair] = cross.perSecond() / single.perSecond();
            p50Ratios[pair] = cross.latency()[0] / single.latency()[0];
            p99Ratios[pair] = cross.latency()[1] / single.latency()[1];
            crossP[pair] = cross.latency();
            rows.row(String.format(Locale.ROOT, "cluster pub → sub QoS 1, %d publishers on A → 1 subscriber, %,d messages, pair %d: "
                    + "single-replica (sub on A) / cross-replica (sub on B)%s", PUBLISHERS, pubSubMessages, pair + 1,
                    lost(single.missing() + cross.missing())),
                    String.format(Locale.ROOT, "%s / %s, cross ÷ single %.2f", BridgeBenchmark.rate(single.perSecond()),
                            BridgeBenchmark.rate(cross.perSecond()), throughputRatios[pair]), "", null);
            rows.row(String.format(Locale.ROOT, "cluster pub → sub latency at %,d msg/s QoS 1, %d s, pair %d: single p50 / p99 / max "
                    + "— cross p50 / p99 / max%s", latencyRate, latencySeconds, pair + 1,
                    lost(single.latencyMissing() + cross.latencyMissing())),
                    String.format(Locale.ROOT, "%.1f / %.1f / %.1f — %.1f / %.1f / %.1f ms, cross ÷ single p50 %.2f, p99 %.2f",
                            single.latency()[0], single.latency()[1], single.latency()[3], cross.latency()[0], cross.latency()[1],
                            cross.latency()[3], p50Ratios[pair], p99Ratios[pair]), "", null);
        }
        rows.row("cluster pub → sub QoS 1 throughput, cross ÷ single over " + PAIRS + " pairs: min–max (median)",
                spread(throughputRatios), "", null);
        rows.row("cluster pub → sub latency, cross ÷ single over " + PAIRS + " pairs: p50 min–max (median); p99 min–max (median)",
                spread(p50Ratios) + "; " + spread(p99Ratios), "", null);
        double[] crossP50 = Arrays.stream(crossP).mapToDouble(p -> p[0]).toArray();
        double[] crossP99 = Arrays.stream(crossP).mapToDouble(p -> p[1]).toArray();
        rows.row("cluster cross-replica latency over " + PAIRS + " runs: p50 min–max; p99 min–max",
                String.format(Locale.ROOT, "%.1f–%.1f ms; %.1f–%.1f ms", min(crossP50), max(crossP50), min(crossP99), max(crossP99)),
                "", null);
        BridgeBenchmark.disconnect(publishers);
        BridgeBenchmark.disconnect(List.of(subscriberA, subscriberB));
    }

    /** A throughput burst of {@code messages}, then {@code seconds} at {@link #latencyRate}, to topics of their own. */
    private PubSub pubSubRun(List<Mqtt3AsyncClient> publishers, Mqtt3AsyncClient subscriber, int messages, int seconds)
            throws Exception {
        int perPublisher = messages / PUBLISHERS;
        String prefix = "cbench/r" + (run++);
        MqttLoad.Received throughput = new MqttLoad.Received(PUBLISHERS, perPublisher, false);
        String filter = prefix + "/t/#";
        subscribeAndAwaitRoute(publishers.get(0), subscriber, filter, prefix + "/t/probe", throughput);
        long deadline = System.nanoTime() + BridgeBenchmark.PHASE.toNanos();
        MqttLoad.Burst burst = MqttLoad.burst(publishers, p -> prefix + "/t/p" + p, perPublisher, MqttQos.AT_LEAST_ONCE,
                BridgeBenchmark.WINDOW, deadline);
        long total = (long) perPublisher * PUBLISHERS;
        throughput.await(total, 10_000, deadline);
        double perSecond = throughput.distinct() / ((throughput.lastAt() - burst.started()) / 1e9);
        unsubscribe(subscriber, filter);

        int latencyPerPublisher = latencyRate * seconds / PUBLISHERS;
        MqttLoad.Received latency = new MqttLoad.Received(PUBLISHERS, latencyPerPublisher, true);
        String latencyFilter = prefix + "/l/#";
        subscribeAndAwaitRoute(publishers.get(0), subscriber, latencyFilter, prefix + "/l/probe", latency);
        MqttLoad.paced(publishers, p -> prefix + "/l/p" + p, latencyPerPublisher, latencyRate, MqttQos.AT_LEAST_ONCE);
        long latencyTotal = (long) latencyPerPublisher * PUBLISHERS;
        latency.await(latencyTotal, 10_000, System.nanoTime() + BridgeBenchmark.PHASE.toNanos());
        unsubscribe(subscriber, latencyFilter);
        // the first second not counted (the route's first messages after the subscription)
        double[] p = latency.percentilesMillis(latencyRate);
        System.out.println("CLUSTER run " + prefix + " " + BridgeBenchmark.rate(perSecond) + String.format(Locale.ROOT,
                ", latency p50 %.1f p99 %.1f max %.1f ms; slowest ms per second: %s", p[0], p[1], p[3], latency.maxima(latencyRate)));
        return new PubSub(perSecond, total - throughput.distinct(), p, latencyTotal - latency.distinct());
    }

    /**
     * Subscribes {@code filter} and publishes probes (publisher number -1: not counted by {@code received}) on the
     * publishers' replica until one arrives: the subscription reached the publishers' replica.
     */
    private static void subscribeAndAwaitRoute(Mqtt3AsyncClient publisher, Mqtt3AsyncClient subscriber, String filter,
            String probeTopic, MqttLoad.Received received) throws Exception {
        BridgeBenchmark.subscribe(subscriber, filter, MqttQos.AT_LEAST_ONCE, received::add);
        byte[] probe = new byte[MqttLoad.PAYLOAD_BYTES];
        ByteBuffer.wrap(probe).putInt(-1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (received.messages() == 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no probe on " + probeTopic + " reached the subscriber of " + filter + " in 20 s");
            }
            publisher.publishWith().topic(probeTopic).payload(probe).qos(MqttQos.AT_MOST_ONCE).send();
            TimeUnit.MILLISECONDS.sleep(20);
        }
        TimeUnit.MILLISECONDS.sleep(200); // the probes still under way arrive before the run
    }

    private static void unsubscribe(Mqtt3AsyncClient subscriber, String filter) {
        try {
            subscriber.unsubscribeWith().topicFilter(filter).send().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            System.out.println("CLUSTER unsubscribe of " + filter + " failed (" + e + "); the next run uses topics of its own");
        }
    }

    // ---------------------------------------------------------------------------------------------- 2. propagation

    private void propagation(BridgeProcess a, BridgeProcess b) throws Exception {
        Mqtt3AsyncClient publisher = MqttLoad.connect(a.mqttPort(), "cprobe-pub-" + System.nanoTime());
        AtomicReference<String> topic = new AtomicReference<>();
        byte[] payload = new byte[16];
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();
        ticker.scheduleAtFixedRate(() -> {
            String t = topic.get();
            if (t != null) {
                publisher.publishWith().topic(t).payload(payload).qos(MqttQos.AT_MOST_ONCE).send();
            }
        }, 0, 1, TimeUnit.MILLISECONDS);
        List<Double> delays = new ArrayList<>();
        int timedOut = 0;
        try {
            for (int i = 0; i < probes; i++) {
                String t = "cprobe/" + System.nanoTime() + "/" + i;
                topic.set(t);
                TimeUnit.MILLISECONDS.sleep(20); // the probe runs on T before the subscription
                Mqtt3AsyncClient subscriber = MqttLoad.connect(b.mqttPort(), "cprobe-sub-" + i + "-" + System.nanoTime());
                CompletableFuture<Long> firstAt = new CompletableFuture<>();
                long subAckAt = subscriber.subscribeWith().topicFilter(t).qos(MqttQos.AT_MOST_ONCE)
                        .callback(p -> firstAt.complete(System.nanoTime())).send().thenApply(ack -> System.nanoTime())
                        .get(10, TimeUnit.SECONDS);
                try {
                    delays.add((firstAt.get(10, TimeUnit.SECONDS) - subAckAt) / 1e6);
                } catch (java.util.concurrent.TimeoutException e) {
                    timedOut++;
                }
                BridgeBenchmark.disconnect(List.of(subscriber));
            }
        } finally {
            topic.set(null);
            ticker.shutdownNow();
            ticker.awaitTermination(5, TimeUnit.SECONDS);
            BridgeBenchmark.disconnect(List.of(publisher));
        }
        double[] sorted = delays.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        System.out.println("CLUSTER propagation delays ms: " + Arrays.toString(delays.stream().map(d -> String.format(Locale.ROOT, "%.1f", d))
                .toArray()));
        rows.row(String.format(Locale.ROOT, "cluster subscription propagation, SUBACK on B → first probe (QoS 0, every 1 ms on A) on B, "
                + "%d fresh topics%s: p50 / p99 / max", probes, timedOut == 0 ? "" : ", **" + timedOut + " without a probe in 10 s**"),
                sorted.length == 0 ? "n/a" : String.format(Locale.ROOT, "%.1f / %.1f / %.1f ms", at(sorted, 0.5), at(sorted, 0.99),
                        sorted[sorted.length - 1]), "", null);
    }

    // ---------------------------------------------------------------------------------------------- 3. uplink

    private void uplink(BridgeProcess a, BridgeProcess b, BridgeProcess off) throws Exception {
        List<Mqtt3AsyncClient> onPublishers = BridgeBenchmark.clients(a.mqttPort(), "cup-on", PUBLISHERS);
        List<Mqtt3AsyncClient> offPublishers = BridgeBenchmark.clients(off.mqttPort(), "cup-off", PUBLISHERS);
        IntFunction<String> topic = p -> "load/cup" + p + "/data";
        int perPublisher = uplinkMessages / PUBLISHERS;
        double forwardedBefore = a.metric("bridge_cluster_forwarded_total");
        int remoteSubscriptions = remoteSubscriptions(a);
        double[] ratios = new double[PAIRS];
        try (KafkaConsumer<byte[], byte[]> consumer = BridgeBenchmark.consumer(kafka)) {
            // warm-up of both, not reported
            BridgeBenchmark.uplinkBurst(offPublishers, topic, perPublisher, MqttQos.AT_LEAST_ONCE, consumer);
            BridgeBenchmark.uplinkBurst(onPublishers, topic, perPublisher, MqttQos.AT_LEAST_ONCE, consumer);
            for (int pair = 0; pair < PAIRS; pair++) {
                double clusterOff = BridgeBenchmark.uplinkBurst(offPublishers, topic, perPublisher, MqttQos.AT_LEAST_ONCE, consumer);
                double clusterOn = BridgeBenchmark.uplinkBurst(onPublishers, topic, perPublisher, MqttQos.AT_LEAST_ONCE, consumer);
                ratios[pair] = clusterOn / clusterOff;
                rows.row(String.format(Locale.ROOT, "uplink MQTT → Kafka QoS 1, %d devices, %,d messages, pair %d: cluster off / cluster on "
                        + "(2 replicas, publishers on A, no remote subscriber)", PUBLISHERS, perPublisher * PUBLISHERS, pair + 1),
                        String.format(Locale.ROOT, "%s / %s, on ÷ off %.2f", BridgeBenchmark.rate(clusterOff),
                                BridgeBenchmark.rate(clusterOn), ratios[pair]), "", null);
            }
        }
        double forwarded = a.metric("bridge_cluster_forwarded_total") - forwardedBefore;
        BridgeBenchmark.disconnect(onPublishers);
        BridgeBenchmark.disconnect(offPublishers);
        double median = median(ratios);
        rows.row(String.format(Locale.ROOT, "uplink QoS 1, cluster on ÷ off over %d pairs: min–max (median); B's subscriptions seen on A: %d, "
                + "forwarded by A meanwhile: %.0f", PAIRS, remoteSubscriptions, forwarded), spread(ratios), "≥ 0.95 (median)",
                median >= 0.95);
    }

    // ---------------------------------------------------------------------------------------------- 4. takeover

    private void takeover(BridgeProcess a, BridgeProcess b) throws Exception {
        int pairs = Integer.getInteger("bench.cluster.takeovers", quickTakeovers ? 3 : 20);
        int queued = 1_000;
        String id = "ctake-" + System.nanoTime();
        String filter = "ctake/" + id + "/#";
        Mqtt3AsyncClient publisher = MqttLoad.connect(a.mqttPort(), "ctake-pub-" + System.nanoTime());
        BridgeProcess[] holder = {a};
        TakeoverRun first = takeoverRun(id, a, null, filter); // the session, with its subscription, on A
        first.client().disconnect().get(10, TimeUnit.SECONDS);
        double[][] same = new double[pairs][];
        double[][] other = new double[pairs][];
        double[] ratios = new double[pairs];
        int run = 0;
        int warmUp = quickTakeovers ? 1 : 3; // pairs not reported: the first moves ran the JIT (575 ms, then 120, 110…)
        for (int pair = -warmUp; pair < pairs; pair++) {
            for (boolean move : new boolean[] {false, true}) {
                BridgeProcess from = holder[0];
                BridgeProcess to = move ? (from == a ? b : a) : from;
                String topic = "ctake/" + id + "/" + (run++);
                double before = from.metric("mqtt_queued_messages");
                for (int i = 0; i < queued; i++) {
                    publisher.publishWith().topic(topic).payload(new byte[MqttLoad.PAYLOAD_BYTES]).qos(MqttQos.AT_LEAST_ONCE).send()
                            .get(10, TimeUnit.SECONDS);
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (from.metric("mqtt_queued_messages") < before + queued && System.nanoTime() < deadline) {
                    TimeUnit.MILLISECONDS.sleep(20);
                }
                TakeoverRun result = takeoverRun(id, to, queued, null);
                result.client().disconnect().get(10, TimeUnit.SECONDS);
                holder[0] = to;
                if (pair < 0) {
                    System.out.println(String.format(Locale.ROOT, "CLUSTER takeover warm-up %s → %s: first after %.1f ms",
                            node(from, a), node(to, a), result.millis()[0]));
                    continue;
                }
                if (move) {
                    other[pair] = result.millis();
                } else {
                    same[pair] = result.millis();
                }
                System.out.println(String.format(Locale.ROOT, "CLUSTER takeover %s → %s, 1,000 queued: first after %.1f ms, all after %.1f ms%s",
                        node(from, a), node(to, a), result.millis()[0], result.millis()[1],
                        result.received() == queued ? "" : ", " + result.received() + " received"));
            }
            if (pair >= 0) {
                ratios[pair] = other[pair][0] / same[pair][0];
            }
        }
        BridgeBenchmark.disconnect(List.of(publisher));
        double[] sameFirst = Arrays.stream(same).mapToDouble(m -> m[0]).sorted().toArray();
        double[] otherFirst = Arrays.stream(other).mapToDouble(m -> m[0]).sorted().toArray();
        double[] sameAll = Arrays.stream(same).mapToDouble(m -> m[1]).sorted().toArray();
        double[] otherAll = Arrays.stream(other).mapToDouble(m -> m[1]).sorted().toArray();
        rows.row(String.format(Locale.ROOT, "session takeover, 1,000 QoS 1 messages queued, CONNECT → first queued message, %d pairs: "
                + "same replica (baseline) p50 / p99 — other replica (handed over) p50 / p99", pairs),
                String.format(Locale.ROOT, "%.1f / %.1f — %.1f / %.1f ms", at(sameFirst, 0.5), at(sameFirst, 0.99), at(otherFirst, 0.5),
                        at(otherFirst, 0.99)), "", null);
        rows.row("session takeover, CONNECT → all 1,000 queued messages: same replica p50 / p99 — other replica p50 / p99",
                String.format(Locale.ROOT, "%.1f / %.1f — %.1f / %.1f ms", at(sameAll, 0.5), at(sameAll, 0.99), at(otherAll, 0.5),
                        at(otherAll, 0.99)), "", null);
        rows.row("session takeover, CONNECT → first queued message, other ÷ same replica over " + pairs + " pairs: min–max (median)",
                spread(ratios), "", null);
    }

    private static String node(BridgeProcess replica, BridgeProcess a) {
        return replica == a ? "A" : "B";
    }

    /** One reconnect: the client, ms from CONNECT to the first and to the last of {@code expected} messages, and the count. */
    private record TakeoverRun(Mqtt3AsyncClient client, double[] millis, int received) {
    }

    /**
     * Connects {@code id} with clean session 0 to {@code to} and waits for {@code expected} messages (null: subscribes
     * to {@code filter} instead, the session's first connection).
     */
    private static TakeoverRun takeoverRun(String id, BridgeProcess to, Integer expected, String filter) throws Exception {
        Mqtt3AsyncClient client = com.hivemq.client.mqtt.MqttClient.builder().useMqttVersion3().identifier(id)
                .serverHost("127.0.0.1").serverPort(to.mqttPort()).buildAsync();
        java.util.concurrent.atomic.AtomicLong firstAt = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong lastAt = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();
        client.publishes(com.hivemq.client.mqtt.MqttGlobalPublishFilter.ALL, message -> {
            long now = System.nanoTime();
            firstAt.compareAndSet(0, now);
            lastAt.set(now);
            count.incrementAndGet();
        });
        long start = System.nanoTime();
        boolean present = client.connectWith().cleanSession(false).keepAlive(30).send().get(30, TimeUnit.SECONDS).isSessionPresent();
        if (expected == null) {
            client.subscribeWith().topicFilter(filter).qos(MqttQos.AT_LEAST_ONCE).send().get(10, TimeUnit.SECONDS);
            TimeUnit.MILLISECONDS.sleep(500); // announced to the other replica
            return new TakeoverRun(client, new double[] {0, 0}, 0);
        }
        if (!present) {
            throw new IllegalStateException("session present 0 on reconnecting " + id);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (count.get() < expected && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(1);
        }
        return new TakeoverRun(client, new double[] {(firstAt.get() - start) / 1e6, (lastAt.get() - start) / 1e6}, count.get());
    }

    // ---------------------------------------------------------------------------------------------- helpers

    private static JsonNode cluster(BridgeProcess replica) throws Exception {
        return JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + replica.httpPort() + "/api/v1/cluster"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body());
    }

    /** The other members' subscriptions as {@code replica} sees them. */
    private static int remoteSubscriptions(BridgeProcess replica) throws Exception {
        int others = 0;
        for (JsonNode member : cluster(replica).path("members")) {
            if (!member.path("self").asBoolean()) {
                others += member.path("subscriptions").asInt();
            }
        }
        return others;
    }

    private static String lost(long missing) {
        return missing == 0 ? ", none lost" : String.format(Locale.ROOT, ", **%,d not delivered**", missing);
    }

    private static double at(double[] sorted, double quantile) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(quantile * sorted.length) - 1)];
    }

    private static String spread(double[] ratios) {
        return String.format(Locale.ROOT, "%.2f–%.2f (%.2f)", min(ratios), max(ratios), median(ratios));
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }

    private static double min(double[] values) {
        return Arrays.stream(values).min().orElse(Double.NaN);
    }

    private static double max(double[] values) {
        return Arrays.stream(values).max().orElse(Double.NaN);
    }
}
