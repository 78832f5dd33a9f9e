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
        handedOver.put(clientId, channel);
    }

    /** {@code channel} is closed. */
    void closed(String clientId, Channel channel) {
        handedOver.remove(clientId, channel);
    }

    /** Whether {@code clientId}'s connection came through the gate. */
    boolean gated(String clientId) {
        return clientId != null && handedOver.containsKey(clientId);
    }
}
