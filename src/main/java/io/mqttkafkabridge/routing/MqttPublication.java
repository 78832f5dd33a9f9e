package io.mqttkafkabridge.routing;

/**
 * A copy of one PUBLISH a device sent to the broker: what the uplink needs, detached from Netty buffers.
 *
 * @param username {@code null} for an anonymous client
 */
public record MqttPublication(String topic, byte[] payload, int qos, boolean retain, String clientId, String username) {
}
