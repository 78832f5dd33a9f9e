package io.mqttkafkabridge.fault;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;

/**
 * A seeded protocol fuzz test against the packaged bridge: thousands of MQTT packet sequences ({@link PacketFuzzer}),
 * valid and malformed, from raw sockets, in batches. After every batch, a bystander client on every one of
 * Moquette's session loops (client ids chosen by the loops' hash) connects, subscribes, publishes QoS 1, gets its
 * PUBACK and receives its message. First come the flag combinations (DUP × QoS × retain × packet ids 0/1/65535), each
 * on a connection subscribed to its own topic, which must get its acknowledgement and its delivery. At the end the
 * bridge's log must hold no stack trace at ERROR. Session-loop commands that failed and were contained (MKB0017) are
 * printed: about one in 6,000 hostile sequences still meets a reference-count race inside Moquette (README,
 * Limitations), which the containment absorbs; the bystanders show that every loop kept serving.
 * <p>
 * {@code -Dfuzz.seed=N} replays a run (the seed is printed first), {@code -Dfuzz.debug=true} with the bridge's own
 * DEBUG lines (stack traces of contained failures); {@code -Dfuzz.sequences=N} sets the size.
 */
class ProtocolFuzzIT {

    private static final int MAX_PACKET = 16_384;
    private static final int BATCH = 100;

    @Test
    void no_packet_sequence_stalls_a_session_loop_or_loses_an_acknowledged_message() throws Exception {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        int sequences = Integer.getInteger("fuzz.sequences", 3000);
        System.out.printf("FUZZ seed=%d sequences=%d (replay: -Dfuzz.seed=%d -Dit.test=ProtocolFuzzIT)%n", seed, sequences, seed);
        Path dir = Processes.scratchDir("fuzz");
        try (KafkaProcess kafka = new KafkaProcess(dir)) {
            kafka.start();
            try (BridgeProcess bridge = new BridgeProcess(dir, kafka.bootstrapServers(), "fuzz-uplink")) {
                bridge.env("BRIDGE_BROKER_MAX_MESSAGE_SIZE", Integer.toString(MAX_PACKET))
                        .env("BRIDGE_BROKER_CONNECT_RATE_PER_ADDRESS", "100000")
                        .env("BRIDGE_BROKER_CONNECT_TIMEOUT", "2s")
                        .env("BRIDGE_BROKER_PERSISTENCE", "memory");
                if (Boolean.getBoolean("fuzz.debug")) {
                    // a replay with the stack traces of contained failures (MKB0020)
                    bridge.env("QUARKUS_LOG_CATEGORY__IO_MQTTKAFKABRIDGE__LEVEL", "DEBUG");
                }
                bridge.start();
                int port = bridge.mqttPort();
                List<String> bystanders = SessionLoopClients.onEveryLoop("bystander-");
                ExecutorService pool = Executors.newFixedThreadPool(8);
                try {
                    long started = System.nanoTime();
                    int flagFailures = flagCombinations(port, pool);
                    checkBystanders(port, bystanders, "after the flag combinations");
                    PacketFuzzer fuzzer = new PacketFuzzer(MAX_PACKET);
                    int packets = 0;
                    for (int batch = 0; batch * BATCH < sequences; batch++) {
                        List<Future<Integer>> sent = new ArrayList<>();
                        for (int i = batch * BATCH; i < Math.min(sequences, (batch + 1) * BATCH); i++) {
                            List<byte[]> sequence = fuzzer.sequence(seed * 1_000_003L + i);
                            sent.add(pool.submit(() -> run(port, sequence, null).packets));
                        }
                        for (Future<Integer> future : sent) {
                            packets += future.get(60, TimeUnit.SECONDS);
                        }
                        checkBystanders(port, bystanders, "after batch " + batch + " (seed " + seed + ")");
                    }
                    String log = Files.readString(bridge.logFile());
                    List<String> errorTraces = errorStackTraces(log);
                    double loopFailures = bridge.metric("mqtt_session_loop_failures_total");
                    System.out.printf("FUZZ seed=%d flag-combinations=%d (failed %d) sequences=%d packets=%d bystander-loops=%d "
                            + "session-loop-failures=%.0f error-stack-traces=%d in %d s%n", seed,
                            PacketFuzzer.flagCombinations().size(), flagFailures, sequences, packets, bystanders.size(),
                            loopFailures, errorTraces.size(), TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));
                    errorTraces.stream().limit(3).forEach(trace -> System.out.println("FUZZ ERROR with stack trace:\n" + trace));

                    assertThat(flagFailures).as("flag combinations without their acknowledgement or delivery (seed " + seed + ")")
                            .isZero();
                    assertThat(errorTraces).as("stack traces at ERROR in the bridge's log (seed " + seed + ")").isEmpty();
                } finally {
                    pool.shutdownNow();
                }
            }
        }
    }

    /**
     * Every flag combination on its own connection subscribed to its topic: a valid one (QoS 0-2) must be
     * acknowledged (QoS 1/2) and delivered back to it (a packet id of 0 for QoS 1/2 is a protocol error the broker may
     * close for); QoS 3 must close the connection. Returns how many failed, each printed.
     */
    private static int flagCombinations(int port, ExecutorService pool) throws Exception {
        List<Future<String>> results = new ArrayList<>();
        List<int[]> combinations = PacketFuzzer.flagCombinations();
        for (int i = 0; i < combinations.size(); i++) {
            int[] flags = combinations.get(i);
            String clientId = "flags-" + i;
            results.add(pool.submit(() -> {
                Reply reply = run(port, PacketFuzzer.flagSequence(clientId, flags), 2_000);
                int qos = flags[1];
                if (qos == 3) {
                    return reply.closed ? null : "QoS 3 was not closed";
                }
                if (qos > 0 && flags[3] == 0) {
                    return null; // packet id 0: MQTT-2.3.1-1 violated; closing or answering are both acceptable
                }
                boolean acked = qos == 0 || reply.types.contains(qos == 1 ? 0x40 : 0x50);
                boolean delivered = reply.types.contains(0x30);
                return acked && delivered ? null : "acknowledged " + acked + ", delivered " + delivered + ", got " + reply.types;
            }));
        }
        int failed = 0;
        for (int i = 0; i < results.size(); i++) {
            String failure = results.get(i).get(60, TimeUnit.SECONDS);
            if (failure != null) {
                int[] flags = combinations.get(i);
                System.out.printf("FUZZ flags dup=%d qos=%d retain=%d packet-id=%d: %s%n", flags[0], flags[1], flags[2], flags[3], failure);
                failed++;
            }
        }
        return failed;
    }

    /** What a sequence got back: packet types (first byte, high nibble), and whether the server closed. */
    private record Reply(int packets, List<Integer> types, boolean closed) {
    }

    /**
     * Sends the packets of one sequence on a new connection, then reads what comes back until the server closes or
     * is quiet for 100 ms ({@code waitFor}: up to that many ms in all for a reply), then closes.
     */
    private static Reply run(int port, List<byte[]> sequence, Integer waitFor) {
        int written = 0;
        List<Integer> types = new ArrayList<>();
        boolean closed = false;
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(100);
            OutputStream out = socket.getOutputStream();
            for (byte[] packet : sequence) {
                out.write(packet);
                written++;
            }
            out.flush();
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[8192];
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitFor == null ? 300 : waitFor);
            while (System.nanoTime() < deadline) {
                try {
                    int n = in.read(buffer);
                    if (n < 0) {
                        closed = true;
                        break;
                    }
                    received.write(buffer, 0, n);
                } catch (SocketTimeoutException quiet) {
                    if (waitFor == null || types(received.toByteArray()).contains(0x30)) {
                        break;
                    }
                }
            }
            types = types(received.toByteArray());
        } catch (IOException e) {
            closed = true; // the server closed while we wrote or read: an answer too
        }
        return new Reply(written, types, closed);
    }

    /** The packet types in a stream of MQTT packets (as far as it is complete). */
    private static List<Integer> types(byte[] stream) {
        List<Integer> types = new ArrayList<>();
        int i = 0;
        while (i < stream.length) {
            int type = stream[i] & 0xF0;
            int length = 0;
            int shift = 0;
            int j = i + 1;
            for (; j < stream.length; j++) {
                length |= (stream[j] & 0x7F) << shift;
                shift += 7;
                if ((stream[j] & 0x80) == 0) {
                    break;
                }
            }
            if (j >= stream.length || j + 1 + length > stream.length) {
                break;
            }
            types.add(type);
            i = j + 1 + length;
        }
        return types;
    }

    /** Each bystander connects, subscribes, publishes QoS 1, gets its PUBACK and receives its message, within 10 s. */
    private static void checkBystanders(int port, List<String> ids, String when) throws Exception {
        for (String id : ids) {
            Mqtt3AsyncClient client = MqttClient.builder().useMqttVersion3().identifier(id).serverHost("127.0.0.1")
                    .serverPort(port).buildAsync();
            String topic = "bystander/" + id;
            CompletableFuture<Mqtt3Publish> received = new CompletableFuture<>();
            client.publishes(MqttGlobalPublishFilter.ALL, received::complete);
            try {
                client.connectWith().cleanSession(true).send().get(10, TimeUnit.SECONDS);
                client.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send().get(10, TimeUnit.SECONDS);
                client.publishWith().topic(topic).payload(when.getBytes(StandardCharsets.UTF_8)).qos(MqttQos.AT_LEAST_ONCE)
                        .send().get(10, TimeUnit.SECONDS);
                assertThat(new String(received.get(10, TimeUnit.SECONDS).getPayloadAsBytes(), StandardCharsets.UTF_8))
                        .isEqualTo(when);
            } catch (Exception e) {
                throw new AssertionError("bystander " + id + " (session loop " + ids.indexOf(id) + ") not served " + when
                        + ": " + e, e);
            } finally {
                try {
                    client.disconnect().get(5, TimeUnit.SECONDS);
                } catch (Exception ignored) {
                    // it failed above already
                }
            }
        }
    }

    /** Log records at ERROR that carry a stack trace, each as its header line and first frames. */
    static List<String> errorStackTraces(String log) {
        List<String> traces = new ArrayList<>();
        String[] lines = log.split("\n");
        for (int i = 0; i < lines.length; i++) {
            if (!lines[i].contains(" ERROR ")) {
                continue;
            }
            StringBuilder record = new StringBuilder(lines[i]);
            boolean trace = false;
            for (int j = i + 1; j < lines.length && !lines[j].matches("^\\d{4}-\\d\\d-\\d\\d .*"); j++) {
                trace |= lines[j].startsWith("\tat ") || lines[j].startsWith("Caused by");
                if (j - i <= 6) {
                    record.append('\n').append(lines[j]);
                }
            }
            if (trace) {
                traces.add(record.toString());
            }
        }
        return traces;
    }
}
