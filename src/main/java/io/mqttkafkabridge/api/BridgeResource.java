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
import jakarta.ws.rs.PUT;
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
import io.mqttkafkabridge.downlink.DownlinkSubscription;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.routes.Direction;
import io.mqttkafkabridge.routes.RouteKeys;
import io.mqttkafkabridge.routes.RouteStore;
import io.mqttkafkabridge.routes.Routes;

/** The bridge's REST API, version 1: publish, clients, routes and their dry runs. Errors are RFC 9457 problems. */
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class BridgeResource {

    private final EmbeddedBroker broker;
    /** The name an unsaved route has in a dry run. */
    private static final String DRY_RUN = "dry-run";

    private final Routes routes;
    private final RouteStore store;
    private final DownlinkSubscription subscription;
    private final ApiCaller caller;
    private final BridgeMetrics metrics;
    private final Cluster cluster;
    private final java.util.Optional<String> deadLetterTopic;

    BridgeResource(EmbeddedBroker broker, Routes routes, RouteStore store, DownlinkSubscription subscription, ApiCaller caller,
            BridgeMetrics metrics, Cluster cluster, BridgeConfig config) {
        this.store = store;
        this.subscription = subscription;
        this.caller = caller;
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
                c.username(), c.connectedSince(), c.subscriptions().stream().sorted().toList(), cluster.nodeId(),
                broker.protocolVersion(c.id()))));
        cluster.remoteClients().forEach(s -> clients.add(new ApiModel.ClientView(s.clientId(), null, s.username(),
                java.time.Instant.ofEpochMilli(s.connectedAt()),
                s.filters() == null ? List.<String>of() : s.filters().keySet().stream().sorted().toList(), s.node(), null)));
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
        RouteTable table = routes.table();
        List<ApiModel.RouteView> uplink = new ArrayList<>();
        for (UplinkRoute route : table.uplinkRoutes()) {
            uplink.add(view(route));
        }
        List<ApiModel.RouteView> downlink = new ArrayList<>();
        for (DownlinkRoute route : table.downlinkRoutes()) {
            downlink.add(view(route));
        }
        return new ApiModel.Routes(uplink, downlink);
    }

    private ApiModel.RouteView view(UplinkRoute route) {
        RouteStats s = metrics.uplinkStats(route.name());
        return new ApiModel.RouteView(route.name(), "uplink", route.filter().toString(), null, route.kafkaTopic(),
                route.key().toString(), null, null, s.matched(), s.sent(), s.failed(), s.dropped(),
                s.lastError() == null ? null : s.lastError().message(), s.lastError() == null ? null : s.lastError().at(),
                route.timestamp().toString(), routes.origin(Direction.UPLINK, route.name()).label());
    }

    private ApiModel.RouteView view(DownlinkRoute route) {
        RouteStats s = metrics.downlinkStats(route.name());
        return new ApiModel.RouteView(route.name(), "downlink", null, route.mqttTopic().toString(), route.kafkaTopic(), null,
                route.qos(), route.retain(), s.matched(), s.sent(), s.failed(), s.dropped(),
                s.lastError() == null ? null : s.lastError().message(), s.lastError() == null ? null : s.lastError().at(),
                null, routes.origin(Direction.DOWNLINK, route.name()).label());
    }

    /**
     * Creates (201) or replaces (200) a runtime route, with the configuration's keys as a JSON object. It is validated
     * exactly as start-up validates the configuration (400 naming each key that is wrong; nothing changes), kept in
     * Kafka, in force here when this returns and on every other replica when it has read it (within a second). A
     * downlink route returns once this replica's consumer reads its topic (up to 10 s more). Routes of the
     * configuration are {@code static}: 409.
     */
    @PUT
    @Path("/routes/{direction}/{name}")
    public Response saveRoute(@PathParam("direction") String directionLabel, @PathParam("name") String name,
            Map<String, Object> body) {
        Direction direction = direction(directionLabel);
        refuseStatic(direction, name);
        if (name.equals(DRY_RUN)) {
            throw ApiException.badRequest("route name '" + DRY_RUN + "' is taken by the dry-run endpoints; choose another");
        }
        Map<String, String> keys = RouteKeys.text(direction, name, body);
        RouteTable alone = Routes.validate(direction, name, keys);
        refuseUnlessLoaded();
        boolean existed = routes.hasRuntime(direction, name);
        save(direction, name, keys);
        String what = existed ? "replaced" : "created";
        if (direction == Direction.UPLINK) {
            UplinkRoute route = alone.uplinkRoutes().get(0);
            BridgeLog.LOG.routeChanged(direction.label(), name, what, caller.user(), route.filter() + " -> " + route.kafkaTopic()
                    + " (key " + route.key() + ", timestamp " + route.timestamp() + ")");
            UplinkRoute inForce = routes.uplink(name);
            return Response.status(existed ? 200 : 201).entity(view(inForce == null ? route : inForce)).build();
        }
        DownlinkRoute route = alone.downlinkRoutes().get(0);
        BridgeLog.LOG.routeChanged(direction.label(), name, what, caller.user(), route.kafkaTopic() + " -> " + route.mqttTopic()
                + " (qos " + route.qos() + ", retain " + route.retain() + ")");
        subscription.awaitReading(route.kafkaTopic(), java.time.Duration.ofSeconds(10));
        DownlinkRoute inForce = routes.downlink(name);
        return Response.status(existed ? 200 : 201).entity(view(inForce == null ? route : inForce)).build();
    }

    /** Deletes a runtime route, on every replica (204); 404 when there is none of that name; 409 for a static one. */
    @DELETE
    @Path("/routes/{direction}/{name}")
    public Response deleteRoute(@PathParam("direction") String directionLabel, @PathParam("name") String name) {
        Direction direction = direction(directionLabel);
        refuseStatic(direction, name);
        if (!routes.hasRuntime(direction, name)) {
            throw ApiException.notFound("No runtime " + direction.label() + " route '" + name + "'");
        }
        refuseUnlessLoaded();
        save(direction, name, null);
        BridgeLog.LOG.routeChanged(direction.label(), name, "deleted", caller.user(), "-");
        return Response.noContent().build();
    }

    /** Right after start-up the runtime routes may still be being read: waits up to 10 s for them, then refuses (503). */
    private void refuseUnlessLoaded() {
        try {
            routes.loaded().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            // refused below, saying why
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        store.refusal().ifPresent(reason -> {
            throw ApiException.unavailable(reason);
        });
    }

    private void save(Direction direction, String name, Map<String, String> keys) {
        try {
            store.save(direction, name, keys, caller.user());
        } catch (IllegalStateException e) {
            throw ApiException.unavailable(e.getMessage());
        }
    }

    private static Direction direction(String label) {
        return Direction.of(label).orElseThrow(() -> ApiException.notFound("No route direction '" + label
                + "': use uplink or downlink"));
    }

    private void refuseStatic(Direction direction, String name) {
        if (routes.isStatic(direction, name)) {
            throw ApiException.conflict("Route " + direction.label() + "/" + name + " is static: it comes from the configuration ("
                    + RouteKeys.configKey(direction, name, "*") + "), so change it there and restart; the API changes "
                    + "runtime routes only");
        }
    }

    /**
     * What the uplink routes make of a publish: the routes in force, or only {@code route} when given (an unsaved
     * route with the configuration's keys, validated as a PUT is), to test it before saving it.
     */
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
        RouteTable table = request.route() == null ? routes.table()
                : Routes.validate(Direction.UPLINK, DRY_RUN, RouteKeys.text(Direction.UPLINK, DRY_RUN, request.route()));
        byte[] payload = request.payload() == null ? new byte[0] : request.payload().getBytes(StandardCharsets.UTF_8);
        long now = System.currentTimeMillis();
        MqttPublication publication = new MqttPublication(request.topic(), payload, 1, false,
                request.clientId() == null ? "dry-run" : request.clientId(), request.username(),
                properties(request.properties(), now));
        List<ApiModel.UplinkMatch> matches = new ArrayList<>();
        JsonPayload json = new JsonPayload(payload);
        for (UplinkRoute route : table.uplinkRoutesFor(request.topic())) {
            try {
                UplinkRecord record = route.toRecord(publication, now, json);
                matches.add(new ApiModel.UplinkMatch(route.name(), record.kafkaTopic(), record.key(), record.timestamp(),
                        headers(record), null, headerList(record)));
            } catch (InvalidPayloadException e) {
                UplinkRecord record = route.invalidRecord(publication, now);
                matches.add(new ApiModel.UplinkMatch(route.name(), deadLetterTopic.orElse(null), null, record.timestamp(),
                        headers(record), e.getMessage(), headerList(record)));
            }
        }
        return matches;
    }

    /**
     * What the downlink routes make of a Kafka record: the routes in force for its topic, or only {@code route} when
     * given (unsaved, validated as a PUT is).
     */
    @POST
    @Path("/routes/downlink/dry-run")
    public List<ApiModel.DownlinkOutcome> downlinkDryRun(ApiModel.DownlinkDryRun request) {
        if (request == null || request.kafkaTopic() == null) {
            throw ApiException.badRequest("Give the Kafka topic of the record: {\"kafkaTopic\": \"device-commands\", \"key\": \"d1\"}");
        }
        RouteTable table = request.route() == null ? routes.table()
                : Routes.validate(Direction.DOWNLINK, DRY_RUN, RouteKeys.text(Direction.DOWNLINK, DRY_RUN, request.route()));
        Map<String, String> headers = request.headers() == null ? Map.of() : request.headers();
        TopicTemplate.KafkaRecordView record = TopicTemplate.KafkaRecordView.of(request.kafkaTopic(),
                request.partition() == null ? 0 : request.partition(), request.key(), headers::get);
        List<ApiModel.DownlinkOutcome> outcomes = new ArrayList<>();
        org.apache.kafka.common.header.internals.RecordHeaders recordHeaders = new org.apache.kafka.common.header.internals.RecordHeaders();
        headers.forEach((name, value) -> recordHeaders.add(name, value == null ? new byte[0] : value.getBytes(StandardCharsets.UTF_8)));
        long now = System.currentTimeMillis();
        for (DownlinkRoute route : table.downlinkRoutesFor(request.kafkaTopic())) {
            TopicTemplate.Result result = route.mqttTopic().render(record);
            outcomes.add(result.isDropped()
                    ? new ApiModel.DownlinkOutcome(route.name(), null, null, null, result.dropReason(), null)
                    : new ApiModel.DownlinkOutcome(route.name(), result.topic(), route.qos(), route.retain(), null,
                            view(io.mqttkafkabridge.downlink.DownlinkDispatcher.properties(recordHeaders, now, route), now)));
        }
        return outcomes;
    }

    private static List<ApiModel.Header> headerList(UplinkRecord record) {
        return record.headers().stream().map(h -> new ApiModel.Header(h.name(), new String(h.value(), StandardCharsets.UTF_8)))
                .toList();
    }

    /** The dry run's properties as the bridge keeps them (the expiry counted from {@code now}). */
    private static io.mqttkafkabridge.routing.MessageProperties properties(ApiModel.MessageProperties p, long now) {
        if (p == null) {
            return io.mqttkafkabridge.routing.MessageProperties.NONE;
        }
        if (p.payloadFormatIndicator() != null && p.payloadFormatIndicator() != 0 && p.payloadFormatIndicator() != 1) {
            throw ApiException.badRequest("properties.payloadFormatIndicator is 0 (bytes) or 1 (UTF-8)");
        }
        if (p.messageExpiryInterval() != null && (p.messageExpiryInterval() < 0 || p.messageExpiryInterval() > 0xFFFFFFFFL)) {
            throw ApiException.badRequest("properties.messageExpiryInterval is seconds from 0 to 4294967295");
        }
        List<io.mqttkafkabridge.routing.MessageProperties.UserProperty> user = new ArrayList<>();
        if (p.userProperties() != null) {
            for (ApiModel.UserProperty property : p.userProperties()) {
                if (property == null || property.name() == null || property.value() == null) {
                    throw ApiException.badRequest("each of properties.userProperties has a name and a value");
                }
                user.add(new io.mqttkafkabridge.routing.MessageProperties.UserProperty(property.name(), property.value()));
            }
        }
        return new io.mqttkafkabridge.routing.MessageProperties(p.payloadFormatIndicator(), p.contentType(), p.responseTopic(),
                p.correlationData() == null ? null : p.correlationData().getBytes(StandardCharsets.UTF_8),
                p.messageExpiryInterval() == null ? 0 : now + p.messageExpiryInterval() * 1000L, user);
    }

    private static ApiModel.MessageProperties view(io.mqttkafkabridge.routing.MessageProperties p, long now) {
        long expiry = p.remainingExpirySeconds(now);
        return new ApiModel.MessageProperties(p.payloadFormat(), p.contentType(), p.responseTopic(),
                p.correlationData() == null ? null : new String(p.correlationData(), StandardCharsets.UTF_8),
                expiry < 0 ? null : expiry,
                p.userProperties().stream().map(u -> new ApiModel.UserProperty(u.name(), u.value())).toList());
    }

    private static Map<String, String> headers(UplinkRecord record) {
        Map<String, String> headers = new LinkedHashMap<>();
        record.headers().forEach(h -> headers.put(h.name(), new String(h.value(), StandardCharsets.UTF_8)));
        return headers;
    }
}
