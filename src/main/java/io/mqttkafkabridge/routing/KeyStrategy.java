package io.mqttkafkabridge.routing;

import com.fasterxml.jackson.core.JsonPointer;

/**
 * How an uplink route derives the Kafka record key from an MQTT publish. The key decides the partition,
 * so it is what keeps one device's messages in order.
 */
public sealed interface KeyStrategy {

    /**
     * The key for this publish, or {@code null} when the publish has none (for example too few levels).
     *
     * @param json the publish's payload as JSON, read only by strategies that look into it
     * @throws InvalidPayloadException when the key is taken from the payload and it is not there
     */
    String keyOf(MqttPublication publication, JsonPayload json);

    /**
     * Parses {@code mqtt-topic}, {@code client-id}, {@code topic-level:N} (N counts from 0), {@code json:<pointer>} or
     * {@code user-property:<name>}.
     */
    static KeyStrategy parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("the key strategy is empty; use mqtt-topic, client-id, topic-level:N, json:<pointer> or user-property:<name>");
        }
        String value = text.trim();
        if (value.equals("mqtt-topic")) {
            return new MqttTopic();
        }
        if (value.equals("client-id")) {
            return new ClientId();
        }
        if (value.startsWith("topic-level:")) {
            String number = value.substring("topic-level:".length());
            try {
                int level = Integer.parseInt(number);
                if (level >= 0) {
                    return new TopicLevel(level);
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException("'" + value + "' needs a level number from 0 up, as in topic-level:1");
        }
        if (value.startsWith("json:")) {
            return new Json(JsonPayload.pointer(value.substring("json:".length())));
        }
        if (value.startsWith("user-property:")) {
            String name = value.substring("user-property:".length());
            if (name.isEmpty()) {
                throw new IllegalArgumentException("'" + value + "' needs the name of an MQTT 5 user property, as in user-property:device");
            }
            return new UserProperty(name);
        }
        throw new IllegalArgumentException("unknown key strategy '" + value + "'; use mqtt-topic, client-id, topic-level:N, json:<pointer> or user-property:<name>");
    }

    /** The whole MQTT topic name is the key. */
    record MqttTopic() implements KeyStrategy {
        @Override
        public String keyOf(MqttPublication publication, JsonPayload json) {
            return publication.topic();
        }

        @Override
        public String toString() {
            return "mqtt-topic";
        }
    }

    /** The publishing client's id is the key. */
    record ClientId() implements KeyStrategy {
        @Override
        public String keyOf(MqttPublication publication, JsonPayload json) {
            return publication.clientId();
        }

        @Override
        public String toString() {
            return "client-id";
        }
    }

    /** One level of the MQTT topic (0 is the first) is the key. */
    record TopicLevel(int level) implements KeyStrategy {
        @Override
        public String keyOf(MqttPublication publication, JsonPayload json) {
            return TopicNames.level(publication.topic(), level);
        }

        @Override
        public String toString() {
            return "topic-level:" + level;
        }
    }

    /** A string, number or boolean of the JSON payload, at an RFC 6901 pointer (Lenses' WITHKEY), is the key. */
    record Json(JsonPointer pointer) implements KeyStrategy {
        @Override
        public String keyOf(MqttPublication publication, JsonPayload json) {
            return json.valueAt(pointer, "key").asText();
        }

        @Override
        public String toString() {
            return "json:" + pointer;
        }
    }

    /**
     * The value of an MQTT 5 User Property of the publish (the first of that name) is the key; a publish without it
     * (a 3.1.1 publish, say) has no key.
     */
    record UserProperty(String name) implements KeyStrategy {
        @Override
        public String keyOf(MqttPublication publication, JsonPayload json) {
            for (MessageProperties.UserProperty property : publication.properties().userProperties()) {
                if (property.name().equals(name)) {
                    return property.value();
                }
            }
            return null;
        }

        @Override
        public String toString() {
            return "user-property:" + name;
        }
    }
}
