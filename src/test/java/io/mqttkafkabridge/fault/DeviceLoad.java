package io.mqttkafkabridge.fault;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;

/**
 * Devices publishing QoS 1 at a steady total rate, each to {@code load/<device>/data} with payload
 * {@code <device>:<seq>:} padded to 100 bytes. Counts what was published and remembers what the broker acknowledged
 * (PUBACK). A device whose connection drops reconnects once a second. Bounded by {@link #stop()} and by
 * {@code maxMessages}.
 */
public final class DeviceLoad implements AutoCloseable {

    private final List<Device> devices = new ArrayList<>();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();
    private final AtomicLong published = new AtomicLong();
    private final long maxMessages;
    private final int perTick;
    private final AtomicBoolean running = new AtomicBoolean(true);

    /** @param rate messages per second in all; published in ticks of 10 ms */
    public DeviceLoad(int port, int deviceCount, int rate, long maxMessages) {
        this(port, "dev", deviceCount, rate, maxMessages);
    }

    /** @param idPrefix client ids are {@code <idPrefix><n>} (unique across the replicas of a cluster) */
    public DeviceLoad(int port, String idPrefix, int deviceCount, int rate, long maxMessages) {
        this.maxMessages = maxMessages;
        this.perTick = Math.max(1, rate / 100);
        for (int i = 0; i < deviceCount; i++) {
            devices.add(new Device(idPrefix + i, port));
        }
        devices.forEach(Device::connect);
        ticker.scheduleAtFixedRate(this::tick, 10, 10, TimeUnit.MILLISECONDS);
    }

    private int next;

    private void tick() {
        if (!running.get()) {
            return;
        }
        for (int i = 0; i < perTick && published.get() < maxMessages; i++) {
            devices.get(next++ % devices.size()).publish();
        }
    }

    public long published() {
        return published.get();
    }

    public long acknowledged() {
        return devices.stream().mapToLong(d -> d.acked.size()).sum();
    }

    /** Acknowledged sequence numbers by device id. */
    public Map<String, Set<Long>> acked() {
        Map<String, Set<Long>> acked = new ConcurrentHashMap<>();
        devices.forEach(d -> acked.put(d.id, Set.copyOf(d.acked)));
        return acked;
    }

    public void stop() {
        running.set(false);
        ticker.shutdown();
    }

    /** Waits a moment for PUBACKs of messages already sent. */
    public void settle() throws InterruptedException {
        stop();
        ticker.awaitTermination(5, TimeUnit.SECONDS);
        TimeUnit.SECONDS.sleep(2);
    }

    @Override
    public void close() {
        stop();
        devices.forEach(Device::disconnect);
    }

    private final class Device {
        final String id;
        final Mqtt3AsyncClient client;
        final Set<Long> acked = ConcurrentHashMap.newKeySet();
        final AtomicBoolean connected = new AtomicBoolean();
        final AtomicBoolean connecting = new AtomicBoolean();
        volatile long lastAttempt;
        long seq;

        Device(String id, int port) {
            this.id = id;
            this.client = MqttClient.builder().useMqttVersion3().identifier(id).serverHost("127.0.0.1").serverPort(port)
                    .addDisconnectedListener(ctx -> connected.set(false)).buildAsync();
        }

        void connect() {
            if (!connecting.compareAndSet(false, true)) {
                return;
            }
            lastAttempt = System.nanoTime();
            client.connectWith().cleanSession(true).keepAlive(30).send().whenComplete((ack, failure) -> {
                connected.set(failure == null);
                connecting.set(false);
            });
        }

        void publish() {
            if (!connected.get()) {
                if (System.nanoTime() - lastAttempt > TimeUnit.SECONDS.toNanos(1)) {
                    connect();
                }
                return;
            }
            long n = seq++;
            byte[] payload = new byte[100];
            byte[] text = (id + ":" + n + ":").getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(text, 0, payload, 0, text.length);
            published.incrementAndGet();
            client.publishWith().topic("load/" + id + "/data").payload(payload).qos(MqttQos.AT_LEAST_ONCE).send()
                    .whenComplete((result, failure) -> {
                        if (failure == null) {
                            acked.add(n);
                        }
                    });
        }

        void disconnect() {
            try {
                client.disconnect().get(2, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // the bridge may be gone
            }
        }
    }
}
