package io.mqttkafkabridge.routing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** An uplink route: publishes matching {@link #filter()} go to {@link #kafkaTopic()} with a key from {@link #key()}. */
public record UplinkRoute(String name, TopicFilter filter, String kafkaTopic, KeyStrategy key) {

    public static final String HEADER_TOPIC = "mqtt.topic";
    public static final String HEADER_QOS = "mqtt.qos";
    public static final String HEADER_RETAIN = "mqtt.retain";
    public static final String HEADER_CLIENT_ID = "mqtt.client-id";
    public static final String HEADER_USERNAME = "mqtt.username";

    /** The Kafka record this route makes of a publication: value = the payload bytes, unchanged. */
    public UplinkRecord toRecord(MqttPublication publication) {
        List<UplinkRecord.Header> headers = new ArrayList<>(5);
        headers.add(header(HEADER_TOPIC, publication.topic()));
        headers.add(header(HEADER_QOS, Integer.toString(publication.qos())));
        headers.add(header(HEADER_RETAIN, Boolean.toString(publication.retain())));
        headers.add(header(HEADER_CLIENT_ID, publication.clientId()));
        if (publication.username() != null) {
            headers.add(header(HEADER_USERNAME, publication.username()));
        }
        String recordKey = key.keyOf(publication.topic(), publication.clientId());
        return new UplinkRecord(this, kafkaTopic, recordKey, List.copyOf(headers), publication.payload());
    }

    private static UplinkRecord.Header header(String name, String value) {
        return new UplinkRecord.Header(name, value == null ? new byte[0] : value.getBytes(StandardCharsets.UTF_8));
    }
}
