package io.mqttkafkabridge.routing;

import java.time.Duration;

/**
 * A downlink route: records of {@link #kafkaTopic()} are published to the MQTT topic {@link #mqttTopic()} fills in.
 *
 * @param userProperties whether the record's headers reach MQTT 5 subscribers as User Properties (the bridge's own
 *                       {@code mqtt.*} and {@code bridge.*} headers never do; {@code mqtt.content-type},
 *                       {@code mqtt.response-topic}, {@code mqtt.correlation-data} always become those properties)
 * @param messageExpiry  how long after the record's timestamp the message expires (MQTT 5 Message Expiry Interval):
 *                       not delivered from any queue after that; null: never
 */
public record DownlinkRoute(String name, String kafkaTopic, TopicTemplate mqttTopic, int qos, boolean retain,
        boolean userProperties, Duration messageExpiry) {

    /** A route with headers as user properties and no expiry. */
    public DownlinkRoute(String name, String kafkaTopic, TopicTemplate mqttTopic, int qos, boolean retain) {
        this(name, kafkaTopic, mqttTopic, qos, retain, true, null);
    }
}
