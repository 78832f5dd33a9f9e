package io.mqttkafkabridge.bench;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;

/**
 * The benchmark's load generator: HiveMQ MQTT client (async API), MQTT 3.1.1, 100-byte payloads that carry the
 * publisher number, a sequence number and the send time ({@link System#nanoTime()}, comparable because every
 * receiver runs in this JVM). Every loop is bounded in count and time. Also the load of {@code BrokerLoadIT}.
 */
public final class MqttLoad {

    static final int PAYLOAD_BYTES = 100;

    private MqttLoad() {
    }

    public static Mqtt3AsyncClient connect(int port, String id) {
        Mqtt3AsyncClient client = MqttClient.builder().useMqttVersion3().identifier(id).serverHost("127.0.0.1")
                .serverPort(port).buildAsync();
        client.connectWith().cleanSession(true).keepAlive(60).send().orTimeout(30, TimeUnit.SECONDS).join();
        return client;
    }

    public static byte[] payload(int publisher, int seq) {
        byte[] payload = new byte[PAYLOAD_BYTES];
        ByteBuffer.wrap(payload).putInt(publisher).putInt(seq).putLong(System.nanoTime());
        return payload;
    }

    static int publisher(ByteBuffer payload) {
        return payload.getInt(0);
    }

    static int seq(ByteBuffer payload) {
        return payload.getInt(4);
    }

    static long sentAt(ByteBuffer payload) {
        return payload.getLong(8);
    }

    /** What a run's receivers saw: one bit per (publisher, seq), and the latency of each message in ns. */
    public static final class Received {
        private final BitSet[] seen;
        private final int perPublisher;
        private final long[] latencies;
        private int latencyCount;
        private long distinct;
        private long duplicates;
        private long messages;
        private long lastAt;

        public Received(int publishers, int perPublisher, boolean latency) {
            this.perPublisher = perPublisher;
            this.seen = new BitSet[publishers];
            for (int i = 0; i < publishers; i++) {
                seen[i] = new BitSet(perPublisher);
            }
            this.latencies = latency ? new long[publishers * perPublisher] : null;
        }

        public synchronized void add(ByteBuffer payload) {
            long now = System.nanoTime();
            messages++;
            int publisher = publisher(payload);
            int seq = seq(payload);
            if (publisher < 0 || publisher >= seen.length || seq < 0 || seq >= perPublisher) {
                return; // not from this run
            }
            if (seen[publisher].get(seq)) {
                duplicates++;
                return;
            }
            seen[publisher].set(seq);
            distinct++;
            lastAt = now;
            if (latencies != null) {
                latencies[latencyCount++] = now - sentAt(payload);
            }
        }

        public synchronized long distinct() {
            return distinct;
        }

        public synchronized long duplicates() {
            return duplicates;
        }

        /** Every message received, duplicates included. */
        public synchronized long messages() {
            return messages;
        }

        /** Per publisher, how many never arrived and the first of them; empty when none is missing. */
        public synchronized String missing() {
            StringBuilder missing = new StringBuilder();
            for (int i = 0; i < seen.length; i++) {
                int absent = perPublisher - seen[i].cardinality();
                if (absent > 0) {
                    missing.append(" publisher ").append(i).append(": ").append(absent).append(" missing, first seq ")
                            .append(seen[i].nextClearBit(0));
                }
            }
            return missing.toString();
        }

        /** Of the messages acknowledged to their publishers ({@code acked}, per publisher), how many never arrived. */
        public synchronized long missingOf(BitSet[] acked) {
            long missing = 0;
            for (int p = 0; p < acked.length; p++) {
                BitSet absent = (BitSet) acked[p].clone();
                absent.andNot(seen[p]);
                missing += absent.cardinality();
            }
            return missing;
        }

        synchronized long lastAt() {
            return lastAt;
        }

        /** The slowest latency in ms of each run of {@code window} messages, in arrival order: spikes or a spread tail. */
        synchronized String maxima(int window) {
            StringBuilder out = new StringBuilder();
            for (int from = 0; from < latencyCount; from += window) {
                long max = 0;
                int over = 0;
                for (int i = from; i < Math.min(latencyCount, from + window); i++) {
                    max = Math.max(max, latencies[i]);
                    over += latencies[i] > 10_000_000L ? 1 : 0;
                }
                out.append(String.format(java.util.Locale.ROOT, " %.1f(%d)", max / 1e6, over));
            }
            return out.toString().trim();
        }

        /** Latency percentiles in ms, {p50, p99, p99.9, max}, of the messages after the first {@code skip}. */
        synchronized double[] percentilesMillis(int skip) {
            long[] sorted = java.util.Arrays.copyOfRange(latencies, Math.min(skip, latencyCount), latencyCount);
            java.util.Arrays.sort(sorted);
            if (sorted.length == 0) {
                return new double[] {Double.NaN, Double.NaN, Double.NaN, Double.NaN};
            }
            return new double[] {at(sorted, 0.50), at(sorted, 0.99), at(sorted, 0.999), sorted[sorted.length - 1] / 1e6};
        }

        private static double at(long[] sorted, double quantile) {
            return sorted[Math.min(sorted.length - 1, (int) Math.ceil(quantile * sorted.length) - 1)] / 1e6;
        }

        /** Waits until every message arrived, or nothing new arrived for {@code quietMillis}, or the deadline. */
        boolean await(long expected, long quietMillis, long deadlineNanos) throws InterruptedException {
            long last = -1;
            long changedAt = System.nanoTime();
            while (System.nanoTime() < deadlineNanos) {
                long now = distinct();
                if (now >= expected) {
                    return true;
                }
                if (now != last) {
                    last = now;
                    changedAt = System.nanoTime();
                } else if (System.nanoTime() - changedAt > TimeUnit.MILLISECONDS.toNanos(quietMillis)) {
                    return false;
                }
                TimeUnit.MILLISECONDS.sleep(5);
            }
            return false;
        }
    }

    /** Outcome of {@link #burst}. */
    public record Burst(long started, long acknowledged, long failed, long lastAckAt) {
    }

    /**
     * Each publisher sends {@code perPublisher} messages to {@code topic.apply(publisher)} as fast as the broker
     * takes them, with at most {@code window} unacknowledged (QoS 1) or unwritten (QoS 0) at a time.
     */
    static Burst burst(List<Mqtt3AsyncClient> publishers, IntFunction<String> topic, int perPublisher, MqttQos qos, int window,
            long deadlineNanos) throws InterruptedException {
        return burst(publishers, topic, perPublisher, qos, window, deadlineNanos, new AtomicLong());
    }

    /** {@link #burst}, counting the acknowledged messages in {@code acknowledged} as they come (to watch it live). */
    public static Burst burst(List<Mqtt3AsyncClient> publishers, IntFunction<String> topic, int perPublisher, MqttQos qos,
            int window, long deadlineNanos, AtomicLong acknowledged) throws InterruptedException {
        AtomicLong failed = new AtomicLong();
        AtomicLong lastAck = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        long started = System.nanoTime();
        for (int p = 0; p < publishers.size(); p++) {
            int publisher = p;
            Mqtt3AsyncClient client = publishers.get(p);
            String name = topic.apply(p);
            Thread thread = new Thread(() -> {
                Semaphore inFlight = new Semaphore(window);
                try {
                    for (int seq = 0; seq < perPublisher; seq++) {
                        if (!inFlight.tryAcquire(Math.max(1, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                            return;
                        }
                        CompletableFuture<Mqtt3Publish> sent = client.publishWith().topic(name).payload(payload(publisher, seq))
                                .qos(qos).send();
                        sent.whenComplete((ok, failure) -> {
                            if (failure == null) {
                                acknowledged.incrementAndGet();
                                lastAck.set(System.nanoTime());
                            } else {
                                failed.incrementAndGet();
                            }
                            inFlight.release();
                        });
                    }
                    inFlight.tryAcquire(window, Math.max(1, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "bench-publisher-" + p);
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime())));
        }
        return new Burst(started, acknowledged.get(), failed.get(), lastAck.get());
    }

    /**
     * Publishes at a fixed total rate, spread over the publishers, for {@code perPublisher} messages each (so for
     * {@code perPublisher * publishers / rate} seconds), in 1 ms ticks.
     */
    static long paced(List<Mqtt3AsyncClient> publishers, IntFunction<String> topic, int perPublisher, int rate, MqttQos qos)
            throws InterruptedException {
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();
        AtomicLong sent = new AtomicLong();
        long total = (long) perPublisher * publishers.size();
        long start = System.nanoTime();
        int[] next = new int[publishers.size()];
        String[] topics = new String[publishers.size()];
        for (int p = 0; p < topics.length; p++) {
            topics[p] = topic.apply(p);
        }
        ticker.scheduleAtFixedRate(() -> {
            long due = Math.min(total, (System.nanoTime() - start) * rate / 1_000_000_000L);
            while (sent.get() < due) {
                int p = (int) (sent.get() % publishers.size());
                publishers.get(p).publishWith().topic(topics[p]).payload(payload(p, next[p]++)).qos(qos).send();
                sent.incrementAndGet();
            }
        }, 0, 1, TimeUnit.MILLISECONDS);
        long seconds = total / rate + 10;
        while (sent.get() < total && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(seconds)) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
        ticker.shutdownNow();
        ticker.awaitTermination(5, TimeUnit.SECONDS);
        return sent.get();
    }

    /** Outcome of {@link #offered}: messages sent, and which were acknowledged, per publisher. */
    public record Offered(long sent, long acknowledged, BitSet[] acked) {
    }

    /**
     * Each publisher offers {@code rate / publishers} QoS 1 msg/s to {@code topic.apply(publisher)} for {@code seconds},
     * with at most {@code window} unacknowledged: when the broker takes less than is offered, every window stays full.
     * Then waits up to 30 s for the acknowledgements still due.
     */
    static Offered offered(List<Mqtt3AsyncClient> publishers, IntFunction<String> topic, double rate, int window, int seconds)
            throws InterruptedException {
        int count = publishers.size();
        BitSet[] acked = new BitSet[count];
        AtomicLong sent = new AtomicLong();
        AtomicLong acknowledged = new AtomicLong();
        long intervalNanos = (long) (count * 1e9 / rate);
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < count; p++) {
            int publisher = p;
            acked[p] = new BitSet();
            Mqtt3AsyncClient client = publishers.get(p);
            String name = topic.apply(p);
            Thread thread = new Thread(() -> {
                Semaphore inFlight = new Semaphore(window);
                try {
                    for (int seq = 0; System.nanoTime() < end; seq++) {
                        long wait = start + seq * intervalNanos - System.nanoTime();
                        if (wait > 0) {
                            java.util.concurrent.locks.LockSupport.parkNanos(wait);
                        }
                        if (!inFlight.tryAcquire(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                            break;
                        }
                        int current = seq;
                        sent.incrementAndGet();
                        client.publishWith().topic(name).payload(payload(publisher, seq)).qos(MqttQos.AT_LEAST_ONCE).send()
                                .whenComplete((ok, failure) -> {
                                    if (failure == null) {
                                        synchronized (acked[publisher]) {
                                            acked[publisher].set(current);
                                        }
                                        acknowledged.incrementAndGet();
                                    }
                                    inFlight.release();
                                });
                    }
                    inFlight.tryAcquire(window, 30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "bench-offering-" + p);
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join(TimeUnit.SECONDS.toMillis(seconds + 40));
        }
        BitSet[] copies = new BitSet[count];
        for (int p = 0; p < count; p++) {
            synchronized (acked[p]) {
                copies[p] = (BitSet) acked[p].clone();
            }
        }
        return new Offered(sent.get(), acknowledged.get(), copies);
    }
}
