package io.mqttkafkabridge.routing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Rules for MQTT topic names (what a PUBLISH carries) shared by filters and templates. */
public final class TopicNames {

    /** MQTT strings are length-prefixed with two bytes. */
    static final int MAX_BYTES = 65_535;

    private TopicNames() {
    }

    /**
     * The reason the name cannot be published to, or {@code null} when it is a valid MQTT topic name:
     * not empty, no wildcard, no NUL character, at most 65,535 UTF-8 bytes, not starting with {@code $} (reserved for
     * the broker, MQTT 3.1.1 §4.7.2: nobody publishes there, so no wildcard subscription can receive such a topic).
     */
    public static String invalidNameReason(String name) {
        if (name == null || name.isEmpty()) {
            return "the topic name is empty";
        }
        if (name.indexOf('+') >= 0 || name.indexOf('#') >= 0) {
            return "the topic name contains a wildcard ('+' or '#')";
        }
        if (name.startsWith("$")) {
            return "the topic name starts with '$', which is reserved for the broker";
        }
        if (name.indexOf('\u0000') >= 0) {
            return "the topic name contains a NUL character";
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
            return "the topic name is longer than 65,535 bytes";
        }
        return null;
    }

    static void checkCommon(String text) {
        if (text.indexOf('\u0000') >= 0) {
            throw new IllegalArgumentException("a topic must not contain a NUL character");
        }
        if (text.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
            throw new IllegalArgumentException("a topic must not be longer than 65,535 bytes");
        }
    }

    /** Splits on '/', keeping empty levels ("a//b" has three levels, "/a" two). */
    static List<String> split(String topic) {
        List<String> levels = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < topic.length(); i++) {
            if (topic.charAt(i) == '/') {
                levels.add(topic.substring(start, i));
                start = i + 1;
            }
        }
        levels.add(topic.substring(start));
        return levels;
    }

    /** The level at {@code index} (0-based), or {@code null} when the topic has fewer levels. */
    static String level(String topic, int index) {
        int start = 0;
        for (int level = 0; level < index; level++) {
            int slash = topic.indexOf('/', start);
            if (slash < 0) {
                return null;
            }
            start = slash + 1;
        }
        int end = topic.indexOf('/', start);
        return end < 0 ? topic.substring(start) : topic.substring(start, end);
    }
}
