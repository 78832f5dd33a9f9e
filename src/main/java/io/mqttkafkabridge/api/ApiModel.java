package io.mqttkafkabridge.api;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The request and response bodies of the REST API. */
public final class ApiModel {

    private ApiModel() {
    }

    /** POST /api/v1/publish: payload as text, or base64 with {@code "encoding": "base64"}; qos 0..2 (default 0). */
    public record PublishRequest(String topic, String payload, Integer qos, Boolean retain, String encoding) {
    }

    /** {@code forwardedTo}: the other replicas with a matching subscription (cluster on only). */
    public record PublishResult(String topic, int qos, boolean retain, int bytes, List<String> forwardedTo) {
    }

    /** {@code node}: the replica the client is connected to (its address is known there only). */
    /** {@code protocolVersion}: 3.1, 3.1.1 or 5 (null for a client of another replica). */
    public record ClientView(String id, String address, String username, Instant connectedSince, List<String> subscriptions,
            String node, String protocolVersion) {
    }

    /** GET /api/v1/cluster */
    public record ClusterView(boolean enabled, String name, String self, int liveNodes, List<MemberView> members) {
    }

    /** One replica: its newest heartbeat and the rates between its last two. */
    public record MemberView(String node, boolean self, boolean live, String state, String instance, Instant startedAt,
            Instant lastHeartbeat, int clients, int subscriptions, long forwarded, long received, double forwardedPerSecond,
            double receivedPerSecond, long lag, int mqttPort) {
    }

    public record BrokerView(int mqttPort, int websocketPort, String websocketPath, int clientsConnected) {
    }

    /** {@code origin}: {@code static} (the configuration) or {@code runtime} (the API); {@code timestamp}: uplink only. */
    public record RouteView(String name, String direction, String mqttFilter, String mqttTopic, String kafkaTopic,
            String key, Integer qos, Boolean retain, long matched, long sent, long failed, long dropped, String lastError,
            Instant lastErrorAt, String timestamp, String origin) {
    }

    public record Routes(List<RouteView> uplink, List<RouteView> downlink) {
    }

    /**
     * POST /api/v1/routes/uplink/dry-run; {@code route}: an unsaved route (the configuration's keys) to test alone;
     * {@code properties}: the MQTT 5 properties of the publish, if any.
     */
    public record UplinkDryRun(String topic, String payload, String clientId, String username, Map<String, Object> route,
            MessageProperties properties) {
    }

    /**
     * MQTT 5 properties of a message, as the dry runs take and show them ({@code correlationData} as UTF-8 text,
     * {@code messageExpiryInterval} in seconds).
     */
    public record MessageProperties(Integer payloadFormatIndicator, String contentType, String responseTopic,
            String correlationData, Long messageExpiryInterval, List<UserProperty> userProperties) {
    }

    public record UserProperty(String name, String value) {
    }

    /** A Kafka record header, as the uplink dry run shows each one (repeated names included, in order). */
    public record Header(String name, String value) {
    }

    /**
     * What a route makes of the publish: the record's topic, key, timestamp (epoch ms) and headers; or, when the payload
     * lacks the route's JSON key or timestamp, {@code invalidPayload} (the reason) and where it would go
     * ({@code kafkaTopic}: the dead-letter topic, or null: dropped).
     */
    public record UplinkMatch(String route, String kafkaTopic, String key, Long timestamp, Map<String, String> headers,
            String invalidPayload, List<Header> headerList) {
    }

    /** POST /api/v1/routes/downlink/dry-run; {@code route}: an unsaved route (the configuration's keys) to test alone. */
    public record DownlinkDryRun(String kafkaTopic, String key, Map<String, String> headers, Integer partition,
            Map<String, Object> route) {
    }

    /** {@code properties}: what an MQTT 5 subscriber gets with the message (the expiry counted from now). */
    public record DownlinkOutcome(String route, String mqttTopic, Integer qos, Boolean retain, String dropReason,
            MessageProperties properties) {
    }
}
