package io.mqttkafkabridge.routing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Every uplink and downlink route, validated. Immutable and thread-safe: built once at start-up by
 * {@link #build(Map, Map)}, then read from the broker's interceptor thread and the Kafka consumer's thread. The uplink
 * filters sit in a {@link TopicTree} owned by route index, so matching a publish costs the topic's depth, not the number
 * of routes.
 */
public final class RouteTable {

    public static final String UPLINK_PREFIX = "bridge.uplink.routes.";
    public static final String DOWNLINK_PREFIX = "bridge.downlink.routes.";

    private static final Pattern KAFKA_TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    private final List<UplinkRoute> uplink;
    private final TopicTree<Integer> uplinkTree = new TopicTree<>();
    private final List<List<UplinkRoute>> uplinkAlone;
    private final Map<String, List<DownlinkRoute>> downlinkByTopic;
    private final List<DownlinkRoute> downlink;

    private RouteTable(List<UplinkRoute> uplink, List<DownlinkRoute> downlink) {
        this.uplink = List.copyOf(uplink);
        for (int i = 0; i < this.uplink.size(); i++) {
            uplinkTree.add(this.uplink.get(i).filter().toString(), i);
        }
        this.uplinkAlone = this.uplink.stream().map(List::of).toList();
        this.downlink = List.copyOf(downlink);
        Map<String, List<DownlinkRoute>> byTopic = new LinkedHashMap<>();
        for (DownlinkRoute route : downlink) {
            byTopic.computeIfAbsent(route.kafkaTopic(), t -> new ArrayList<>()).add(route);
        }
        byTopic.replaceAll((topic, routes) -> List.copyOf(routes));
        this.downlinkByTopic = Collections.unmodifiableMap(byTopic);
    }

    /**
     * Validates every route and reports all problems at once.
     *
     * @throws RouteConfigurationException naming each route and key that is wrong
     */
    public static RouteTable build(Map<String, RouteSpecs.Uplink> uplinkSpecs, Map<String, RouteSpecs.Downlink> downlinkSpecs) {
        List<String> problems = new ArrayList<>();
        List<UplinkRoute> uplink = new ArrayList<>();
        for (Map.Entry<String, RouteSpecs.Uplink> entry : new TreeMap<>(uplinkSpecs).entrySet()) {
            UplinkRoute route = uplinkRoute(entry.getKey(), entry.getValue(), problems);
            if (route != null) {
                uplink.add(route);
            }
        }
        List<DownlinkRoute> downlink = new ArrayList<>();
        for (Map.Entry<String, RouteSpecs.Downlink> entry : new TreeMap<>(downlinkSpecs).entrySet()) {
            DownlinkRoute route = downlinkRoute(entry.getKey(), entry.getValue(), problems);
            if (route != null) {
                downlink.add(route);
            }
        }
        if (!problems.isEmpty()) {
            throw new RouteConfigurationException(problems);
        }
        return new RouteTable(uplink, downlink);
    }

    private static UplinkRoute uplinkRoute(String name, RouteSpecs.Uplink spec, List<String> problems) {
        String prefix = UPLINK_PREFIX + name + ".";
        int before = problems.size();
        TopicFilter filter = null;
        if (spec.mqttFilter() == null) {
            problems.add(prefix + "mqtt-filter is missing; give the MQTT topic filter this route takes, such as devices/+/telemetry");
        } else {
            try {
                filter = TopicFilter.parse(spec.mqttFilter());
            } catch (IllegalArgumentException e) {
                problems.add(prefix + "mqtt-filter='" + spec.mqttFilter() + "' is not a valid MQTT topic filter: " + e.getMessage());
            }
        }
        checkKafkaTopic(prefix + "kafka-topic", spec.kafkaTopic(), problems);
        KeyStrategy key = null;
        try {
            key = KeyStrategy.parse(spec.key() == null ? "mqtt-topic" : spec.key());
        } catch (IllegalArgumentException e) {
            problems.add(prefix + "key: " + e.getMessage());
        }
        if (filter != null && key instanceof KeyStrategy.TopicLevel level && !filter.isMultiLevel()
                && level.level() >= filter.guaranteedLevels()) {
            problems.add(prefix + "key=" + level + " points past the last level of mqtt-filter='" + filter + "' ("
                    + filter.guaranteedLevels() + " levels, counted from 0)");
        }
        TimestampStrategy timestamp = null;
        try {
            timestamp = TimestampStrategy.parse(spec.timestamp() == null ? "broker" : spec.timestamp());
        } catch (IllegalArgumentException e) {
            problems.add(prefix + "timestamp: " + e.getMessage());
        }
        return problems.size() == before ? new UplinkRoute(name, filter, spec.kafkaTopic(), key, timestamp) : null;
    }

    private static DownlinkRoute downlinkRoute(String name, RouteSpecs.Downlink spec, List<String> problems) {
        String prefix = DOWNLINK_PREFIX + name + ".";
        int before = problems.size();
        checkKafkaTopic(prefix + "kafka-topic", spec.kafkaTopic(), problems);
        TopicTemplate template = null;
        if (spec.mqttTopic() == null) {
            problems.add(prefix + "mqtt-topic is missing; give the MQTT topic template, such as devices/{key}/commands");
        } else {
            try {
                template = TopicTemplate.parse(spec.mqttTopic());
            } catch (IllegalArgumentException e) {
                problems.add(prefix + "mqtt-topic='" + spec.mqttTopic() + "' is not a valid topic template: " + e.getMessage());
            }
        }
        int qos = spec.qos() == null ? 1 : spec.qos();
        if (qos < 0 || qos > 2) {
            problems.add(prefix + "qos=" + qos + " is not an MQTT QoS; use 0, 1 or 2");
        }
        boolean retain = spec.retain() != null && spec.retain();
        boolean userProperties = spec.userProperties() == null || spec.userProperties();
        java.time.Duration expiry = null;
        if (spec.messageExpiry() != null) {
            try {
                expiry = Durations.parse(spec.messageExpiry());
                if (expiry.isNegative() || expiry.isZero() || expiry.toSeconds() > 0xFFFFFFFFL) {
                    problems.add(prefix + "message-expiry=" + spec.messageExpiry()
                            + " is out of range: from 1s to 4294967295s (MQTT 5's Message Expiry Interval)");
                }
            } catch (IllegalArgumentException e) {
                problems.add(prefix + "message-expiry='" + spec.messageExpiry() + "' is not a duration: " + e.getMessage());
            }
        }
        return problems.size() == before ? new DownlinkRoute(name, spec.kafkaTopic(), template, qos, retain, userProperties,
                expiry) : null;
    }

    private static void checkKafkaTopic(String key, String topic, List<String> problems) {
        if (topic == null) {
            problems.add(key + " is missing; give the Kafka topic of this route");
        } else if (topic.isBlank()) {
            problems.add(key + " is empty; give the Kafka topic of this route");
        } else if (!KAFKA_TOPIC.matcher(topic).matches() || topic.equals(".") || topic.equals("..")) {
            problems.add(key + "='" + topic + "' is not a legal Kafka topic name (letters, digits, '.', '_', '-'; at most 249)");
        }
    }

    /** The uplink routes whose filter matches this topic, in route-name order; empty when the publish is unrouted. */
    public List<UplinkRoute> uplinkRoutesFor(String mqttTopic) {
        MatchedRoutes matched = new MatchedRoutes();
        uplinkTree.forEachMatch(mqttTopic, matched);
        return switch (matched.count) {
            case 0 -> List.of();
            case 1 -> uplinkAlone.get(matched.first);
            default -> matched.routes(uplink);
        };
    }

    /** The indices of the uplink routes a topic matches, as one walk of the tree gives them: any order, maybe twice. */
    private static final class MatchedRoutes implements Consumer<Integer> {

        private int count;
        private int first;
        private int[] all;

        @Override
        public void accept(Integer index) {
            if (count == 0) {
                first = index;
            } else if (all == null) {
                all = new int[4];
                all[0] = first;
                all[1] = index;
            } else {
                if (count == all.length) {
                    all = Arrays.copyOf(all, count * 2);
                }
                all[count] = index;
            }
            count++;
        }

        List<UplinkRoute> routes(List<UplinkRoute> uplink) {
            Arrays.sort(all, 0, count);
            List<UplinkRoute> routes = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                if (i == 0 || all[i] != all[i - 1]) {
                    routes.add(uplink.get(all[i]));
                }
            }
            return routes;
        }
    }

    /** The downlink routes reading this Kafka topic. */
    public List<DownlinkRoute> downlinkRoutesFor(String kafkaTopic) {
        return downlinkByTopic.getOrDefault(kafkaTopic, List.of());
    }

    public List<UplinkRoute> uplinkRoutes() {
        return uplink;
    }

    public List<DownlinkRoute> downlinkRoutes() {
        return downlink;
    }

    /** The distinct Kafka topics the downlink reads, in route-name order. */
    public List<String> downlinkTopics() {
        return List.copyOf(downlinkByTopic.keySet());
    }
}
