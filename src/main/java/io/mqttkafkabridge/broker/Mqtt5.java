package io.mqttkafkabridge.broker;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import io.mqttkafkabridge.config.BridgeConfig;
import io.mqttkafkabridge.routing.MessageProperties;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnAckVariableHeader;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttConnectVariableHeader;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttProperties.MqttPropertyType;
import io.netty.handler.codec.mqtt.MqttPubReplyMessageVariableHeader;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttReasonCodeAndPropertiesVariableHeader;
import io.netty.handler.codec.mqtt.MqttVersion;

/**
 * MQTT 5 in the gate: the one place that translates between MQTT 5 clients and Moquette 0.17, which speaks 3.1.1.
 * Netty's codec reads and writes MQTT 5 on a channel whose CONNECT had protocol level 5; this class
 * <ul>
 * <li>hands Moquette the CONNECT as level 4 (Clean Start and Session Expiry Interval become clean session; the
 * keep-alive capped by {@code bridge.broker.max-keep-alive}) and keeps MQTT 5's per-connection state in
 * {@link State};</li>
 * <li>writes the CONNACK Moquette sends as MQTT 5: reason codes instead of 3.1.1 return codes, and the properties
 * clients rely on (Receive Maximum, Maximum Packet Size, Topic Alias Maximum, Assigned Client Identifier, what is
 * available, Server Keep Alive, Session Expiry Interval when capped);</li>
 * <li>reads a client's PUBLISH properties (topic aliases resolved) into {@link MessageProperties}, which
 * {@link MessageEnvelope} carries through the broker, and writes them back on each delivery to an MQTT 5 subscriber,
 * with the expiry that is left;</li>
 * <li>gives MQTT 5 clients the reason codes of their refusals, negative acknowledgements and server DISCONNECTs.</li>
 * </ul>
 * Called on the connection's event loop; never blocks.
 */
final class Mqtt5 {

    /** Reason codes the bridge sends (MQTT 5, 2.4). */
    static final int SUCCESS = 0x00;
    static final int DISCONNECT_WITH_WILL = 0x04;
    static final int UNSPECIFIED_ERROR = 0x80;
    static final int MALFORMED_PACKET = 0x81;
    static final int PROTOCOL_ERROR = 0x82;
    static final int UNSUPPORTED_PROTOCOL_VERSION = 0x84;
    static final int CLIENT_IDENTIFIER_NOT_VALID = 0x85;
    static final int BAD_USER_NAME_OR_PASSWORD = 0x86;
    static final int NOT_AUTHORIZED = 0x87;
    static final int SERVER_UNAVAILABLE = 0x88;
    static final int SERVER_BUSY = 0x89;
    static final int SERVER_SHUTTING_DOWN = 0x8B;
    static final int BAD_AUTHENTICATION_METHOD = 0x8C;
    static final int KEEP_ALIVE_TIMEOUT = 0x8D;
    static final int SESSION_TAKEN_OVER = 0x8E;
    static final int TOPIC_NAME_INVALID = 0x90;
    static final int RECEIVE_MAXIMUM_EXCEEDED = 0x93;
    static final int TOPIC_ALIAS_INVALID = 0x94;
    static final int PACKET_TOO_LARGE = 0x95;
    static final int QUOTA_EXCEEDED = 0x97;
    static final int ADMINISTRATIVE_ACTION = 0x98;
    static final int PAYLOAD_FORMAT_INVALID = 0x99;

    /** MQTT 5's "never expires" Session Expiry Interval. */
    static final long NEVER = 0xFFFFFFFFL;

    /** What the bridge knows of one MQTT 5 connection, beside what Moquette keeps (on {@link GateConnection}). */
    static final class State {
        /** The client's Receive Maximum: QoS 1/2 messages it takes unacknowledged at once. */
        int clientReceiveMaximum = 65_535;
        /** The client's Maximum Packet Size, or 0: none given. */
        long clientMaximumPacketSize;
        /** Session Expiry Interval granted, in seconds ({@link #NEVER}: never). */
        long sessionExpiry;
        /** Whether the granted expiry is lower than the client asked for (CONNACK then says it). */
        boolean expiryCapped;
        /** The client id the bridge assigned for an empty one, or null. */
        String assignedClientId;
        /** The keep-alive the bridge holds the client to, when lower than it asked (Server Keep Alive), or -1. */
        int serverKeepAlive = -1;
        /** Topic names by alias, from the client's PUBLISHes (index = alias). */
        final String[] aliases;
        /** QoS 1/2 publishes of the client not yet acknowledged. */
        int unacknowledged;
        /** Ours: the most {@link #unacknowledged} may be. */
        int receiveMaximum;
        /** A CONNACK refusal decided by the gate: its MQTT 5 reason code, or 0 (translated from Moquette's code). */
        int refusal;

        State(int topicAliasMaximum) {
            this.aliases = new String[topicAliasMaximum + 1];
        }
    }

    private final int topicAliasMaximum;
    private final int receiveMaximum;
    private final int maximumPacketSize;
    private final int maxKeepAlive;
    /** {@code bridge.broker.session-expiry} in seconds, or {@link #NEVER}. */
    private final long sessionExpiryCap;

    /** By client id: the Session Expiry Interval its last MQTT 5 connection was granted, in seconds. */
    private final java.util.Map<String, Long> grantedExpiry = new java.util.concurrent.ConcurrentHashMap<>();

    /** {@code clientId} connected: with MQTT 5 and a session that outlives the connection ({@code seconds} > 0), or not (-1). */
    void expiryGranted(String clientId, long seconds) {
        if (seconds > 0) {
            grantedExpiry.put(clientId, seconds);
        } else {
            grantedExpiry.remove(clientId);
        }
    }

    /** A DISCONNECT changed the Session Expiry Interval (capped by {@code session-expiry}). */
    void expiryChanged(String clientId, long seconds) {
        grantedExpiry.put(clientId, Math.min(seconds, sessionExpiryCap));
    }

    /** The Session Expiry Interval {@code clientId}'s MQTT 5 session has, in seconds, or -1 (3.1.1: the broker's). */
    long grantedExpiry(String clientId) {
        Long seconds = grantedExpiry.get(clientId);
        return seconds == null ? -1 : seconds;
    }

    /** The session of {@code clientId} ended. */
    void ended(String clientId) {
        grantedExpiry.remove(clientId);
    }

    Mqtt5(BridgeConfig.Broker config) {
        this.topicAliasMaximum = Math.max(0, Math.min(65_535, config.topicAliasMaximum()));
        this.receiveMaximum = Math.max(1, Math.min(65_535, config.receiveMaximum()));
        this.maximumPacketSize = config.maxMessageSize();
        this.maxKeepAlive = config.maxKeepAlive().map(d -> (int) Math.min(65_535, d.toSeconds())).orElse(-1);
        this.sessionExpiryCap = config.sessionExpiry().map(java.time.Duration::toSeconds).orElse(NEVER);
    }

    /** Whether the connection's CONNECT was MQTT 5. */
    static boolean isMqtt5(MqttConnectMessage connect) {
        return connect.variableHeader().version() == MqttVersion.MQTT_5.protocolLevel();
    }

    /**
     * Reads an MQTT 5 CONNECT into {@code connection}'s state: the reason code to refuse it with, or {@link #SUCCESS}.
     * Enhanced authentication (an Authentication Method) is not offered: 0x8C.
     */
    int connect(GateConnection connection, MqttConnectMessage connect) {
        MqttProperties properties = connect.variableHeader().properties();
        State state = new State(topicAliasMaximum);
        state.receiveMaximum = receiveMaximum;
        connection.mqtt5 = state;
        if (properties.getProperty(MqttPropertyType.AUTHENTICATION_METHOD.value()) != null) {
            return BAD_AUTHENTICATION_METHOD;
        }
        Integer receive = integer(properties, MqttPropertyType.RECEIVE_MAXIMUM);
        if (receive != null) {
            if (receive == 0) {
                return PROTOCOL_ERROR;
            }
            state.clientReceiveMaximum = receive;
        }
        Integer packetSize = integer(properties, MqttPropertyType.MAXIMUM_PACKET_SIZE);
        if (packetSize != null) {
            if (packetSize == 0) {
                return PROTOCOL_ERROR;
            }
            state.clientMaximumPacketSize = Integer.toUnsignedLong(packetSize);
        }
        Integer expiry = integer(properties, MqttPropertyType.SESSION_EXPIRY_INTERVAL);
        long requested = expiry == null ? 0 : Integer.toUnsignedLong(expiry);
        state.sessionExpiry = Math.min(requested, sessionExpiryCap);
        state.expiryCapped = state.sessionExpiry < requested;
        int keepAlive = connect.variableHeader().keepAliveTimeSeconds();
        if (maxKeepAlive >= 0 && (keepAlive == 0 || keepAlive > maxKeepAlive)) {
            state.serverKeepAlive = maxKeepAlive;
        }
        return SUCCESS;
    }

    /**
     * The CONNECT as Moquette 0.17 takes it: level 4, clean session when the session ends with the connection
     * (Session Expiry Interval 0), the keep-alive the bridge holds the client to; MQTT 5 properties dropped.
     */
    static MqttConnectMessage asMqtt311(MqttConnectMessage connect, State state) {
        MqttConnectVariableHeader v = connect.variableHeader();
        int keepAlive = state.serverKeepAlive >= 0 ? state.serverKeepAlive : v.keepAliveTimeSeconds();
        return new MqttConnectMessage(connect.fixedHeader(),
                new MqttConnectVariableHeader(MqttVersion.MQTT_3_1_1.protocolName(), MqttVersion.MQTT_3_1_1.protocolLevel(),
                        v.hasUserName(), v.hasPassword(), v.isWillRetain(), v.willQos(), v.isWillFlag(),
                        state.sessionExpiry == 0, keepAlive),
                connect.payload());
    }

    /** The 3.1.1 keep-alive a CONNECT gets when {@code bridge.broker.max-keep-alive} caps it, or the CONNECT itself. */
    MqttConnectMessage cappedKeepAlive(MqttConnectMessage connect) {
        MqttConnectVariableHeader v = connect.variableHeader();
        int keepAlive = v.keepAliveTimeSeconds();
        if (maxKeepAlive < 0 || (keepAlive != 0 && keepAlive <= maxKeepAlive)) {
            return connect;
        }
        return new MqttConnectMessage(connect.fixedHeader(), new MqttConnectVariableHeader(v.name(), v.version(),
                v.hasUserName(), v.hasPassword(), v.isWillRetain(), v.willQos(), v.isWillFlag(), v.isCleanSession(),
                maxKeepAlive, v.properties()), connect.payload());
    }

    /** Moquette's CONNACK (3.1.1 return code) as MQTT 5: the reason code, and on success the properties. */
    MqttConnAckMessage connack(State state, MqttConnAckMessage connack) {
        int code = connack.variableHeader().connectReturnCode().byteValue() & 0xFF;
        if (code != 0) {
            int reason = state.refusal != 0 ? state.refusal : reasonForReturnCode(code);
            return refusal(reason);
        }
        MqttProperties properties = new MqttProperties();
        properties.add(new MqttProperties.IntegerProperty(MqttPropertyType.RECEIVE_MAXIMUM.value(), receiveMaximum));
        properties.add(new MqttProperties.IntegerProperty(MqttPropertyType.RETAIN_AVAILABLE.value(), 1));
        properties.add(new MqttProperties.IntegerProperty(MqttPropertyType.MAXIMUM_PACKET_SIZE.value(), maximumPacketSize));
        properties.add(new MqttProperties.IntegerProperty(MqttPropertyType.TOPIC_ALIAS_MAXIMUM.value(), topicAliasMaximum));
        properties.add(new MqttProperties.IntegerProperty(MqttPropertyType.WILDCARD_SUBSCRIPTION_AVAILABLE.value(), 1));
        properties.add(new MqttProperties.IntegerProperty(MqttPropertyType.SUBSCRIPTION_IDENTIFIER_AVAILABLE.value(), 1));
        properties.add(new MqttProperties.IntegerProperty(MqttPropertyType.SHARED_SUBSCRIPTION_AVAILABLE.value(), 0));
        if (state.assignedClientId != null) {
            properties.add(new MqttProperties.StringProperty(MqttPropertyType.ASSIGNED_CLIENT_IDENTIFIER.value(),
                    state.assignedClientId));
        }
        if (state.serverKeepAlive >= 0) {
            properties.add(new MqttProperties.IntegerProperty(MqttPropertyType.SERVER_KEEP_ALIVE.value(), state.serverKeepAlive));
        }
        if (state.expiryCapped) {
            properties.add(new MqttProperties.IntegerProperty(MqttPropertyType.SESSION_EXPIRY_INTERVAL.value(),
                    (int) state.sessionExpiry));
        }
        return new MqttConnAckMessage(connack.fixedHeader(), new MqttConnAckVariableHeader(
                MqttConnectReturnCode.CONNECTION_ACCEPTED, connack.variableHeader().isSessionPresent(), properties));
    }

    /** A CONNACK refusing with an MQTT 5 reason code. */
    static MqttConnAckMessage refusal(int reason) {
        return new MqttConnAckMessage(new MqttFixedHeader(MqttMessageType.CONNACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
                new MqttConnAckVariableHeader(MqttConnectReturnCode.valueOf((byte) reason), false, MqttProperties.NO_PROPERTIES));
    }

    /** The MQTT 5 reason code of a 3.1.1 CONNACK return code. */
    static int reasonForReturnCode(int returnCode) {
        return switch (returnCode) {
            case 1 -> UNSUPPORTED_PROTOCOL_VERSION;
            case 2 -> CLIENT_IDENTIFIER_NOT_VALID;
            case 3 -> SERVER_UNAVAILABLE;
            case 4 -> BAD_USER_NAME_OR_PASSWORD;
            case 5 -> NOT_AUTHORIZED;
            default -> UNSPECIFIED_ERROR;
        };
    }

    /** A server DISCONNECT with {@code reason}. */
    static MqttMessage disconnect(int reason) {
        return new MqttMessage(new MqttFixedHeader(MqttMessageType.DISCONNECT, false, MqttQoS.AT_MOST_ONCE, false, 0),
                new MqttReasonCodeAndPropertiesVariableHeader((byte) reason, MqttProperties.NO_PROPERTIES));
    }

    /** A PUBACK or PUBREC with {@code reason}. */
    static MqttMessage ack(MqttMessageType type, int packetId, int reason) {
        return new MqttMessage(new MqttFixedHeader(type, false, MqttQoS.AT_MOST_ONCE, false, 0),
                new MqttPubReplyMessageVariableHeader(packetId, (byte) reason, MqttProperties.NO_PROPERTIES));
    }

    /** The reason code a client's DISCONNECT carries ({@link #SUCCESS} when none). */
    static int reasonOf(MqttMessage disconnect) {
        return disconnect.variableHeader() instanceof MqttReasonCodeAndPropertiesVariableHeader header
                ? header.reasonCode() & 0xFF : SUCCESS;
    }

    /** The Session Expiry Interval a client's DISCONNECT sets, or -1 when it sets none. */
    static long expiryOf(MqttMessage disconnect) {
        if (disconnect.variableHeader() instanceof MqttReasonCodeAndPropertiesVariableHeader header) {
            Integer expiry = integer(header.properties(), MqttPropertyType.SESSION_EXPIRY_INTERVAL);
            return expiry == null ? -1 : Integer.toUnsignedLong(expiry);
        }
        return -1;
    }

    /** Why a client's PUBLISH cannot be taken as it is (a reason code), or {@link #SUCCESS}. */
    record Inbound(int reason, String topic, MessageProperties properties, String problem) {
    }

    /**
     * A client's MQTT 5 PUBLISH: its topic (alias resolved or learnt) and properties, with the expiry counted from
     * {@code nowMillis}; or the reason code of a protocol error (topic alias 0, too high or unknown: 0x94; a
     * Subscription Identifier from a client: 0x82).
     */
    static Inbound inbound(State state, MqttPublishMessage publish, long nowMillis) {
        MqttPublishVariableHeader header = publish.variableHeader();
        MqttProperties properties = header.properties();
        String topic = header.topicName();
        Integer alias = integer(properties, MqttPropertyType.TOPIC_ALIAS);
        if (alias != null) {
            if (alias == 0 || alias >= state.aliases.length) {
                return new Inbound(TOPIC_ALIAS_INVALID, topic, null, "topic alias " + alias + " (Topic Alias Maximum "
                        + (state.aliases.length - 1) + ")");
            }
            if (topic.isEmpty()) {
                topic = state.aliases[alias];
                if (topic == null) {
                    return new Inbound(TOPIC_ALIAS_INVALID, "", null, "topic alias " + alias + " was never set");
                }
            } else {
                state.aliases[alias] = topic;
            }
        } else if (topic.isEmpty()) {
            return new Inbound(PROTOCOL_ERROR, topic, null, "an empty topic name without a topic alias");
        }
        if (properties.getProperty(MqttPropertyType.SUBSCRIPTION_IDENTIFIER.value()) != null) {
            return new Inbound(PROTOCOL_ERROR, topic, null, "a Subscription Identifier in a PUBLISH from a client");
        }
        return new Inbound(SUCCESS, topic, messageProperties(properties, nowMillis), null);
    }

    /** The properties of a PUBLISH (a will's, too) as the bridge keeps them; the expiry counted from {@code nowMillis}. */
    static MessageProperties messageProperties(MqttProperties properties, long nowMillis) {
        if (properties == null || properties.isEmpty()) {
            return MessageProperties.NONE;
        }
        Integer format = integer(properties, MqttPropertyType.PAYLOAD_FORMAT_INDICATOR);
        String contentType = string(properties, MqttPropertyType.CONTENT_TYPE);
        String responseTopic = string(properties, MqttPropertyType.RESPONSE_TOPIC);
        MqttProperties.MqttProperty<?> correlation = properties.getProperty(MqttPropertyType.CORRELATION_DATA.value());
        Integer expiry = integer(properties, MqttPropertyType.PUBLICATION_EXPIRY_INTERVAL);
        List<MessageProperties.UserProperty> user = List.of();
        List<? extends MqttProperties.MqttProperty> pairs = properties.getProperties(MqttPropertyType.USER_PROPERTY.value());
        if (!pairs.isEmpty()) {
            List<MessageProperties.UserProperty> list = new ArrayList<>();
            for (MqttProperties.MqttProperty<?> property : pairs) {
                if (property instanceof MqttProperties.UserProperties all) {
                    for (MqttProperties.StringPair pair : all.value()) {
                        list.add(new MessageProperties.UserProperty(pair.key, pair.value));
                    }
                } else if (property instanceof MqttProperties.UserProperty one) {
                    list.add(new MessageProperties.UserProperty(one.value().key, one.value().value));
                }
            }
            user = list;
        }
        long expiresAt = expiry == null ? 0 : nowMillis + Integer.toUnsignedLong(expiry) * 1000L;
        return new MessageProperties(format, contentType, responseTopic,
                correlation == null ? null : (byte[]) correlation.value(), expiresAt, user);
    }

    /** {@code properties} as a PUBLISH to an MQTT 5 subscriber carries them, with the expiry left at {@code nowMillis}. */
    static MqttProperties nettyProperties(MessageProperties properties, long nowMillis) {
        if (properties.isEmpty()) {
            return MqttProperties.NO_PROPERTIES;
        }
        MqttProperties out = new MqttProperties();
        if (properties.payloadFormat() != null) {
            out.add(new MqttProperties.IntegerProperty(MqttPropertyType.PAYLOAD_FORMAT_INDICATOR.value(), properties.payloadFormat()));
        }
        long remaining = properties.remainingExpirySeconds(nowMillis);
        if (remaining > 0) {
            out.add(new MqttProperties.IntegerProperty(MqttPropertyType.PUBLICATION_EXPIRY_INTERVAL.value(),
                    (int) Math.min(remaining, NEVER)));
        }
        if (properties.contentType() != null) {
            out.add(new MqttProperties.StringProperty(MqttPropertyType.CONTENT_TYPE.value(), properties.contentType()));
        }
        if (properties.responseTopic() != null) {
            out.add(new MqttProperties.StringProperty(MqttPropertyType.RESPONSE_TOPIC.value(), properties.responseTopic()));
        }
        if (properties.correlationData() != null) {
            out.add(new MqttProperties.BinaryProperty(MqttPropertyType.CORRELATION_DATA.value(), properties.correlationData()));
        }
        if (!properties.userProperties().isEmpty()) {
            List<MqttProperties.StringPair> pairs = new ArrayList<>(properties.userProperties().size());
            for (MessageProperties.UserProperty property : properties.userProperties()) {
                pairs.add(new MqttProperties.StringPair(property.name(), property.value()));
            }
            out.add(new MqttProperties.UserProperties(pairs));
        }
        return out;
    }

    /** The Will Delay Interval of a will's properties, in seconds (0: none). */
    static long willDelaySeconds(MqttProperties willProperties) {
        Integer delay = integer(willProperties, MqttPropertyType.WILL_DELAY_INTERVAL);
        return delay == null ? 0 : Integer.toUnsignedLong(delay);
    }

    /** Whether {@code payload} is valid UTF-8 (for Payload Format Indicator 1). */
    static boolean isUtf8(byte[] payload) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(payload));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    /**
     * A PUBLISH Moquette writes, as a subscriber gets it: the payload out of its {@link MessageEnvelope}
     * ({@code opened}, or null when the payload is bare), for an MQTT 5 subscriber ({@code mqtt5}) with its properties
     * and the Subscription Identifiers that matched, for a 3.1.1 one bare. The original is released; the new message
     * shares its buffer.
     */
    static MqttPublishMessage outbound(MqttPublishMessage publish, MessageEnvelope.Opened opened, boolean mqtt5, boolean retain,
            List<Integer> identifiers, long nowMillis) {
        ByteBuf kept = publish.payload();
        ByteBuf payload = opened == null ? kept.retain() : kept.retainedSlice(kept.readerIndex() + opened.payloadOffset(),
                kept.readableBytes() - opened.payloadOffset());
        MqttPublishVariableHeader header = publish.variableHeader();
        MqttProperties properties = mqtt5 && opened != null ? nettyProperties(opened.properties(), nowMillis)
                : MqttProperties.NO_PROPERTIES;
        if (mqtt5 && !identifiers.isEmpty()) {
            if (properties == MqttProperties.NO_PROPERTIES) {
                properties = new MqttProperties();
            }
            for (int identifier : identifiers) {
                properties.add(new MqttProperties.IntegerProperty(MqttPropertyType.SUBSCRIPTION_IDENTIFIER.value(), identifier));
            }
        }
        MqttFixedHeader fixed = publish.fixedHeader();
        MqttPublishMessage out = new MqttPublishMessage(new MqttFixedHeader(MqttMessageType.PUBLISH, fixed.isDup(),
                fixed.qosLevel(), retain, 0), new MqttPublishVariableHeader(header.topicName(), header.packetId(), properties),
                payload);
        publish.release();
        return out;
    }

    /** The size in bytes of {@code publish} on the wire, for the client's Maximum Packet Size (an estimate from above). */
    static long encodedSizeAtMost(MqttPublishMessage publish) {
        long size = 2 + 4 + publish.variableHeader().topicName().length() * 3L + 2 + publish.payload().readableBytes();
        MqttProperties properties = publish.variableHeader().properties();
        if (properties != null && !properties.isEmpty()) {
            for (MqttProperties.MqttProperty<?> property : properties.listAll()) {
                Object value = property.value();
                size += 5;
                if (value instanceof String text) {
                    size += 2 + text.length() * 3L;
                } else if (value instanceof byte[] bytes) {
                    size += 2 + bytes.length;
                } else if (value instanceof List<?> pairs) {
                    for (Object pair : pairs) {
                        size += pair instanceof MqttProperties.StringPair p ? 4 + (p.key.length() + p.value.length()) * 3L : 8;
                    }
                } else {
                    size += 4;
                }
            }
        }
        return size;
    }

    private static Integer integer(MqttProperties properties, MqttPropertyType type) {
        MqttProperties.MqttProperty<?> property = properties == null ? null : properties.getProperty(type.value());
        return property != null && property.value() instanceof Integer value ? value : null;
    }

    private static String string(MqttProperties properties, MqttPropertyType type) {
        MqttProperties.MqttProperty<?> property = properties.getProperty(type.value());
        return property != null && property.value() instanceof String value ? value : null;
    }

    /** Writes a server DISCONNECT with {@code reason} to an MQTT 5 client, then closes the connection. */
    static void disconnectAndClose(ChannelHandlerContext ctx, int reason) {
        ctx.writeAndFlush(disconnect(reason)).addListener(io.netty.channel.ChannelFutureListener.CLOSE);
    }
}
