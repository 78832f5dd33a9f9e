package io.mqttkafkabridge.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.runtime.annotations.RegisterForReflection;

/** The values of the cluster's state records, as JSON, and the headers of forwarded publishes. */
public final class ClusterRecords {

    static final String HEADER_ORIGIN = "cluster.origin";
    static final String HEADER_TARGETS = "cluster.targets";
    static final String HEADER_KIND = "cluster.kind";
    static final String KIND_DISCONNECT = "disconnect";
    /** A message of a persistent session handed over to the replica its client reconnected to. */
    static final String KIND_HANDOVER = "handover";
    /** The last record of a handover; its value is the number of messages, as text. */
    static final String KIND_HANDOVER_END = "handover-end";
    /** A forwarded publish passed on by the replica a session left ({@code Cluster#relayMoved}): never passed on again. */
    static final String KIND_RELAYED = "relayed";
    /** Header of a handover record: the message's MQTT topic (the key is the client id). */
    static final String HEADER_TOPIC = "cluster.topic";
    static final char KEY_SEPARATOR = '\u0000';

    private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private ClusterRecords() {
    }

    /** {@code <name>.nodes}: a replica's heartbeat, with its figures. {@code state}: up or stopped. */
    @RegisterForReflection
    public record Node(String node, String instance, String state, long startedAt, long heartbeatAt, int clients,
            int subscriptions, long forwarded, long received, long lag, int mqttPort) {
    }

    /**
     * {@code <name>.sessions}: the replica that holds a client's session, for which connection ({@code nonce}).
     * {@code state}: connected, or offline (a persistent session waiting for its client, until {@code expiresAt}, 0 for
     * never); {@code filters}: its subscriptions with their QoS; {@code from}: the replica it is being handed over from
     * (the one that held it before), or null.
     */
    @RegisterForReflection
    public record Session(String clientId, String node, String nonce, String username, long connectedAt, boolean cleanSession,
            Map<String, Integer> filters, String state, long expiresAt, String from) {

        static final String CONNECTED = "connected";
        static final String OFFLINE = "offline";

        public boolean connected() {
            return CONNECTED.equals(state);
        }

        Session with(String newState, long newExpiresAt, Map<String, Integer> newFilters) {
            return new Session(clientId, node, nonce, username, connectedAt, cleanSession, newFilters, newState, newExpiresAt, from);
        }
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
