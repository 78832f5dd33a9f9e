package io.mqttkafkabridge.api;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import io.mqttkafkabridge.broker.EmbeddedBroker;
import io.mqttkafkabridge.cluster.Cluster;
import io.mqttkafkabridge.metrics.BridgeMetrics;
import io.mqttkafkabridge.metrics.RouteStats;
import io.mqttkafkabridge.routing.DownlinkRoute;
import io.mqttkafkabridge.routing.MqttPublication;
import io.mqttkafkabridge.routing.RouteTable;
import io.mqttkafkabridge.routing.TopicNames;
import io.mqttkafkabridge.routing.TopicTemplate;
import io.mqttkafkabridge.routing.UplinkRecord;
import io.mqttkafkabridge.routing.UplinkRoute;
import io.mqttkafkabridge.routing.InvalidPayloadException;
import io.mqttkafkabridge.routing.JsonPayload;
import io.mqttkafkabridge.config.BridgeConfig;

/** The bridge's REST API, version 1: publish, clients, routes and their dry runs. Errors are RFC 9457 problems. */
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class BridgeResource {

    private final EmbeddedBroker broker;
    private final RouteTable routes;
    private final BridgeMetrics metrics;
    private final Cluster cluster;
    private final java.util.Optional<String> deadLetterTopic;

    BridgeResource(EmbeddedBroker broker, RouteTable routes, BridgeMetrics metrics, Cluster cluster, BridgeConfig config) {
        this.cluster = cluster;
        this.deadLetterTopic = config.uplink().deadLetterTopic();
        this.broker = broker;
        this.routes = routes;
        this.metrics = metrics;
    }

    /**
     * Publishes into the broker as the bridge: subscribed devices receive it, on every replica of a cluster (it does not
     * go through the uplink).
     */
    @POST
    @Path("/publish")
    public ApiModel.PublishResult publish(ApiModel.PublishRequest request) {
        if (request == null || request.topic() == null) {
            throw ApiException.badRequest("Give at least a topic: {\"topic\": \"devices/d1/commands\", \"payload\": \"reboot\"}");
        }
        String invalid = TopicNames.invalidNameReason(request.topic());
        if (invalid != null) {
            throw ApiException.badRequest("topic '" + request.topic() + "' cannot be published to: " + invalid);
        }
        int qos = request.qos() == null ? 0 : request.qos();
        if (qos < 0 || qos > 2) {
            throw ApiException.badRequest("qos " + qos + " is not an MQTT QoS; use 0, 1 or 2");
        }
        byte[] payload = decode(request.payload(), request.encoding());
        if (!broker.isRunning()) {
            throw new ApiException(503, "Service Unavailable", "The MQTT broker is not running");
        }
        boolean retain = request.retain() != null && request.retain();
        broker.publish(request.topic(), payload, qos, retain);
        List<String> forwardedTo = cluster.enabled()
                ? cluster.forward(request.topic(), payload, qos, retain).stream().sorted().toList() : null;
        return new ApiModel.PublishResult(request.topic(), qos, retain, payload.length, forwardedTo);
    }

    private static byte[] decode(String payload, String encoding) {
        if (payload == null) {
            return new byte[0];
        }
        if (encoding == null || encoding.equalsIgnoreCase("text") || encoding.equalsIgnoreCase("utf-8")) {
            return payload.getBytes(StandardCharsets.UTF_8);
        }
        if (encoding.equalsIgnoreCase("base64")) {
            try {
                return Base64.getDecoder().decode(payload);
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("payload is not valid base64: " + e.getMessage());
            }
        }
        throw ApiException.badRequest("encoding '" + encoding + "' is not supported; use text (default) or base64");
    }

    @GET
    @Path("/broker")
    public ApiModel.BrokerView broker() {
        return new ApiModel.BrokerView(broker.port(), broker.websocketPort(), "/mqtt", broker.clients().count());
    }

    /** The clients connected here and, with the cluster on, to every other live replica. */
    @GET
    @Path("/clients")
    public List<ApiModel.ClientView> clients() {
        Map<String, String> addresses = broker.addresses();
        List<ApiModel.ClientView> clients = new ArrayList<>();
        broker.clients().clients().forEach(c -> clients.add(new ApiModel.ClientView(c.id(), addresses.get(c.id()),
                c.username(), c.connectedSince(), c.subscriptions().stream().sorted().toList(), cluster.nodeId())));
        cluster.remoteClients().forEach(s -> clients.add(new ApiModel.ClientView(s.clientId(), null, s.username(),
                java.time.Instant.ofEpochMilli(s.connectedAt()),
                s.filters() == null ? List.<String>of() : s.filters().keySet().stream().sorted().toList(), s.node())));
        clients.sort((a, b) -> a.id().compareTo(b.id()));
        return clients;
    }

    /**
     * Closes a client's connection, on whichever replica it is: 204 once it is gone (here at once; on another replica
     * when the cluster has seen it go, within 5 s), 202 when the other replica was asked and has not answered yet.
     */
    @DELETE
    @Path("/clients/{id}")
    public Response disconnect(@PathParam("id") String id) {
        if (broker.disconnect(id)) {
            return Response.noContent().build();
        }
        if (cluster.disconnectRemote(id).isPresent()) {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
            while (cluster.connectedElsewhere(id) && System.nanoTime() - deadline < 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
            }
            return cluster.connectedElsewhere(id) ? Response.accepted().build() : Response.noContent().build();
        }
        throw ApiException.notFound("No client '" + id + "' is connected");
    }

    /** The replicas of the cluster, with their figures; {@code enabled: false} and none when the cluster is off. */
    @GET
    @Path("/cluster")
    public ApiModel.ClusterView cluster() {
        if (!cluster.enabled()) {
            return new ApiModel.ClusterView(false, cluster.name(), cluster.nodeId(), 1, List.of());
        }
        List<ApiModel.MemberView> members = cluster.members().stream().map(m -> new ApiModel.MemberView(m.node().node(),
                m.node().node().equals(cluster.nodeId()), m.live(), m.node().state(), m.node().instance(),
                java.time.Instant.ofEpochMilli(m.node().startedAt()), java.time.Instant.ofEpochMilli(m.node().heartbeatAt()),
                m.node().clients(), m.node().subscriptions(), m.node().forwarded(), m.node().received(),
                Math.round(m.forwardedPerSecond() * 10) / 10.0, Math.round(m.receivedPerSecond() * 10) / 10.0,
                m.node().lag(), m.node().mqttPort())).toList();
        return new ApiModel.ClusterView(true, cluster.name(), cluster.nodeId(),
                (int) members.stream().filter(ApiModel.MemberView::live).count(), members);
    }

    @GET
    @Path("/routes")
    public ApiModel.Routes routes() {
        List<ApiModel.RouteView> uplink = new ArrayList<>();
        for (UplinkRoute route : routes.uplinkRoutes()) {
            RouteStats s = metrics.uplinkStats(route.name());
            uplink.add(new ApiModel.RouteView(route.name(), "uplink", route.filter().toString(), null, route.kafkaTopic(),
                    route.key().toString(), null, null, s.matched(), s.sent(), s.failed(), s.dropped(),
                    s.lastError() == null ? null : s.lastError().message(), s.lastError() == null ? null : s.lastError().at()));
        }
        List<ApiModel.RouteView> downlink = new ArrayList<>();
        for (DownlinkRoute route : routes.downlinkRoutes()) {
            RouteStats s = metrics.downlinkStats(route.name());
            downlink.add(new ApiModel.RouteView(route.name(), "downlink", null, route.mqttTopic().toString(),
                    route.kafkaTopic(), null, route.qos(), route.retain(), s.matched(), s.sent(), s.failed(), s.dropped(),
                    s.lastError() == null ? null : s.lastError().message(), s.lastError() == null ? null : s.lastError().at()));
        }
        return new ApiModel.Routes(uplink, downlink);
    }

    @POST
    @Path("/routes/uplink/dry-run")
    public List<ApiModel.UplinkMatch> uplinkDryRun(ApiModel.UplinkDryRun request) {
        if (request == null || request.topic() == null) {
            throw ApiException.badRequest("Give the MQTT topic of the publish: {\"topic\": \"devices/d1/telemetry\"}");
        }
        String invalid = TopicNames.invalidNameReason(request.topic());
        if (invalid != null) {
            throw ApiException.badRequest("topic '" + request.topic() + "' is not a topic a device can publish to: " + invalid);
        }
        byte[] payload = request.payload() == null ? new byte[0] : request.payload().getBytes(StandardCharsets.UTF_8);
        MqttPublication publication = new MqttPublication(request.topic(), payload, 1, false,
                request.clientId() == null ? "dry-run" : request.clientId(), request.username());
        List<ApiModel.UplinkMatch> matches = new ArrayList<>();
        JsonPayload json = new JsonPayload(payload);
        long now = System.currentTimeMillis();
        for (UplinkRoute route : routes.uplinkRoutesFor(request.topic())) {
            try {
                UplinkRecord record = route.toRecord(publication, now, json);
                matches.add(new ApiModel.UplinkMatch(route.name(), record.kafkaTopic(), record.key(), record.timestamp(),
                        headers(record), null));
            } catch (InvalidPayloadException e) {
                UplinkRecord record = route.invalidRecord(publication, now);
                matches.add(new ApiModel.UplinkMatch(route.name(), deadLetterTopic.orElse(null), null, record.timestamp(),
                        headers(record), e.getMessage()));
            }
        }
        return matches;
    }

    @POST
    @Path("/routes/downlink/dry-run")
    public List<ApiModel.DownlinkOutcome> downlinkDryRun(ApiModel.DownlinkDryRun request) {
        if (request == null || request.kafkaTopic() == null) {
            throw ApiException.badRequest("Give the Kafka topic of the record: {\"kafkaTopic\": \"device-commands\", \"key\": \"d1\"}");
        }
        Map<String, String> headers = request.headers() == null ? Map.of() : request.headers();
        TopicTemplate.KafkaRecordView record = TopicTemplate.KafkaRecordView.of(request.kafkaTopic(),
                request.partition() == null ? 0 : request.partition(), request.key(), headers::get);
        List<ApiModel.DownlinkOutcome> outcomes = new ArrayList<>();
        for (DownlinkRoute route : routes.downlinkRoutesFor(request.kafkaTopic())) {
            TopicTemplate.Result result = route.mqttTopic().render(record);
            outcomes.add(result.isDropped()
                    ? new ApiModel.DownlinkOutcome(route.name(), null, null, null, result.dropReason())
                    : new ApiModel.DownlinkOutcome(route.name(), result.topic(), route.qos(), route.retain(), null));
        }
        return outcomes;
    }


    private static Map<String, String> headers(UplinkRecord record) {
        Map<String, String> headers = new LinkedHashMap<>();
        record.headers().forEach(h -> headers.put(h.name(), new String(h.value(), StandardCharsets.UTF_8)));
        return headers;
    }
}
