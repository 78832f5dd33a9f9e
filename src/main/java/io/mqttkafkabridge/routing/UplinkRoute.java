package io.mqttkafkabridge.routing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * An uplink route: publishes matching {@link #filter()} go to {@link #kafkaTopic()} with a key from {@link #key()} and
 * the timestamp {@link #timestamp()} gives.
 */
public record UplinkRoute(String name, TopicFilter filter, String kafkaTopic, KeyStrategy key, TimestampStrategy timestamp) {

    public static final String HEADER_TOPIC = "mqtt.topic";
    public static final String HEADER_QOS = "mqtt.qos";
    public static final String HEADER_RETAIN = "mqtt.retain";
    public static final String HEADER_CLIENT_ID = "mqtt.client-id";
    public static final String HEADER_USERNAME = "mqtt.username";

    /** A route stamped with the time the bridge received the publish. */
    public UplinkRoute(String name, TopicFilter filter, String kafkaTopic, KeyStrategy key) {
        this(name, filter, kafkaTopic, key, new TimestampStrategy.Broker());
    }

    /**
     * The Kafka record this route makes of a publication: value = the payload bytes, unchanged.
     *
     * @param receivedAt when the bridge received it, epoch milliseconds
     * @param json its payload as JSON, shared by the routes of one publication (read only when a route looks into it)
     * @throws InvalidPayloadException when the key or timestamp is taken from the payload and it is not there
     */
    public UplinkRecord toRecord(MqttPublication publication, long receivedAt, JsonPayload json) {
        String recordKey = key.keyOf(publication, json);
        long recordTimestamp = timestamp.timestampOf(receivedAt, json);
        return new UplinkRecord(this, kafkaTopic, recordKey, headers(publication), publication.payload(), recordTimestamp);
    }

    /** {@link #toRecord(MqttPublication, long, JsonPayload)}, received now. */
    public UplinkRecord toRecord(MqttPublication publication) {
        return toRecord(publication, System.currentTimeMillis(), new JsonPayload(publication.payload()));
    }

    /** The record of a publication whose payload this route cannot take: no key, the time the bridge received it. */
    public UplinkRecord invalidRecord(MqttPublication publication, long receivedAt) {
        return new UplinkRecord(this, kafkaTopic, null, headers(publication), publication.payload(), receivedAt);
    }

    private static List<UplinkRecord.Header> headers(MqttPublication publication) {
        List<UplinkRecord.Header> headers = new ArrayList<>(5);
        headers.add(header(HEADER_TOPIC, publication.topic()));
        headers.add(header(HEADER_QOS, Integer.toString(publication.qos())));
        headers.add(header(HEADER_RETAIN, Boolean.toString(publication.retain())));
        headers.add(header(HEADER_CLIENT_ID, publication.clientId()));
        if (publication.username() != null) {
            headers.add(header(HEADER_USERNAME, publication.username()));
        }
        return List.copyOf(headers);
    }

    private static UplinkRecord.Header header(String name, String value) {
        return new UplinkRecord.Header(name, value == null ? new byte[0] : value.getBytes(StandardCharsets.UTF_8));
    }
}
