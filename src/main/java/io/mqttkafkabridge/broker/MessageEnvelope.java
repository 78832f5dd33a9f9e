package io.mqttkafkabridge.broker;

import java.nio.ByteBuffer;

import io.mqttkafkabridge.routing.MessageProperties;
import io.netty.buffer.ByteBuf;

/**
 * How a message's MQTT 5 properties ride inside the payload bytes Moquette keeps, so that they survive every path a
 * message takes: Moquette's queues of persistent sessions (h2, across a restart too), its retained store, the
 * cluster's messages and retained topics and a session handed over to another replica all keep topic, QoS, retain
 * flag and payload bytes, nothing else.
 * <pre>
 * MAGIC (8 bytes) | flags (1: published with RETAIN, 2: origin follows) | [origin: short length, UTF-8 client id]
 *   | MessageProperties (their binary form) | payload
 * </pre>
 * The RETAIN flag as published is kept for MQTT 5 subscriptions with Retain As Published; the publisher's client id
 * only when it holds a No Local subscription the message matches (so that it is not sent back to it).
 * The gate wraps a payload on its way into the broker ({@link #wrap}) and opens it on its way out to a subscriber
 * ({@link #open}): MQTT 5 subscribers get the properties back, 3.1.1 subscribers the bare payload. A payload without
 * properties stays as it is, unless it begins with the magic bytes itself: such a payload (from any client, of any
 * version, or from Kafka) is wrapped with no properties, so that a payload is never mistaken for an envelope and
 * every subscriber gets exactly the bytes that were published. Pure functions; thread-safe.
 */
public final class MessageEnvelope {

    /** A NUL, "MKB", the protocol level 5, and three bytes no text encoding begins with. */
    private static final byte[] MAGIC = { 0x00, 'M', 'K', 'B', 0x05, (byte) 0xFE, (byte) 0xE5, (byte) 0x9A };

    private MessageEnvelope() {
    }

    private static final int RETAINED = 1;
    private static final int ORIGIN = 2;

    /** What the broker keeps for {@code payload} with {@code properties}: the payload itself when nothing needs wrapping. */
    public static byte[] wrap(byte[] payload, MessageProperties properties) {
        return wrap(payload, properties, false, null);
    }

    /**
     * What the broker keeps for a publish: the payload itself when nothing needs wrapping.
     *
     * @param retained whether it was published with RETAIN=1 (kept for Retain As Published)
     * @param origin   the publisher's client id, when a No Local subscription of its own matches; else null
     */
    public static byte[] wrap(byte[] payload, MessageProperties properties, boolean retained, String origin) {
        if (properties.isEmpty() && !retained && origin == null && !startsWithMagic(payload)) {
            return payload;
        }
        byte[] originBytes = origin == null ? null : origin.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(MAGIC.length + 1 + (originBytes == null ? 0 : 2 + originBytes.length)
                + properties.encodedSize() + payload.length);
        out.put(MAGIC);
        out.put((byte) ((retained ? RETAINED : 0) | (originBytes == null ? 0 : ORIGIN)));
        if (originBytes != null) {
            out.putShort((short) originBytes.length).put(originBytes);
        }
        properties.write(out);
        out.put(payload);
        return out.array();
    }

    /** Whether {@code kept} is an envelope (the broker's bytes of a message). */
    public static boolean isEnvelope(byte[] kept) {
        return startsWithMagic(kept);
    }

    /** Whether the readable bytes of {@code kept} are an envelope. */
    static boolean isEnvelope(ByteBuf kept) {
        if (kept.readableBytes() < MAGIC.length) {
            return false;
        }
        int at = kept.readerIndex();
        for (int i = 0; i < MAGIC.length; i++) {
            if (kept.getByte(at + i) != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    /** An envelope taken apart: the properties, how it was published, and where the payload starts in the bytes. */
    record Opened(MessageProperties properties, boolean retained, String origin, int payloadOffset) {
    }

    /**
     * The properties of the envelope {@code kept} (whose readable bytes {@link #isEnvelope} accepted) and where its
     * payload starts, relative to the reader index.
     *
     * @throws IllegalArgumentException when the bytes after the magic are not properties
     */
    static Opened open(ByteBuf kept) {
        ByteBuffer in = kept.nioBuffer(kept.readerIndex() + MAGIC.length, kept.readableBytes() - MAGIC.length);
        int start = in.position();
        Header header = header(in);
        MessageProperties properties = MessageProperties.read(in);
        return new Opened(properties, header.retained, header.origin, MAGIC.length + in.position() - start);
    }

    private record Header(boolean retained, String origin) {
    }

    private static Header header(ByteBuffer in) {
        try {
            int flags = in.get();
            String origin = null;
            if ((flags & ORIGIN) != 0) {
                byte[] bytes = new byte[Short.toUnsignedInt(in.getShort())];
                in.get(bytes);
                origin = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
            }
            return new Header((flags & RETAINED) != 0, origin);
        } catch (java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated envelope", e);
        }
    }

    /** The properties of what the broker keeps ({@link MessageProperties#NONE} for a bare payload). */
    public static MessageProperties properties(byte[] kept) {
        if (!startsWithMagic(kept)) {
            return MessageProperties.NONE;
        }
        ByteBuffer in = ByteBuffer.wrap(kept, MAGIC.length, kept.length - MAGIC.length);
        header(in);
        return MessageProperties.read(in);
    }

    /** The payload of what the broker keeps, as it was published. */
    public static byte[] payload(byte[] kept) {
        if (!startsWithMagic(kept)) {
            return kept;
        }
        ByteBuffer in = ByteBuffer.wrap(kept, MAGIC.length, kept.length - MAGIC.length);
        header(in);
        MessageProperties.read(in);
        byte[] payload = new byte[in.remaining()];
        in.get(payload);
        return payload;
    }

    private static boolean startsWithMagic(byte[] bytes) {
        if (bytes.length < MAGIC.length) {
            return false;
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }
}
