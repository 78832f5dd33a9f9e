package io.mqttkafkabridge.broker;

import java.util.ArrayDeque;
import java.util.concurrent.ScheduledFuture;

import io.netty.channel.ChannelHandlerContext;
import io.netty.util.AttributeKey;

/**
 * What the gate knows about one MQTT connection, kept on its Netty channel. Read and written only on that channel's
 * event loop, by {@link MqttGate} and the concerns it delegates to ({@link Admission}, {@link FlowControl},
 * {@link PublishPath}, {@link DeliveryFilter}).
 */
final class GateConnection {

    private static final AttributeKey<GateConnection> KEY = AttributeKey.valueOf("mqtt-kafka-bridge.connection");

    /** The remote IP address, for log lines and the CONNECT rate. */
    final String address;
    /** A CONNECT was accepted and handed to Moquette. */
    boolean connected;
    /** Counted in {@code bridge.broker.max-connections}. */
    boolean counted;
    boolean cleanSession;
    boolean publishDenialLogged;
    String clientId;
    String username;
    /** The connect timeout, until the CONNECT comes. */
    ScheduledFuture<?> deadline;
    /**
     * While reading is paused (broker behind, or CONNACK not yet written): what was decoded after the pause, in order,
     * for Moquette once the pause ends ({@link FlowControl}).
     */
    ArrayDeque<Object> held;
    /** The CONNECT went on to Moquette; its CONNACK has not been written yet. */
    boolean awaitingConnack;
    /** Moquette sent CONNACK 0 for it. */
    boolean accepted;
    /**
     * The will of the CONNECT, which the gate publishes itself (Moquette is given the CONNECT without it): when the
     * connection ends in any way but a DISCONNECT, including a takeover by a newer connection here or on another replica.
     */
    io.mqttkafkabridge.routing.MqttPublication will;
    /** The MQTT 5 state of an MQTT 5 connection ({@link Mqtt5}); null for 3.1 and 3.1.1. */
    Mqtt5.State mqtt5;
    /** MQTT 5 Clean Start with a session that outlives the connection: the old session is discarded first. */
    boolean discardSession;
    /** An MQTT 5 DISCONNECT set the Session Expiry Interval to 0: the session ends with this connection. */
    boolean discardOnClose;
    /** The protocol level of its CONNECT (3: 3.1, 4: 3.1.1, 5: 5), 0 before it. */
    int protocolLevel;
    /** MQTT 5: SUBSCRIBEs and UNSUBSCRIBEs waiting for Moquette's answer, by packet id ({@link Mqtt5Subscriptions}). */
    java.util.Map<Integer, Object> pendingSubscribes;
    java.util.Map<Integer, Short[]> pendingUnsubscribes;
    /** MQTT 5: the filters of the last SUBACK whose Retain Handling withholds the retained messages sent for it. */
    java.util.List<io.mqttkafkabridge.routing.TopicFilter> withholdRetained;
    /** MQTT 5: the will's Will Delay Interval and Message Expiry Interval, in milliseconds (0: none). */
    long willDelayMillis;
    long willExpiryMillis;
    /** What the subscriber may receive ({@link DeliveryFilter}). */
    final DeliveryFilter.Subscriptions subscriptions = new DeliveryFilter.Subscriptions();

    private GateConnection(String address) {
        this.address = address;
    }

    static GateConnection open(ChannelHandlerContext ctx, String address) {
        GateConnection connection = new GateConnection(address);
        ctx.channel().attr(KEY).set(connection);
        return connection;
    }

    /** The connection's state, or null for a channel the gate did not see open. */
    static GateConnection of(ChannelHandlerContext ctx) {
        return ctx.channel().attr(KEY).get();
    }

    /** The connection's state, or null for a channel the gate did not see open. */
    static GateConnection of(io.netty.channel.Channel channel) {
        return channel.attr(KEY).get();
    }
}
