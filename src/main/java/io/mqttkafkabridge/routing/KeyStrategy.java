package io.mqttkafkabridge.routing;

/**
 * How an uplink route derives the Kafka record key from an MQTT publish. The key decides the partition,
 * so it is what keeps one device's messages in order.
 */
public sealed interface KeyStrategy {

    /** The key for this publish, or {@code null} when the publish has none (for example too few levels). */
    String keyOf(String mqttTopic, String clientId);

    /** Parses {@code mqtt-topic}, {@code client-id} or {@code topic-level:N} (N counts from 0). */
    static KeyStrategy parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("the key strategy is empty; use mqtt-topic, client-id or topic-level:N");
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
        throw new IllegalArgumentException("unknown key strategy '" + value + "'; use mqtt-topic, client-id or topic-level:N");
    }

    /** The whole MQTT topic name is the key. */
    record MqttTopic() implements KeyStrategy {
        @Override
        public String keyOf(String mqttTopic, String clientId) {
            return mqttTopic;
        }

        @Override
        public String toString() {
            return "mqtt-topic";
        }
    }

    /** The publishing client's id is the key. */
    record ClientId() implements KeyStrategy {
        @Override
        public String keyOf(String mqttTopic, String clientId) {
            return clientId;
        }

        @Override
        public String toString() {
            return "client-id";
        }
    }

    /** One level of the MQTT topic (0 is the first) is the key. */
    record TopicLevel(int level) implements KeyStrategy {
        @Override
        public String keyOf(String mqttTopic, String clientId) {
            return TopicNames.level(mqttTopic, level);
        }

        @Override
        public String toString() {
            return "topic-level:" + level;
        }
    }
}
