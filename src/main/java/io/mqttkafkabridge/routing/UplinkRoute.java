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
    /** MQTT 5 properties of the publish, when it has them. */
    public static final String HEADER_PAYLOAD_FORMAT = "mqtt.payload-format";
    public static final String HEADER_CONTENT_TYPE = "mqtt.content-type";
    public static final String HEADER_RESPONSE_TOPIC = "mqtt.response-topic";
    public static final String HEADER_CORRELATION_DATA = "mqtt.correlation-data";
    public static final String HEADER_MESSAGE_EXPIRY = "mqtt.message-expiry-interval";
    /**
     * A User Property whose name would be one of the bridge's own headers ({@code mqtt.*}, {@code bridge.*}) is
     * written under this prefix instead ({@code mqtt.user.<name>}), so that it can never forge them.
     */
    public static final String HEADER_USER_PREFIX = "mqtt.user.";

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
        return new UplinkRecord(this, kafkaTopic, recordKey, headers(publication, receivedAt), publication.payload(),
                recordTimestamp);
    }

    /** {@link #toRecord(MqttPublication, long, JsonPayload)}, received now. */
    public UplinkRecord toRecord(MqttPublication publication) {
        return toRecord(publication, System.currentTimeMillis(), new JsonPayload(publication.payload()));
    }

    /** The record of a publication whose payload this route cannot take: no key, the time the bridge received it. */
    public UplinkRecord invalidRecord(MqttPublication publication, long receivedAt) {
        return new UplinkRecord(this, kafkaTopic, null, headers(publication, receivedAt), publication.payload(), receivedAt);
    }

    private static List<UplinkRecord.Header> headers(MqttPublication publication, long receivedAt) {
        MessageProperties properties = publication.properties();
        List<UplinkRecord.Header> headers = new ArrayList<>(5 + (properties.isEmpty() ? 0 : 4 + properties.userProperties().size()));
        headers.add(header(HEADER_TOPIC, publication.topic()));
        headers.add(header(HEADER_QOS, Integer.toString(publication.qos())));
        headers.add(header(HEADER_RETAIN, Boolean.toString(publication.retain())));
        headers.add(header(HEADER_CLIENT_ID, publication.clientId()));
        if (publication.username() != null) {
            headers.add(header(HEADER_USERNAME, publication.username()));
        }
        if (!properties.isEmpty()) {
            addPropertyHeaders(headers, properties, receivedAt);
        }
        return List.copyOf(headers);
    }

    /** The headers of a publish's MQTT 5 properties: the mapping table of the README ("MQTT 5"). */
    private static void addPropertyHeaders(List<UplinkRecord.Header> headers, MessageProperties properties, long receivedAt) {
        if (properties.payloadFormat() != null) {
            headers.add(header(HEADER_PAYLOAD_FORMAT, Integer.toString(properties.payloadFormat())));
        }
        if (properties.contentType() != null) {
            headers.add(header(HEADER_CONTENT_TYPE, properties.contentType()));
        }
        if (properties.responseTopic() != null) {
            headers.add(header(HEADER_RESPONSE_TOPIC, properties.responseTopic()));
        }
        if (properties.correlationData() != null) {
            headers.add(new UplinkRecord.Header(HEADER_CORRELATION_DATA, properties.correlationData()));
        }
        if (properties.expiresAt() != 0) {
            headers.add(header(HEADER_MESSAGE_EXPIRY, Long.toString(properties.remainingExpirySeconds(receivedAt))));
        }
        for (MessageProperties.UserProperty property : properties.userProperties()) {
            headers.add(header(userHeaderName(property.name()), property.value()));
        }
    }

    /** The Kafka header name of a User Property: its own name, unless that would be one of the bridge's own headers. */
    public static String userHeaderName(String name) {
        return isBridgeHeader(name) ? HEADER_USER_PREFIX + name : name;
    }

    /** Whether {@code name} is in the bridge's own header namespaces ({@code mqtt.*}, {@code bridge.*}). */
    public static boolean isBridgeHeader(String name) {
        return name.startsWith("mqtt.") || name.startsWith("bridge.");
    }

    private static UplinkRecord.Header header(String name, String value) {
        return new UplinkRecord.Header(name, value == null ? new byte[0] : value.getBytes(StandardCharsets.UTF_8));
    }
}
