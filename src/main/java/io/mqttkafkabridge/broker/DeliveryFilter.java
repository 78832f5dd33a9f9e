package io.mqttkafkabridge.broker;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.moquette.broker.subscriptions.ISubscriptionsDirectory;
import io.moquette.broker.subscriptions.Subscription;
import io.moquette.broker.subscriptions.Topic;
import io.mqttkafkabridge.metrics.BridgeMetrics;
import io.mqttkafkabridge.routing.TopicFilter;
import io.mqttkafkabridge.security.MqttAccess;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttUnsubscribeMessage;
import io.netty.util.ReferenceCountUtil;

/**
 * What a subscriber receives, decided on the wire as Mosquitto decides it, for every PUBLISH Moquette writes to a
 * connection (on its event loop, before the encoder):
 * <ul>
 * <li><b>Read access per message.</b> Moquette checks the ACL only when a subscription is made; Mosquitto checks each
 * message against the subscriber's read access when it is delivered, which is what lets an ACL file deny
 * {@code secret/#} and still grant {@code #}. A message the subscriber may not read is not written.</li>
 * <li><b>Nothing after UNSUBACK.</b> Moquette's session loops may still hand a connection a message matched before
 * its UNSUBSCRIBE took effect; once the UNSUBACK is written, a new message whose topic matches a filter the connection
 * unsubscribed from is written only if another of its subscriptions still matches (Moquette's subscription tree).</li>
 * <li><b>RETAIN=1</b> on a message sent to a new subscription from the retained store (MQTT-3.3.1-8), which
 * Moquette 0.17 always writes with RETAIN=0 ({@link RetainedStore#isRetainedDelivery}).</li>
 * </ul>
 * A PUBLISH that is not written is acknowledged to Moquette as the client would have (PUBACK; PUBREC, then PUBCOMP for
 * the PUBREL Moquette answers with, which is not written either), so that its in-flight window moves on. A resend
 * (DUP=1) of a message already written is always written (MQTT-3.10.4-3).
 */
final class DeliveryFilter {

    /** Per connection: the filters it unsubscribed from, and what it is unsubscribing from now. */
    static final class Subscriptions {
        private final Map<Integer, List<String>> unsubscribing = new HashMap<>();
        private final Set<TopicFilter> unsubscribed = new java.util.LinkedHashSet<>();
        /** Set once a connection has unsubscribed from too many filters to keep: every message is checked then. */
        private boolean checkEvery;
        /** Packet ids of QoS 2 messages not written, whose PUBREL Moquette will send: answered, not written. */
        private final Set<Integer> suppressedQos2 = new HashSet<>();
    }

    /** Filters kept per connection; beyond, every message to it is checked against the subscription tree. */
    private static final int MAX_UNSUBSCRIBED = 1000;

    private final MqttAccess access;
    private final RetainedStore retained;
    private final ISubscriptionsDirectory subscriptions;
    private final Counter deniedByAcl;
    private final Counter afterUnsubscribe;
    private final Counter expired;
    private final Counter tooLarge;
    private final Counter noLocal;
    private final Counter retainHandling;
    private final Mqtt5Subscriptions mqtt5Subscriptions;

    DeliveryFilter(MqttAccess access, RetainedStore retained, ISubscriptionsDirectory subscriptions,
            Mqtt5Subscriptions mqtt5Subscriptions, MeterRegistry registry) {
        this.access = access;
        this.mqtt5Subscriptions = mqtt5Subscriptions;
        this.retained = retained;
        this.subscriptions = subscriptions;
        this.deniedByAcl = denied(registry, "acl");
        this.afterUnsubscribe = denied(registry, "unsubscribed");
        this.expired = denied(registry, "expired");
        this.tooLarge = denied(registry, "too-large");
        this.noLocal = denied(registry, "no-local");
        this.retainHandling = denied(registry, "retain-handling");
    }

    private static Counter denied(MeterRegistry registry, String reason) {
        return Counter.builder(BridgeMetrics.MQTT_DELIVERY_DENIED).tag("reason", reason)
                .description("Messages not delivered to a subscriber, by reason: acl, unsubscribed, expired, too-large, "
                        + "no-local, retain-handling")
                .register(registry);
    }

    /** An UNSUBSCRIBE from the client, on its way to Moquette. */
    void unsubscribing(GateConnection connection, MqttUnsubscribeMessage unsubscribe) {
        connection.subscriptions.unsubscribing.put(unsubscribe.variableHeader().messageId(),
                List.copyOf(unsubscribe.payload().topics()));
    }

    /**
     * A packet Moquette writes to the client: the message to write, or null when it is not written (released, its
     * promise completed, and acknowledged to Moquette).
     */
    Object outbound(ChannelHandlerContext ctx, GateConnection connection, Object msg, ChannelPromise promise) {
        if (msg instanceof MqttPublishMessage publish) {
            return publish(ctx, connection, publish, promise);
        }
        if (!(msg instanceof MqttMessage message)) {
            return msg;
        }
        MqttMessageType type = message.fixedHeader().messageType();
        if (type == MqttMessageType.UNSUBACK && message.variableHeader() instanceof MqttMessageIdVariableHeader id) {
            List<String> filters = connection.subscriptions.unsubscribing.remove(id.messageId());
            if (connection.mqtt5 != null) {
                msg = mqtt5Subscriptions.unsuback(connection, message);
            }
            if (filters != null) {
                for (String filter : filters) {
                    if (connection.subscriptions.unsubscribed.size() >= MAX_UNSUBSCRIBED) {
                        connection.subscriptions.checkEvery = true;
                        connection.subscriptions.unsubscribed.clear();
                    }
                    try {
                        connection.subscriptions.unsubscribed.add(TopicFilter.parse(filter));
                    } catch (IllegalArgumentException e) {
                        // Moquette closes the connection for an invalid filter
                    }
                }
            }
        } else if (type == MqttMessageType.SUBACK && connection.mqtt5 != null
                && message instanceof io.netty.handler.codec.mqtt.MqttSubAckMessage suback) {
            return mqtt5Subscriptions.suback(connection, suback);
        } else if (type == MqttMessageType.PUBREL && message.variableHeader() instanceof MqttMessageIdVariableHeader id
                && connection.subscriptions.suppressedQos2.remove(id.messageId())) {
            promise.setSuccess();
            acknowledge(ctx, MqttMessageType.PUBCOMP, id.messageId());
            return null;
        }
        return msg;
    }

    private Object publish(ChannelHandlerContext ctx, GateConnection connection, MqttPublishMessage publish, ChannelPromise promise) {
        MqttFixedHeader header = publish.fixedHeader();
        boolean envelope = MessageEnvelope.isEnvelope(publish.payload());
        if (header.isDup() && !envelope && connection.mqtt5 == null) {
            return publish;
        }
        String topic = publish.variableHeader().topicName();
        Counter withheld = null;
        if (header.isDup()) {
            // a resend of a message already written (MQTT-3.10.4-3): only its form changes
        } else if (!access.mayRead(topic, connection.username, connection.clientId)) {
            withheld = deniedByAcl;
        } else if (unsubscribedFrom(connection, topic)) {
            withheld = afterUnsubscribe;
        }
        MqttPublishMessage out = publish;
        if (withheld == null) {
            boolean retainedDelivery = !header.isDup() && retained.isRetainedDelivery(publish.payload());
            boolean retain = header.isRetain() || retainedDelivery;
            MessageEnvelope.Opened opened = envelope ? MessageEnvelope.open(publish.payload()) : null;
            long now = System.currentTimeMillis();
            Mqtt5Subscriptions.Delivery delivery = Mqtt5Subscriptions.Delivery.PLAIN;
            if (opened != null && opened.properties().expired(now)) {
                withheld = expired; // from a queue or the retained store: MQTT-3.3.2-5
            } else if (connection.mqtt5 != null) {
                if (retainedDelivery && Mqtt5Subscriptions.withholdRetained(connection, topic)) {
                    withheld = retainHandling;
                } else {
                    delivery = mqtt5Subscriptions.delivery(connection.clientId, topic,
                            opened != null && connection.clientId.equals(opened.origin()));
                    if (delivery.withhold()) {
                        withheld = noLocal;
                    } else if (delivery.retainAsPublished() && opened != null && opened.retained()) {
                        retain = true;
                    }
                }
            }
            if (withheld == null) {
                if (opened != null || !delivery.identifiers().isEmpty()) {
                    out = Mqtt5.outbound(publish, opened, connection.mqtt5 != null, retain, delivery.identifiers(), now);
                } else if (retain && !header.isRetain()) {
                    out = new MqttPublishMessage(new MqttFixedHeader(MqttMessageType.PUBLISH, false, header.qosLevel(), true,
                            header.remainingLength()), publish.variableHeader(), publish.payload());
                }
            }
            if (withheld == null && connection.mqtt5 != null && connection.mqtt5.clientMaximumPacketSize > 0
                    && Mqtt5.encodedSizeAtMost(out) > connection.mqtt5.clientMaximumPacketSize) {
                // MQTT-3.1.2-25: not sent to a client that does not take packets this large; acknowledged for it
                withheld = tooLarge;
            }
            if (withheld == null) {
                return out;
            }
        }
        withheld.increment();
        int packetId = publish.variableHeader().packetId();
        ReferenceCountUtil.release(out);
        promise.setSuccess();
        switch (header.qosLevel()) {
            case AT_LEAST_ONCE -> acknowledge(ctx, MqttMessageType.PUBACK, packetId);
            case EXACTLY_ONCE -> {
                connection.subscriptions.suppressedQos2.add(packetId);
                acknowledge(ctx, MqttMessageType.PUBREC, packetId);
            }
            default -> {
            }
        }
        return null;
    }

    /** True when the topic matches a filter this connection unsubscribed from and none of its subscriptions now. */
    private boolean unsubscribedFrom(GateConnection connection, String topic) {
        Subscriptions state = connection.subscriptions;
        if (!state.checkEvery && (state.unsubscribed.isEmpty()
                || state.unsubscribed.stream().noneMatch(filter -> filter.matches(topic)))) {
            return false;
        }
        for (Subscription subscription : subscriptions.matchWithoutQosSharpening(new Topic(topic))) {
            if (subscription.getClientId().equals(connection.clientId)) {
                return false;
            }
        }
        return true;
    }

    /** Hands Moquette the acknowledgement the client would have sent, after the current write. */
    private static void acknowledge(ChannelHandlerContext ctx, MqttMessageType type, int packetId) {
        MqttMessage ack = PublishPath.ack(type, packetId);
        ctx.executor().execute(() -> {
            if (ctx.channel().isActive()) {
                ctx.fireChannelRead(ack);
            }
        });
    }
}
