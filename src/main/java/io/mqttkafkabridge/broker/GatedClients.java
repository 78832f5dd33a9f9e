package io.mqttkafkabridge.broker;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.netty.channel.Channel;

/**
 * The connections {@link MqttGate} handed to Moquette, by client id. Moquette listens from {@code startServer} on,
 * and the gate is in the pipeline of connections accepted only after it is installed, a moment later: a device that
 * connected in between (one retrying every second against a replica that restarts, measured in ClusterSessionsIT)
 * had no gate, and its publishes were acknowledged without being journaled: not in Kafka, not forwarded. Such a
 * connection may neither publish nor subscribe ({@link BrokerSecurity}) and is closed as soon as Moquette reports it
 * ({@link ClientTracker}), so that the device reconnects through the gate. Thread-safe.
 */
final class GatedClients {

    private final Map<String, Channel> handedOver = new ConcurrentHashMap<>();

    /** The gate hands {@code channel}'s CONNECT to Moquette. */
    void admitted(String clientId, Channel channel) {
        Channel previous = handedOver.put(clientId, channel);
        if (previous != null && previous != channel) {
            tell(previous, Mqtt5.SESSION_TAKEN_OVER);
        }
    }

    /**
     * The session of {@code clientId} is taken over (by a connection here or on another replica): an MQTT 5 client
     * still connected is told so (DISCONNECT 0x8E) before Moquette closes its connection.
     */
    void takenOver(String clientId) {
        tell(clientId, Mqtt5.SESSION_TAKEN_OVER);
    }

    /** Tells {@code clientId}, when it is connected with MQTT 5, why the bridge closes its connection (DISCONNECT). */
    void tell(String clientId, int reason) {
        Channel channel = clientId == null ? null : handedOver.get(clientId);
        if (channel != null) {
            tell(channel, reason);
        }
    }

    /** Tells every MQTT 5 client connected why the bridge closes its connection (DISCONNECT {@code reason}). */
    void tellEveryone(int reason) {
        handedOver.values().forEach(channel -> tell(channel, reason));
    }

    private static void tell(Channel channel, int reason) {
        GateConnection connection = GateConnection.of(channel);
        if (channel.isActive() && connection != null && connection.mqtt5 != null) {
            channel.writeAndFlush(Mqtt5.disconnect(reason));
        }
    }

    /** {@code channel} is closed. */
    void closed(String clientId, Channel channel) {
        handedOver.remove(clientId, channel);
    }

    /** The MQTT version ({@code 3.1}, {@code 3.1.1}, {@code 5}) {@code clientId} is connected with here, or null. */
    String protocolVersion(String clientId) {
        Channel channel = clientId == null ? null : handedOver.get(clientId);
        GateConnection connection = channel == null ? null : GateConnection.of(channel);
        return connection == null ? null : versionName(connection.protocolLevel);
    }

    /** Connected clients of MQTT version {@code version} ({@link #versionName}). */
    int connectedWith(String version) {
        int count = 0;
        for (Channel channel : handedOver.values()) {
            GateConnection connection = GateConnection.of(channel);
            if (connection != null && connection.accepted && version.equals(versionName(connection.protocolLevel))) {
                count++;
            }
        }
        return count;
    }

    /** The name of a CONNECT's protocol level. */
    static String versionName(int protocolLevel) {
        return switch (protocolLevel) {
            case 3 -> "3.1";
            case 4 -> "3.1.1";
            case 5 -> "5";
            default -> "unknown";
        };
    }

    /** Whether {@code clientId}'s connection came through the gate. */
    boolean gated(String clientId) {
        return clientId != null && handedOver.containsKey(clientId);
    }
}
