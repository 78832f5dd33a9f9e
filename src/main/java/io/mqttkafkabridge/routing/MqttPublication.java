package io.mqttkafkabridge.routing;

/**
 * A copy of one PUBLISH a device sent to the broker: what the uplink needs, detached from Netty buffers.
 *
 * @param username   {@code null} for an anonymous client
 * @param properties its MQTT 5 properties ({@link MessageProperties#NONE} for a 3.1.1 publish)
 */
public record MqttPublication(String topic, byte[] payload, int qos, boolean retain, String clientId, String username,
        MessageProperties properties) {

    public MqttPublication {
        properties = properties == null ? MessageProperties.NONE : properties;
    }

    /** A publication without MQTT 5 properties. */
    public MqttPublication(String topic, byte[] payload, int qos, boolean retain, String clientId, String username) {
        this(topic, payload, qos, retain, clientId, username, MessageProperties.NONE);
    }
}
