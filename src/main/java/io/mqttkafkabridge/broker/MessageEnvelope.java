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
 * MAGIC (8 bytes) | MessageProperties (their binary form) | payload
 * </pre>
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

    /** What the broker keeps for {@code payload} with {@code properties}: the payload itself when nothing needs wrapping. */
    public static byte[] wrap(byte[] payload, MessageProperties properties) {
        if (properties.isEmpty() && !startsWithMagic(payload)) {
            return payload;
        }
        ByteBuffer out = ByteBuffer.allocate(MAGIC.length + properties.encodedSize() + payload.length);
        out.put(MAGIC);
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

    /** An envelope taken apart: the properties, and where the payload starts in the bytes. */
    record Opened(MessageProperties properties, int payloadOffset) {
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
        MessageProperties properties = MessageProperties.read(in);
        return new Opened(properties, MAGIC.length + in.position() - start);
    }

    /** The properties of what the broker keeps ({@link MessageProperties#NONE} for a bare payload). */
    public static MessageProperties properties(byte[] kept) {
        if (!startsWithMagic(kept)) {
            return MessageProperties.NONE;
        }
        return MessageProperties.read(ByteBuffer.wrap(kept, MAGIC.length, kept.length - MAGIC.length));
    }

    /** The payload of what the broker keeps, as it was published. */
    public static byte[] payload(byte[] kept) {
        if (!startsWithMagic(kept)) {
            return kept;
        }
        ByteBuffer in = ByteBuffer.wrap(kept, MAGIC.length, kept.length - MAGIC.length);
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
