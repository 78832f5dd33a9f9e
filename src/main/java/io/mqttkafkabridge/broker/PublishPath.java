package io.mqttkafkabridge.broker;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.metrics.BridgeMetrics;
import io.mqttkafkabridge.routing.MessageProperties;
import io.mqttkafkabridge.routing.MqttPublication;
import io.mqttkafkabridge.security.MqttAccess;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPubReplyMessageVariableHeader;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.util.ReferenceCountUtil;

/**
 * A device's PUBLISH on its way into the broker, in wire order, on the connection's event loop, strictly before
 * Moquette sees it. This is where nothing is acknowledged before it is on disk: Moquette writes the PUBACK (PUBREC)
 * only after it has read the packet, and the packet reaches Moquette only after its journal append.
 * <ol>
 * <li>A topic name with a wildcard or NUL, or deeper than {@code bridge.broker.max-topic-levels}: the connection is
 * closed (MQTT-3.3.2-2), nothing journaled.</li>
 * <li>A topic the policy denies ($-topics, the ACL file): acknowledged as Mosquitto does, dropped, counted and logged
 * once per connection (MKB0012); not journaled.</li>
 * <li>A QoS 2 packet id this client sent before and has not released yet (PUBREL): answered with PUBREC again and
 * neither journaled nor delivered a second time (MQTT 4.3.3, method A).</li>
 * <li>The uplink journal full, or an append that fails: dropped without an acknowledgement, so the device keeps the
 * message and sends it again.</li>
 * <li>Otherwise: appended to the uplink journal; a retained publish updates the {@link RetainedStore} (at any QoS; an
 * empty payload clears it); the packet goes on to Moquette with its payload copied off the read buffer and with
 * DUP=0. Moquette 0.17 treats DUP=1 as a resend to the subscribers a failed attempt missed, finds none, and its session
 * loop dies on {@code retain(0)} (upstream #750); a resend is, for the broker, a publish like any other (QoS 1 may
 * duplicate; QoS 2 duplicates are caught above).</li>
 * </ol>
 */
final class PublishPath {

    /** Stores a publish in the uplink journal; false when it could not (full, disk error). */
    interface Journal {
        boolean append(MqttPublication publication);
    }

    private final MqttAccess access;
    private final Journal journal;
    private final java.util.function.BooleanSupplier journalHasRoom;
    private final RetainedStore retained;
    private final GateOutcomes outcomes;
    private final MeterRegistry registry;
    private final int maxTopicLevels;
    private final Counter[] received = new Counter[3];
    private final Counter duplicates;
    /** By protocol level 3, 4, 5. */
    private final Counter[] receivedByProtocol = new Counter[6];
    /** By client id: QoS 2 packet ids received and not yet released; kept across reconnects of a persistent session. */
    private final Map<String, Set<Integer>> qos2Unreleased = new ConcurrentHashMap<>();

    private final Mqtt5Subscriptions subscriptions;

    PublishPath(MqttAccess access, Journal journal, java.util.function.BooleanSupplier journalHasRoom, RetainedStore retained,
            GateOutcomes outcomes, int maxTopicLevels, Mqtt5Subscriptions subscriptions, MeterRegistry registry) {
        this.subscriptions = subscriptions;
        this.access = access;
        this.journal = journal;
        this.journalHasRoom = journalHasRoom;
        this.retained = retained;
        this.outcomes = outcomes;
        this.maxTopicLevels = maxTopicLevels;
        this.registry = registry;
        for (int qos = 0; qos < received.length; qos++) {
            received[qos] = Counter.builder(BridgeMetrics.MQTT_MESSAGES_RECEIVED).tag("qos", Integer.toString(qos))
                    .description("PUBLISH packets devices sent that the broker accepted").register(registry);
        }
        for (int level = 3; level <= 5; level++) {
            receivedByProtocol[level] = Counter.builder(BridgeMetrics.MQTT_MESSAGES_RECEIVED_BY_PROTOCOL)
                    .tag("protocol", GatedClients.versionName(level))
                    .description("PUBLISH packets devices sent that the broker accepted, by MQTT version").register(registry);
        }
        duplicates = Counter.builder(BridgeMetrics.MQTT_PUBLISH_DUPLICATES)
                .description("QoS 2 PUBLISH packets resent with a packet id not yet released: answered, not delivered again")
                .register(registry);
    }

    /**
     * Why {@code topic} cannot be published to at all (the connection is closed for it), or null. $-topics and the
     * ACL are the policy's ({@link MqttAccess#publishDenial}), not this.
     */
    static String invalidTopic(String topic, int maxTopicLevels) {
        if (topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0) {
            return "a topic name with a wildcard (MQTT-3.3.2-2): '" + topic + "'";
        }
        if (topic.indexOf('\u0000') >= 0) {
            return "a topic name with a NUL character (MQTT-1.5.3-2)";
        }
        if (maxTopicLevels > 0) {
            int levels = 1;
            for (int i = 0; i < topic.length(); i++) {
                if (topic.charAt(i) == '/' && ++levels > maxTopicLevels) {
                    return "a topic with more than " + maxTopicLevels + " levels (bridge.broker.max-topic-levels)";
                }
            }
        }
        return null;
    }

    /** A clean session starts with no QoS 2 exchange open; a persistent one keeps what it had. */
    void connected(GateConnection connection) {
        if (connection.cleanSession) {
            qos2Unreleased.remove(connection.clientId);
        }
    }

    void closed(GateConnection connection) {
        if (connection.cleanSession && connection.clientId != null) {
            qos2Unreleased.remove(connection.clientId);
        }
    }

    /** PUBREL: the QoS 2 packet id is free again (the PUBREL goes on to Moquette, which sends PUBCOMP). */
    void released(GateConnection connection, int packetId) {
        Set<Integer> unreleased = qos2Unreleased.get(connection.clientId);
        if (unreleased != null) {
            unreleased.remove(packetId);
        }
    }

    /** The PUBLISH for Moquette, or null when it was answered here, dropped or closed (and released). */
    MqttPublishMessage read(ChannelHandlerContext ctx, GateConnection connection, MqttPublishMessage publish) {
        String topic = publish.variableHeader().topicName();
        int qos = publish.fixedHeader().qosLevel().value();
        int packetId = publish.variableHeader().packetId();
        MessageProperties properties = MessageProperties.NONE;
        Mqtt5.State mqtt5 = connection.mqtt5;
        if (mqtt5 != null) {
            Mqtt5.Inbound inbound = Mqtt5.inbound(mqtt5, publish, System.currentTimeMillis());
            if (inbound.reason() != Mqtt5.SUCCESS) {
                ReferenceCountUtil.release(publish);
                outcomes.close(ctx, "protocol-violation", inbound.reason(), "PUBLISH with " + inbound.problem());
                return null;
            }
            topic = inbound.topic();
            properties = inbound.properties();
        }
        String invalid = invalidTopic(topic, maxTopicLevels);
        if (invalid != null) {
            ReferenceCountUtil.release(publish);
            if (mqtt5 != null && qos > 0) {
                // MQTT 5 can say why and keep the connection
                rejected(ctx, connection, "invalid-topic", qos, packetId, Mqtt5.TOPIC_NAME_INVALID);
            } else {
                outcomes.close(ctx, "protocol-violation", Mqtt5.TOPIC_NAME_INVALID, "PUBLISH to " + invalid);
            }
            return null;
        }
        if (properties.payloadFormat() != null && properties.payloadFormat() == 1 && !isUtf8(publish.payload())) {
            ReferenceCountUtil.release(publish);
            rejected(ctx, connection, "payload-format-invalid", qos, packetId, Mqtt5.PAYLOAD_FORMAT_INVALID);
            return null;
        }
        Optional<String> denial = access.publishDenial(topic, connection.username, connection.clientId);
        if (denial.isPresent()) {
            ReferenceCountUtil.release(publish);
            denied(ctx, connection, topic, qos, packetId, denial.get());
            return null;
        }
        if (qos == 2 && qos2Unreleased.getOrDefault(connection.clientId, Set.of()).contains(packetId)) {
            ReferenceCountUtil.release(publish);
            duplicates.increment();
            ctx.writeAndFlush(ack(MqttMessageType.PUBREC, packetId));
            return null;
        }
        if (mqtt5 != null && qos > 0 && ++mqtt5.unacknowledged > mqtt5.receiveMaximum) {
            // counted from here on: Moquette acknowledges it, or nobody does (journal full) and the client keeps it
            ReferenceCountUtil.release(publish);
            outcomes.close(ctx, "protocol-violation", Mqtt5.RECEIVE_MAXIMUM_EXCEEDED, "more than "
                    + mqtt5.receiveMaximum + " QoS 1/2 publishes unacknowledged (Receive Maximum)");
            return null;
        }
        if (!journalHasRoom.getAsBoolean()) {
            ReferenceCountUtil.release(publish); // no PUBACK: the device keeps it and sends it again
            return null;
        }
        ByteBuf content = publish.payload();
        byte[] payload = new byte[content.readableBytes()];
        content.getBytes(content.readerIndex(), payload);
        boolean retain = publish.fixedHeader().isRetain();
        ReferenceCountUtil.release(publish);
        if (!journal.append(new MqttPublication(topic, payload, qos, retain, connection.clientId, connection.username,
                properties))) {
            return null;
        }
        received[qos].increment();
        if (connection.protocolLevel >= 3 && connection.protocolLevel <= 5) {
            receivedByProtocol[connection.protocolLevel].increment();
        }
        if (qos == 2) {
            qos2Unreleased.computeIfAbsent(connection.clientId, id -> ConcurrentHashMap.newKeySet()).add(packetId);
        }
        // what the broker keeps: the properties ride inside (MessageEnvelope), with the RETAIN flag as published and,
        // when a No Local subscription of the publisher's matches, its client id
        String origin = mqtt5 != null && subscriptions.noLocalMatches(connection.clientId, topic) ? connection.clientId : null;
        byte[] kept = MessageEnvelope.wrap(payload, properties, retain, origin);
        if (retain) {
            if (payload.length == 0) {
                retained.clear(topic);
            } else {
                retained.keep(topic, qos, kept);
            }
        }
        // a copy the size of the payload, off the connection's pooled 64 KiB read buffer, which a queued message would
        // otherwise keep alive; DUP=0 (see the class comment)
        return new MqttPublishMessage(new MqttFixedHeader(MqttMessageType.PUBLISH, false, publish.fixedHeader().qosLevel(),
                retain, 0), mqtt5 == null ? publish.variableHeader() : new MqttPublishVariableHeader(topic, packetId),
                Unpooled.wrappedBuffer(kept));
    }

    /** A PUBLISH not taken, answered to an MQTT 5 client with {@code reason} (QoS 1, 2) and counted. */
    private void rejected(ChannelHandlerContext ctx, GateConnection connection, String why, int qos, int packetId, int reason) {
        Counter.builder(BridgeMetrics.MQTT_PUBLISH_DENIED).tag("reason", why)
                .description("PUBLISH packets dropped by the topic policy").register(registry).increment();
        if (qos == 1) {
            ctx.writeAndFlush(Mqtt5.ack(MqttMessageType.PUBACK, packetId, reason));
        } else if (qos == 2) {
            ctx.writeAndFlush(Mqtt5.ack(MqttMessageType.PUBREC, packetId, reason));
        }
    }

    private static boolean isUtf8(ByteBuf payload) {
        byte[] bytes = new byte[payload.readableBytes()];
        payload.getBytes(payload.readerIndex(), bytes);
        return Mqtt5.isUtf8(bytes);
    }

    /**
     * An acknowledgement written to an MQTT 5 client ends one of its QoS 1/2 publishes (PUBACK, PUBCOMP, or a PUBREC
     * that refuses): one fewer towards its Receive Maximum.
     */
    static void acknowledged(GateConnection connection, MqttMessage message) {
        MqttMessageType type = message.fixedHeader().messageType();
        boolean ends = type == MqttMessageType.PUBACK || type == MqttMessageType.PUBCOMP
                || (type == MqttMessageType.PUBREC && message.variableHeader() instanceof MqttPubReplyMessageVariableHeader reply
                        && (reply.reasonCode() & 0xFF) >= 0x80);
        if (ends && connection.mqtt5.unacknowledged > 0) {
            connection.mqtt5.unacknowledged--;
        }
    }

    private void denied(ChannelHandlerContext ctx, GateConnection connection, String topic, int qos, int packetId, String reason) {
        Counter.builder(BridgeMetrics.MQTT_PUBLISH_DENIED).tag("reason", reason)
                .description("PUBLISH packets dropped by the topic policy").register(registry).increment();
        if (!connection.publishDenialLogged) {
            connection.publishDenialLogged = true;
            BridgeLog.LOG.publishDenied(connection.clientId, String.valueOf(connection.username), topic, reason);
        }
        if (connection.mqtt5 != null) {
            // MQTT 5 says why: 0x87 Not authorized
            if (qos == 1) {
                ctx.writeAndFlush(Mqtt5.ack(MqttMessageType.PUBACK, packetId, Mqtt5.NOT_AUTHORIZED));
            } else if (qos == 2) {
                ctx.writeAndFlush(Mqtt5.ack(MqttMessageType.PUBREC, packetId, Mqtt5.NOT_AUTHORIZED));
            }
            return;
        }
        // MQTT 3.1.1 has no negative PUBACK: acknowledge so the client does not resend it for ever (as Mosquitto does)
        if (qos == 1) {
            ctx.writeAndFlush(ack(MqttMessageType.PUBACK, packetId));
        } else if (qos == 2) {
            ctx.writeAndFlush(ack(MqttMessageType.PUBREC, packetId));
        }
    }

    static MqttMessage ack(MqttMessageType type, int packetId) {
        return new MqttMessage(new MqttFixedHeader(type, false, type == MqttMessageType.PUBREL ? MqttQoS.AT_LEAST_ONCE
                : MqttQoS.AT_MOST_ONCE, false, 0), MqttMessageIdVariableHeader.from(packetId));
    }
}
