package io.mqttkafkabridge.fault;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * MQTT 3.1.1 packet sequences, valid and malformed, from a seed: every packet type (and the reserved ones), every
 * combination of DUP/QoS/retain flags, packet ids 0, 1 and 65535, empty topic levels, deep topics, unicode, payloads
 * from 0 bytes to beyond the broker's maximum, truncated packets and noise. One {@link Random} per sequence, so a
 * sequence is the same whatever order sequences run in.
 */
public final class PacketFuzzer {

    /** Topic levels the generator mixes; "fuzz" comes first most of the time, so that subscriptions match. */
    private static final String[] LEVELS = {"fuzz", "a", "b", "", "é", "日本語", "🙂", "x y", "+", "#", "$SYS", "level"};
    private static final int[] PACKET_IDS = {0, 1, 65535};

    private final int maxPacketBytes;

    PacketFuzzer(int maxPacketBytes) {
        this.maxPacketBytes = maxPacketBytes;
    }

    /** The flag combinations every run starts with: DUP × QoS 0-3 × retain, each with packet ids 0, 1 and 65535. */
    static List<int[]> flagCombinations() {
        List<int[]> combinations = new ArrayList<>();
        for (int dup = 0; dup < 2; dup++) {
            for (int qos = 0; qos < 4; qos++) {
                for (int retain = 0; retain < 2; retain++) {
                    for (int packetId : PACKET_IDS) {
                        combinations.add(new int[] {dup, qos, retain, packetId});
                    }
                }
            }
        }
        return combinations;
    }

    /**
     * CONNECT, SUBSCRIBE {@code fuzz/<id>/#} at QoS 2, then one PUBLISH with the given flags to a topic under it: the
     * client is its own subscriber.
     */
    static List<byte[]> flagSequence(String clientId, int[] flags) {
        String topic = "fuzz/" + clientId + "/flags";
        return List.of(connect(clientId, true, 30, null, false, 0, 4, false),
                subscribe(7, List.of("fuzz/" + clientId + "/#"), new int[] {2}, 0x82),
                publish(flags[0] == 1, flags[1], flags[2] == 1, topic, flags[3], ("flags " + flags[0] + flags[1] + flags[2])
                        .getBytes(StandardCharsets.UTF_8)));
    }

    /** A random sequence: mostly a valid CONNECT and then up to ten packets of any kind. */
    List<byte[]> sequence(long seed) {
        Random random = new Random(seed);
        List<byte[]> packets = new ArrayList<>();
        String clientId = clientId(random);
        int start = random.nextInt(100);
        if (start < 85) {
            packets.add(connect(clientId, random.nextInt(4) != 0, random.nextInt(120), random.nextInt(5) == 0 ? topic(random) : null,
                    random.nextBoolean(), random.nextInt(4), random.nextInt(10) == 0 ? random.nextInt(7) : 4, random.nextInt(20) == 0));
            if (random.nextInt(3) == 0) {
                packets.add(subscribe(id(random), List.of("fuzz/#"), new int[] {random.nextInt(3)}, 0x82));
            }
        } else if (start < 92) {
            packets.add(noise(random));
        }
        int count = random.nextInt(11);
        for (int i = 0; i < count; i++) {
            packets.add(anyPacket(random, clientId));
        }
        if (random.nextInt(10) == 0 && !packets.isEmpty()) {
            byte[] last = packets.remove(packets.size() - 1);
            packets.add(java.util.Arrays.copyOf(last, random.nextInt(last.length))); // truncated
        }
        return packets;
    }

    private byte[] anyPacket(Random random, String clientId) {
        return switch (random.nextInt(16)) {
            case 0, 1, 2, 3, 4 -> publish(random.nextInt(3) == 0, qos(random), random.nextInt(4) == 0, topic(random), id(random),
                    payload(random));
            case 5 -> {
                int filters = 1 + random.nextInt(3);
                List<String> list = new ArrayList<>();
                int[] qos = new int[filters];
                for (int i = 0; i < filters; i++) {
                    list.add(filter(random));
                    qos[i] = qos(random);
                }
                yield subscribe(id(random), list, qos, random.nextInt(10) == 0 ? 0x80 : 0x82);
            }
            case 6 -> unsubscribe(id(random), List.of(filter(random)), random.nextInt(10) == 0 ? 0xA0 : 0xA2);
            case 7 -> ack(0x40, id(random));
            case 8 -> ack(0x50, id(random));
            case 9 -> ack(random.nextInt(5) == 0 ? 0x60 : 0x62, id(random));
            case 10 -> ack(0x70, id(random));
            case 11 -> new byte[] {(byte) 0xC0, 0}; // PINGREQ
            case 12 -> new byte[] {(byte) 0xE0, 0}; // DISCONNECT
            case 13 -> connect(clientId, random.nextBoolean(), 10, null, false, 0, 4, false); // a second CONNECT
            case 14 -> packet(random.nextBoolean() ? 0x00 : 0xF0, new byte[random.nextInt(8)]); // reserved types
            default -> noise(random);
        };
    }

    private String clientId(Random random) {
        return switch (random.nextInt(12)) {
            case 0 -> "";
            case 1 -> "fz-日本-" + random.nextInt(1000);
            case 2 -> "fz-+#-" + random.nextInt(1000);
            case 3 -> "fz-" + random.nextInt(1000) + "_meta";
            case 4 -> "fz-" + "x".repeat(200 + random.nextInt(100));
            default -> "fz-" + Long.toHexString(random.nextLong());
        };
    }

    private static int qos(Random random) {
        return random.nextInt(20) == 0 ? 3 : random.nextInt(3);
    }

    private static int id(Random random) {
        return random.nextInt(3) == 0 ? PACKET_IDS[random.nextInt(PACKET_IDS.length)] : 1 + random.nextInt(65535);
    }

    private static String topic(Random random) {
        int kind = random.nextInt(20);
        if (kind == 0) {
            return "";
        }
        if (kind == 1) {
            return "fuzz/" + "d/".repeat(195 + random.nextInt(10)) + "end"; // around bridge.broker.max-topic-levels
        }
        if (kind == 2) {
            return "fuzz/" + "deep/".repeat(500 + random.nextInt(500));
        }
        if (kind == 3) {
            return "fuzz/nul\u0000byte";
        }
        StringBuilder topic = new StringBuilder(random.nextInt(10) == 0 ? LEVELS[random.nextInt(LEVELS.length)] : "fuzz");
        int levels = random.nextInt(6);
        for (int i = 0; i < levels; i++) {
            topic.append('/').append(LEVELS[random.nextInt(LEVELS.length)]);
        }
        return topic.toString();
    }

    private static String filter(Random random) {
        return switch (random.nextInt(10)) {
            case 0 -> "#";
            case 1 -> "a/#/b";
            case 2 -> "fuzz+";
            case 3 -> "";
            case 4 -> "+/+/#";
            default -> topic(random);
        };
    }

    private byte[] payload(Random random) {
        int size = switch (random.nextInt(10)) {
            case 0 -> 0;
            case 1 -> 1;
            case 2 -> maxPacketBytes - 64 - random.nextInt(64); // near the maximum
            case 3 -> maxPacketBytes + random.nextInt(100); // beyond it
            default -> random.nextInt(1000);
        };
        byte[] payload = new byte[size];
        random.nextBytes(payload);
        return payload;
    }

    private static byte[] noise(Random random) {
        byte[] noise = new byte[1 + random.nextInt(64)];
        random.nextBytes(noise);
        return noise;
    }

    static byte[] connect(String clientId, boolean clean, int keepAlive, String willTopic, boolean willRetain, int willQos,
            int protocolLevel, boolean reservedFlag) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0, 4, 'M', 'Q', 'T', 'T', (byte) protocolLevel});
        int flags = (clean ? 0x02 : 0) | (reservedFlag ? 0x01 : 0);
        if (willTopic != null) {
            flags |= 0x04 | willQos << 3 | (willRetain ? 0x20 : 0);
        }
        body.write(flags);
        body.write(keepAlive >> 8);
        body.write(keepAlive);
        string(body, clientId);
        if (willTopic != null) {
            string(body, willTopic);
            string(body, "gone");
        }
        return packet(0x10, body.toByteArray());
    }

    static byte[] publish(boolean dup, int qos, boolean retain, String topic, int packetId, byte[] payload) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        string(body, topic);
        if (qos > 0) {
            body.write(packetId >> 8);
            body.write(packetId);
        }
        body.writeBytes(payload);
        return packet(0x30 | (dup ? 0x08 : 0) | qos << 1 | (retain ? 1 : 0), body.toByteArray());
    }

    static byte[] subscribe(int packetId, List<String> filters, int[] qos, int firstByte) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(packetId >> 8);
        body.write(packetId);
        for (int i = 0; i < filters.size(); i++) {
            string(body, filters.get(i));
            body.write(qos[i]);
        }
        return packet(firstByte, body.toByteArray());
    }

    static byte[] unsubscribe(int packetId, List<String> filters, int firstByte) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(packetId >> 8);
        body.write(packetId);
        filters.forEach(filter -> string(body, filter));
        return packet(firstByte, body.toByteArray());
    }

    static byte[] ack(int firstByte, int packetId) {
        return new byte[] {(byte) firstByte, 2, (byte) (packetId >> 8), (byte) packetId};
    }

    /** An MQTT UTF-8 string: two bytes of length, then the bytes. */
    public static void string(ByteArrayOutputStream out, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        out.write(bytes.length >> 8);
        out.write(bytes.length);
        out.writeBytes(bytes);
    }

    /** A packet: the first byte, the remaining length (variable-length encoding), the body. */
    public static byte[] packet(int firstByte, byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(firstByte);
        int length = body.length;
        do {
            int digit = length % 128;
            length /= 128;
            out.write(length > 0 ? digit | 0x80 : digit);
        } while (length > 0);
        out.writeBytes(body);
        return out.toByteArray();
    }
}
