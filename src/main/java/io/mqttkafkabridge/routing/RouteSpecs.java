package io.mqttkafkabridge.routing;

/**
 * Routes as they are written in the configuration (or in a PUT of the API, with the same keys), before validation.
 * Any field may be {@code null} (missing); {@link RouteTable#build} says which.
 */
public final class RouteSpecs {

    private RouteSpecs() {
    }

    /** {@code bridge.uplink.routes.<name>.*} */
    public record Uplink(String mqttFilter, String kafkaTopic, String key, String timestamp) {

        public Uplink(String mqttFilter, String kafkaTopic, String key) {
            this(mqttFilter, kafkaTopic, key, null);
        }
    }

    /** {@code bridge.downlink.routes.<name>.*} */
    public record Downlink(String kafkaTopic, String mqttTopic, Integer qos, Boolean retain, Boolean userProperties,
            String messageExpiry) {

        public Downlink(String kafkaTopic, String mqttTopic, Integer qos, Boolean retain) {
            this(kafkaTopic, mqttTopic, qos, retain, null, null);
        }
    }
}
