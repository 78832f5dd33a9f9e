package io.mqttkafkabridge.routing;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The MQTT 5 properties a message carries from its publisher to its subscribers (MQTT 5, 3.3.2.3): what the bridge
 * keeps of a PUBLISH besides topic, QoS, retain flag and payload. Plain data, independent of Netty; the same bytes
 * ({@link #write}, {@link #read}) are kept in the uplink journal and in the envelope the broker stores
 * ({@code broker.MessageEnvelope}).
 *
 * @param payloadFormat    the Payload Format Indicator (0 bytes, 1 UTF-8), or null when the publisher sent none
 * @param contentType      the Content Type, or null
 * @param responseTopic    the Response Topic, or null
 * @param correlationData  the Correlation Data, bytes as they are, or null
 * @param expiresAt        when the message expires (epoch milliseconds: received + Message Expiry Interval), 0: never
 * @param userProperties   the User Properties, in order, repeated names kept
 */
public record MessageProperties(Integer payloadFormat, String contentType, String responseTopic, byte[] correlationData,
        long expiresAt, List<UserProperty> userProperties) {

    /** No property at all: what a 3.1.1 publish carries. */
    public static final MessageProperties NONE = new MessageProperties(null, null, null, null, 0, List.of());

    /** One User Property (a UTF-8 string pair). */
    public record UserProperty(String name, String value) {
        public UserProperty {
            Objects.requireNonNull(name);
            Objects.requireNonNull(value);
        }
    }

    public MessageProperties {
        userProperties = userProperties == null ? List.of() : List.copyOf(userProperties);
    }

    /** True when there is nothing to carry. */
    public boolean isEmpty() {
        return payloadFormat == null && contentType == null && responseTopic == null && correlationData == null
                && expiresAt == 0 && userProperties.isEmpty();
    }

    /** Whether the message has expired at {@code nowMillis}. */
    public boolean expired(long nowMillis) {
        return expiresAt != 0 && nowMillis >= expiresAt;
    }

    /** The Message Expiry Interval left at {@code nowMillis}, in whole seconds rounded up (at least 1), or -1: none. */
    public long remainingExpirySeconds(long nowMillis) {
        if (expiresAt == 0) {
            return -1;
        }
        return Math.max(1, (expiresAt - nowMillis + 999) / 1000);
    }

    /** These properties, expiring at {@code at} (epoch milliseconds; 0: never). */
    public MessageProperties withExpiresAt(long at) {
        return new MessageProperties(payloadFormat, contentType, responseTopic, correlationData, at, userProperties);
    }

    private static final int PAYLOAD_FORMAT = 1;
    private static final int CONTENT_TYPE = 2;
    private static final int RESPONSE_TOPIC = 4;
    private static final int CORRELATION_DATA = 8;
    private static final int EXPIRES_AT = 16;
    private static final int USER_PROPERTIES = 32;

    /**
     * The binary form: a flags byte, then each property present in flag order (strings and bytes length-prefixed
     * with an int; user properties: an int count, then name, value).
     */
    public byte[] toBytes() {
        ByteBuffer out = ByteBuffer.allocate(encodedSize());
        write(out);
        return out.array();
    }

    /** The size of {@link #toBytes()}. */
    public int encodedSize() {
        int size = 1;
        if (payloadFormat != null) {
            size += 1;
        }
        size += sized(contentType) + sized(responseTopic);
        if (correlationData != null) {
            size += 4 + correlationData.length;
        }
        if (expiresAt != 0) {
            size += 8;
        }
        if (!userProperties.isEmpty()) {
            size += 4;
            for (UserProperty property : userProperties) {
                size += sized(property.name()) + sized(property.value());
            }
        }
        return size;
    }

    /** Writes the binary form at {@code out}'s position. */
    public void write(ByteBuffer out) {
        int flags = (payloadFormat != null ? PAYLOAD_FORMAT : 0) | (contentType != null ? CONTENT_TYPE : 0)
                | (responseTopic != null ? RESPONSE_TOPIC : 0) | (correlationData != null ? CORRELATION_DATA : 0)
                | (expiresAt != 0 ? EXPIRES_AT : 0) | (userProperties.isEmpty() ? 0 : USER_PROPERTIES);
        out.put((byte) flags);
        if (payloadFormat != null) {
            out.put(payloadFormat.byteValue());
        }
        if (contentType != null) {
            putString(out, contentType);
        }
        if (responseTopic != null) {
            putString(out, responseTopic);
        }
        if (correlationData != null) {
            out.putInt(correlationData.length).put(correlationData);
        }
        if (expiresAt != 0) {
            out.putLong(expiresAt);
        }
        if (!userProperties.isEmpty()) {
            out.putInt(userProperties.size());
            for (UserProperty property : userProperties) {
                putString(out, property.name());
                putString(out, property.value());
            }
        }
    }

    /**
     * Reads the binary form at {@code in}'s position.
     *
     * @throws IllegalArgumentException when the bytes are not that form
     */
    public static MessageProperties read(ByteBuffer in) {
        try {
            int flags = in.get();
            Integer payloadFormat = (flags & PAYLOAD_FORMAT) != 0 ? (int) in.get() : null;
            String contentType = (flags & CONTENT_TYPE) != 0 ? getString(in) : null;
            String responseTopic = (flags & RESPONSE_TOPIC) != 0 ? getString(in) : null;
            byte[] correlation = (flags & CORRELATION_DATA) != 0 ? getBytes(in) : null;
            long expiresAt = (flags & EXPIRES_AT) != 0 ? in.getLong() : 0;
            List<UserProperty> user = List.of();
            if ((flags & USER_PROPERTIES) != 0) {
                int count = in.getInt();
                if (count < 0 || count > in.remaining() / 8) {
                    throw new IllegalArgumentException("user property count " + count);
                }
                user = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    user.add(new UserProperty(getString(in), getString(in)));
                }
            }
            return new MessageProperties(payloadFormat, contentType, responseTopic, correlation, expiresAt, user);
        } catch (java.nio.BufferUnderflowException | NegativeArraySizeException e) {
            throw new IllegalArgumentException("truncated message properties", e);
        }
    }

    private static int sized(String value) {
        return value == null ? 0 : 4 + value.getBytes(StandardCharsets.UTF_8).length;
    }

    private static void putString(ByteBuffer out, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        out.putInt(bytes.length).put(bytes);
    }

    private static String getString(ByteBuffer in) {
        return new String(getBytes(in), StandardCharsets.UTF_8);
    }

    private static byte[] getBytes(ByteBuffer in) {
        int length = in.getInt();
        if (length < 0 || length > in.remaining()) {
            throw new IllegalArgumentException("length " + length + " past the end");
        }
        byte[] bytes = new byte[length];
        in.get(bytes);
        return bytes;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof MessageProperties p && Objects.equals(payloadFormat, p.payloadFormat)
                && Objects.equals(contentType, p.contentType) && Objects.equals(responseTopic, p.responseTopic)
                && Arrays.equals(correlationData, p.correlationData) && expiresAt == p.expiresAt
                && userProperties.equals(p.userProperties);
    }

    @Override
    public int hashCode() {
        return Objects.hash(payloadFormat, contentType, responseTopic, Arrays.hashCode(correlationData), expiresAt, userProperties);
    }

    @Override
    public String toString() {
        return "MessageProperties[payloadFormat=" + payloadFormat + ", contentType=" + contentType + ", responseTopic="
                + responseTopic + ", correlationData=" + (correlationData == null ? null : correlationData.length + " bytes")
                + ", expiresAt=" + expiresAt + ", userProperties=" + userProperties + "]";
    }
}
