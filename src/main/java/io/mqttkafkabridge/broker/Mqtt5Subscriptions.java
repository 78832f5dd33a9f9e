package io.mqttkafkabridge.broker;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.mqttkafkabridge.routing.TopicFilter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageIdAndPropertiesVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttSubAckMessage;
import io.netty.handler.codec.mqtt.MqttSubAckPayload;
import io.netty.handler.codec.mqtt.MqttSubscribeMessage;
import io.netty.handler.codec.mqtt.MqttSubscribePayload;
import io.netty.handler.codec.mqtt.MqttSubscriptionOption;
import io.netty.handler.codec.mqtt.MqttTopicSubscription;
import io.netty.handler.codec.mqtt.MqttUnsubAckMessage;
import io.netty.handler.codec.mqtt.MqttUnsubAckPayload;

/**
 * MQTT 5 subscriptions in the gate: what Moquette 0.17 does not know of them. Moquette keeps the subscription itself
 * (filter and maximum QoS, routing, the persistent session's store); this keeps, per client id, each filter's MQTT 5
 * options and answers for them:
 * <ul>
 * <li>SUBSCRIBE: a shared subscription ({@code $share/...}) gets 0x9E (not offered yet) without reaching Moquette;
 * the SUBACK gets MQTT 5 reason codes per filter (Moquette's 0x80 becomes 0x8F for an invalid filter, 0x87 for one
 * the ACL denies); Retain Handling 1 and 2 withhold the retained messages Moquette sends for the new
 * subscription;</li>
 * <li>UNSUBACK: a reason code per filter (0x00, or 0x11 when no such subscription existed);</li>
 * <li>each delivery: No Local (not sent back to its publisher), Retain As Published (RETAIN as the publisher set
 * it), and the Subscription Identifiers of every subscription the topic matches.</li>
 * </ul>
 * The options live as long as the session in this process: they are forgotten when a clean session ends; a
 * persistent session that moves to another replica, or a restart, keeps its subscriptions (Moquette's) without them,
 * until the client subscribes again. Called on the connection's event loop; the per-client maps are thread-safe.
 */
final class Mqtt5Subscriptions {

    static final int NO_SUBSCRIPTION_EXISTED = 0x11;
    static final int TOPIC_FILTER_INVALID = 0x8F;
    static final int SHARED_SUBSCRIPTIONS_NOT_SUPPORTED = 0x9E;

    /** One subscription's MQTT 5 options. */
    record Options(TopicFilter filter, boolean noLocal, boolean retainAsPublished, int identifier) {
        boolean plain() {
            return !noLocal && !retainAsPublished && identifier == 0;
        }
    }

    /** A client's subscriptions with options, by filter text. */
    static final class Client {
        final Map<String, Options> byFilter = new ConcurrentHashMap<>();
        /** Any subscription with an option that changes a delivery. */
        volatile boolean anyOptions;

        void recompute() {
            anyOptions = byFilter.values().stream().anyMatch(o -> !o.plain());
        }
    }

    /** A SUBSCRIBE on its way, until its SUBACK: each filter's code decided here (or null: Moquette's). */
    private record Pending(List<String> filters, List<Integer> preset, List<MqttSubscriptionOption> options, int identifier,
            Set<String> withholdRetained) {
    }

    /** What a delivery gets from the subscriptions the topic matches. */
    record Delivery(boolean withhold, boolean retainAsPublished, List<Integer> identifiers) {
        static final Delivery PLAIN = new Delivery(false, false, List.of());
    }

    private final Map<String, Client> clients = new ConcurrentHashMap<>();
    private final int maxTopicLevels;
    /** Whether Moquette holds a subscription of (client id, filter). */
    private final java.util.function.BiPredicate<String, String> subscribed;

    Mqtt5Subscriptions(int maxTopicLevels, java.util.function.BiPredicate<String, String> subscribed) {
        this.maxTopicLevels = maxTopicLevels;
        this.subscribed = subscribed;
    }

    /** The connection's session ended (a clean session closed, or a session was discarded). */
    void forget(String clientId) {
        if (clientId != null) {
            clients.remove(clientId);
        }
    }

    /**
     * An MQTT 5 client's SUBSCRIBE: the SUBSCRIBE for Moquette (shared subscriptions taken out), or null when the gate
     * answered it itself (every filter refused here).
     */
    MqttSubscribeMessage subscribing(ChannelHandlerContext ctx, GateConnection connection, MqttSubscribeMessage subscribe) {
        int packetId = subscribe.idAndPropertiesVariableHeader().messageId();
        MqttProperties.MqttProperty<?> id = subscribe.idAndPropertiesVariableHeader().properties()
                .getProperty(MqttProperties.MqttPropertyType.SUBSCRIPTION_IDENTIFIER.value());
        int identifier = id != null && id.value() instanceof Integer value ? value : 0;
        Client client = clients.computeIfAbsent(connection.clientId, c -> new Client());
        List<String> filters = new ArrayList<>();
        List<Integer> preset = new ArrayList<>();
        List<MqttSubscriptionOption> options = new ArrayList<>();
        Set<String> withholdRetained = new java.util.HashSet<>();
        List<MqttTopicSubscription> forMoquette = new ArrayList<>();
        for (MqttTopicSubscription subscription : subscribe.payload().topicSubscriptions()) {
            String filter = subscription.topicFilter();
            MqttSubscriptionOption option = subscription.option();
            filters.add(filter);
            options.add(option);
            if (filter.startsWith("$share/")) {
                preset.add(SHARED_SUBSCRIPTIONS_NOT_SUPPORTED);
                continue;
            }
            preset.add(null);
            var handling = option.retainHandling();
            if (handling == MqttSubscriptionOption.RetainedHandlingPolicy.DONT_SEND_AT_SUBSCRIBE
                    || (handling == MqttSubscriptionOption.RetainedHandlingPolicy.SEND_AT_SUBSCRIBE_IF_NOT_YET_EXISTS
                            && client.byFilter.containsKey(filter))) {
                withholdRetained.add(filter);
            }
            forMoquette.add(new MqttTopicSubscription(filter, option.qos()));
        }
        Pending pending = new Pending(filters, preset, options, identifier, withholdRetained);
        if (forMoquette.isEmpty()) {
            ctx.writeAndFlush(suback(connection, packetId, pending, List.of()));
            return null;
        }
        if (connection.pendingSubscribes == null) {
            connection.pendingSubscribes = new HashMap<>();
        }
        connection.pendingSubscribes.put(packetId, pending);
        return new MqttSubscribeMessage(subscribe.fixedHeader(), MqttMessageIdVariableHeader.from(packetId),
                new MqttSubscribePayload(forMoquette));
    }

    /** Moquette's SUBACK to an MQTT 5 client: with the reason codes of every filter it asked for. */
    MqttSubAckMessage suback(GateConnection connection, MqttSubAckMessage moquettes) {
        int packetId = moquettes.variableHeader().messageId();
        Object pending = connection.pendingSubscribes == null ? null : connection.pendingSubscribes.remove(packetId);
        if (!(pending instanceof Pending p)) {
            return moquettes;
        }
        return suback(connection, packetId, p, moquettes.payload().reasonCodes());
    }

    private MqttSubAckMessage suback(GateConnection connection, int packetId, Pending pending, List<Integer> moquettes) {
        Client client = clients.computeIfAbsent(connection.clientId, c -> new Client());
        List<Integer> codes = new ArrayList<>(pending.filters().size());
        int next = 0;
        for (int i = 0; i < pending.filters().size(); i++) {
            Integer code = pending.preset().get(i);
            String filter = pending.filters().get(i);
            if (code == null) {
                code = next < moquettes.size() ? moquettes.get(next++) : Mqtt5.UNSPECIFIED_ERROR;
                if (code == Mqtt5.UNSPECIFIED_ERROR) {
                    code = invalid(filter) ? TOPIC_FILTER_INVALID : Mqtt5.NOT_AUTHORIZED;
                } else {
                    MqttSubscriptionOption option = pending.options().get(i);
                    client.byFilter.put(filter, new Options(TopicFilter.parse(filter), option.isNoLocal(),
                            option.isRetainAsPublished(), pending.identifier()));
                }
            }
            codes.add(code);
        }
        client.recompute();
        connection.withholdRetained = pending.withholdRetained().isEmpty() ? null
                : pending.withholdRetained().stream().map(TopicFilter::parse).toList();
        int[] reasons = codes.stream().mapToInt(Integer::intValue).toArray();
        return new MqttSubAckMessage(new MqttFixedHeader(MqttMessageType.SUBACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
                new MqttMessageIdAndPropertiesVariableHeader(packetId, MqttProperties.NO_PROPERTIES), new MqttSubAckPayload(reasons));
    }

    private boolean invalid(String filter) {
        try {
            TopicFilter.parse(filter);
        } catch (IllegalArgumentException e) {
            return true;
        }
        if (maxTopicLevels > 0 && filter.split("/", -1).length > maxTopicLevels) {
            return true;
        }
        return false;
    }

    /**
     * An MQTT 5 client's UNSUBSCRIBE, on its way to Moquette: whether each filter was subscribed is decided now, for
     * the UNSUBACK ({@link #unsuback}).
     */
    void unsubscribing(GateConnection connection, int packetId, List<String> filters) {
        Client client = clients.get(connection.clientId);
        Short[] codes = new Short[filters.size()];
        for (int i = 0; i < codes.length; i++) {
            String filter = filters.get(i);
            boolean existed = (client != null && client.byFilter.remove(filter) != null)
                    || subscribed.test(connection.clientId, filter);
            codes[i] = (short) (existed ? 0 : NO_SUBSCRIPTION_EXISTED);
        }
        if (client != null) {
            client.recompute();
        }
        if (connection.pendingUnsubscribes == null) {
            connection.pendingUnsubscribes = new HashMap<>();
        }
        connection.pendingUnsubscribes.put(packetId, codes);
    }

    /** Moquette's UNSUBACK (no payload) to an MQTT 5 client: a reason code per filter of the UNSUBSCRIBE. */
    MqttMessage unsuback(GateConnection connection, MqttMessage moquettes) {
        if (!(moquettes.variableHeader() instanceof MqttMessageIdVariableHeader id) || connection.pendingUnsubscribes == null) {
            return moquettes;
        }
        Short[] codes = connection.pendingUnsubscribes.remove(id.messageId());
        if (codes == null) {
            return moquettes;
        }
        return new MqttUnsubAckMessage(new MqttFixedHeader(MqttMessageType.UNSUBACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
                new MqttMessageIdAndPropertiesVariableHeader(id.messageId(), MqttProperties.NO_PROPERTIES),
                new MqttUnsubAckPayload(java.util.Arrays.asList(codes)));
    }

    /** Whether a PUBLISH of {@code clientId} to {@code topic} matches one of its own No Local subscriptions. */
    boolean noLocalMatches(String clientId, String topic) {
        Client client = clients.get(clientId);
        if (client == null || !client.anyOptions) {
            return false;
        }
        for (Options options : client.byFilter.values()) {
            if (options.noLocal() && options.filter().matches(topic)) {
                return true;
            }
        }
        return false;
    }

    /**
     * What a delivery of {@code topic} to {@code clientId} gets: withheld when every matching subscription is No Local
     * and the client published it ({@code fromItself}); RETAIN as published when a matching one says so; the
     * identifiers of the matching ones.
     */
    Delivery delivery(String clientId, String topic, boolean fromItself) {
        Client client = clients.get(clientId);
        if (client == null || !client.anyOptions) {
            return Delivery.PLAIN;
        }
        boolean anyMatch = false;
        boolean allNoLocal = true;
        boolean retainAsPublished = false;
        List<Integer> identifiers = null;
        for (Options options : client.byFilter.values()) {
            if (!options.filter().matches(topic)) {
                continue;
            }
            anyMatch = true;
            allNoLocal &= options.noLocal();
            retainAsPublished |= options.retainAsPublished();
            if (options.identifier() > 0) {
                if (identifiers == null) {
                    identifiers = new ArrayList<>(2);
                }
                if (!identifiers.contains(options.identifier())) {
                    identifiers.add(options.identifier());
                }
            }
        }
        if (!anyMatch) {
            return Delivery.PLAIN;
        }
        return new Delivery(fromItself && allNoLocal, retainAsPublished, identifiers == null ? List.of() : identifiers);
    }

    /** A retained message Moquette sends for a SUBSCRIBE whose Retain Handling says not to. */
    static boolean withholdRetained(GateConnection connection, String topic) {
        List<TopicFilter> filters = connection.withholdRetained;
        if (filters == null) {
            return false;
        }
        for (TopicFilter filter : filters) {
            if (filter.matches(topic)) {
                return true;
            }
        }
        return false;
    }
}
