package io.mqttkafkabridge.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.runtime.annotations.RegisterForReflection;

/** The values of the cluster's state records, as JSON, and the headers of forwarded publishes. */
public final class ClusterRecords {

    static final String HEADER_ORIGIN = "cluster.origin";
    static final String HEADER_TARGETS = "cluster.targets";
    static final String HEADER_KIND = "cluster.kind";
    static final String KIND_DISCONNECT = "disconnect";
    static final char KEY_SEPARATOR = '\u0000';

    private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private ClusterRecords() {
    }

    /** {@code <name>.nodes}: a replica's heartbeat, with its figures. {@code state}: up or stopped. */
    @RegisterForReflection
    public record Node(String node, String instance, String state, long startedAt, long heartbeatAt, int clients,
            int subscriptions, long forwarded, long received, long lag, int mqttPort) {
    }

    /** {@code <name>.sessions}: the replica a client is connected to, for which connection ({@code nonce}). */
    @RegisterForReflection
    public record Session(String clientId, String node, String nonce, String username, long connectedAt, boolean cleanSession,
            List<String> subscriptions) {
    }

    static byte[] write(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static <T> T read(byte[] value, Class<T> type) {
        try {
            return JSON.readValue(value, type);
        } catch (IOException e) {
            throw new IllegalArgumentException("not a " + type.getSimpleName() + " record: " + e.getMessage(), e);
        }
    }

    /** The last value of header {@code name} as text, or null. */
    static String header(org.apache.kafka.clients.consumer.ConsumerRecord<?, ?> record, String name) {
        org.apache.kafka.common.header.Header header = record.headers().lastHeader(name);
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    static String subscriptionKey(String node, String filter) {
        return node + KEY_SEPARATOR + filter;
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
