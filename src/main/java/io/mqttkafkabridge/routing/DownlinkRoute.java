package io.mqttkafkabridge.routing;

/** A downlink route: records of {@link #kafkaTopic()} are published to the MQTT topic {@link #mqttTopic()} fills in. */
public record DownlinkRoute(String name, String kafkaTopic, TopicTemplate mqttTopic, int qos, boolean retain) {
}
