package io.mqttkafkabridge.routes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import io.mqttkafkabridge.routing.RouteConfigurationException;
import io.mqttkafkabridge.routing.RouteSpecs;
import io.mqttkafkabridge.routing.RouteTable;

/**
 * A route written with the configuration's own keys ({@code mqtt-filter}, {@code kafka-topic}, {@code key},
 * {@code timestamp}; {@code kafka-topic}, {@code mqtt-topic}, {@code qos}, {@code retain}, {@code user-properties},
 * {@code message-expiry}), as the API takes it and the
 * routes topic keeps it: text values, as in a properties file.
 */
public final class RouteKeys {

    public static final List<String> UPLINK = List.of("mqtt-filter", "kafka-topic", "key", "timestamp");
    public static final List<String> DOWNLINK = List.of("kafka-topic", "mqtt-topic", "qos", "retain", "user-properties",
            "message-expiry");
    /** Route names the API takes: what a configuration key and an environment variable can hold too. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    private RouteKeys() {
    }

    /** The configuration key of one of the route's keys, as problems name it. */
    public static String configKey(Direction direction, String name, String key) {
        return (direction == Direction.UPLINK ? RouteTable.UPLINK_PREFIX : RouteTable.DOWNLINK_PREFIX) + name + "." + key;
    }

    /**
     * Checks the name and the keys (none unknown; values are strings, numbers or booleans), as a PUT gives them.
     *
     * @return the keys as text
     * @throws RouteConfigurationException naming each problem's configuration key
     */
    public static Map<String, String> text(Direction direction, String name, Map<String, ?> body) {
        List<String> problems = new ArrayList<>();
        if (name == null || !NAME.matcher(name).matches()) {
            problems.add("route name '" + name + "' is not 1 to 64 letters, digits, '-' or '_'");
        }
        List<String> known = direction == Direction.UPLINK ? UPLINK : DOWNLINK;
        Map<String, String> text = new LinkedHashMap<>();
        if (body == null) {
            problems.add("the body is empty; give the route's keys as a JSON object: " + known);
        } else {
            body.forEach((key, value) -> {
                if (!known.contains(key)) {
                    problems.add(configKey(direction, name, key) + " is not a key of " + direction.label() + " routes; they are "
                            + String.join(", ", known));
                } else if (value instanceof String || value instanceof Number || value instanceof Boolean) {
                    text.put(key, value.toString());
                } else if (value != null) {
                    problems.add(configKey(direction, name, key) + " must be a string, a number or a boolean");
                }
            });
        }
        if (!problems.isEmpty()) {
            throw new RouteConfigurationException(problems);
        }
        return text;
    }

    static RouteSpecs.Uplink uplink(Map<String, String> keys) {
        return new RouteSpecs.Uplink(keys.get("mqtt-filter"), keys.get("kafka-topic"), keys.get("key"), keys.get("timestamp"));
    }

    /**
     * A downlink route's keys; a {@code qos} or {@code retain} that is no number or boolean is refused as the
     * configuration refuses it.
     */
    static RouteSpecs.Downlink downlink(String name, Map<String, String> keys) {
        List<String> problems = new ArrayList<>();
        Integer qos = null;
        String qosText = keys.get("qos");
        if (qosText != null) {
            try {
                qos = Integer.valueOf(qosText.trim());
            } catch (NumberFormatException e) {
                problems.add(configKey(Direction.DOWNLINK, name, "qos") + "='" + qosText + "' is not an MQTT QoS; use 0, 1 or 2");
            }
        }
        Boolean retain = bool(name, "retain", keys, problems);
        Boolean userProperties = bool(name, "user-properties", keys, problems);
        if (!problems.isEmpty()) {
            throw new RouteConfigurationException(problems);
        }
        return new RouteSpecs.Downlink(keys.get("kafka-topic"), keys.get("mqtt-topic"), qos, retain, userProperties,
                keys.get("message-expiry"));
    }

    private static Boolean bool(String name, String key, Map<String, String> keys, List<String> problems) {
        String text = keys.get(key);
        if (text == null) {
            return null;
        }
        String trimmed = text.trim();
        if (trimmed.equalsIgnoreCase("true") || trimmed.equalsIgnoreCase("false")) {
            return Boolean.valueOf(trimmed);
        }
        problems.add(configKey(Direction.DOWNLINK, name, key) + "='" + text + "' is not true or false");
        return null;
    }
}
