package io.mqttkafkabridge.downlink;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.eclipse.microprofile.reactive.messaging.Incoming;

import io.mqttkafkabridge.broker.EmbeddedBroker;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.metrics.BridgeMetrics;
import io.mqttkafkabridge.routing.DownlinkRoute;
import io.mqttkafkabridge.routing.MessageProperties;
import io.mqttkafkabridge.routing.UplinkRoute;
import io.mqttkafkabridge.routes.Routes;
import io.mqttkafkabridge.routing.TopicTemplate;
import io.smallrye.reactive.messaging.kafka.IncomingKafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaRecordBatch;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

/**
 * Publishes each Kafka record of the {@code downlink} channel to devices through every downlink route of its
 * topic. The Kafka connector hands over the records of a poll as one batch ({@code batch=true}), one batch at a time
 * per channel; its records are published one after the other, in offset order. A batch is acked (so its offsets may be
 * committed) only after every route has handed each of its records to the broker or dropped it; a record whose publish
 * failed is nacked on its own, as the channel's failure strategy then decides. Metrics and drop log lines stay per
 * record. One batch instead of one message per record: the connector's per-message path (a hop to the Vert.x context,
 * the Mutiny operators around each message, its own ack) cost three times the broker's publish.
 */
@ApplicationScoped
public class DownlinkDispatcher {

    /** How often a batch waiting for the broker's session loops to catch up looks again. */
    private static final long BEHIND_POLL_MILLIS = 1;

    private final Routes routes;
    private final EmbeddedBroker broker;
    private final BridgeMetrics metrics;
    /** By route name. */
    private final Map<String, BridgeMetrics.DownlinkCounters> counters = new ConcurrentHashMap<>();

    DownlinkDispatcher(Routes routes, EmbeddedBroker broker, BridgeMetrics metrics) {
        this.routes = routes;
        this.broker = broker;
        this.metrics = metrics;
        for (DownlinkRoute route : routes.table().downlinkRoutes()) {
            counters.put(route.name(), metrics.downlinkCounters(route.name()));
        }
        // a deleted runtime route's meters are removed: one saved again under its name starts with new ones
        routes.onChange(table -> counters.keySet().retainAll(
                table.downlinkRoutes().stream().map(DownlinkRoute::name).collect(java.util.stream.Collectors.toSet())));
    }

    @Incoming("downlink")
    CompletionStage<Void> deliver(KafkaRecordBatch<Object, byte[]> batch) {
        // The channel starts just before the broker does; records that arrive in between wait for it.
        return broker.started().thenCompose(started -> publish(batch, 0));
    }

    /** Publishes the batch's records from {@code from} on, in order, then acks the batch. */
    private CompletionStage<Void> publish(KafkaRecordBatch<Object, byte[]> batch, int from) {
        List<KafkaRecord<Object, byte[]>> records = batch.getRecords();
        for (int i = from; i < records.size(); i++) {
            if (broker.behind()) {
                // as MQTT publishers pause (FlowControl): Moquette drops what a full session loop queue cannot take
                int next = i;
                return caughtUp().thenCompose(ignored -> publish(batch, next));
            }
            KafkaRecord<Object, byte[]> record = records.get(i);
            Outcome outcome = publish(record);
            if (outcome == Outcome.STOPPED) {
                // shutting down: not acked, so the offsets are not committed and the records are read again after restart
                return new CompletableFuture<>();
            }
            if (outcome.failure != null) {
                // nacked: the failure strategy decides (fail, the default: the channel stops, the batch is not acked)
                int next = i + 1;
                return record.nack(outcome.failure).thenCompose(ignored -> publish(batch, next));
            }
        }
        return batch.ack();
    }

    /** What became of one record. */
    private record Outcome(Throwable failure) {
        static final Outcome DONE = new Outcome(null);
        static final Outcome STOPPED = new Outcome(null);
    }

    /** Publishes one record through each route of its topic (or drops it there); stops at the first failure. */
    private Outcome publish(KafkaRecord<Object, byte[]> record) {
        List<DownlinkRoute> matched = routes.table().downlinkRoutesFor(record.getTopic());
        if (matched.isEmpty()) {
            return Outcome.DONE;
        }
        TopicTemplate.KafkaRecordView view = view(record);
        byte[] payload = record.getPayload() == null ? new byte[0] : record.getPayload();
        for (DownlinkRoute route : matched) {
            BridgeMetrics.DownlinkCounters meters = counters(route);
            meters.matched();
            TopicTemplate.Result topic = route.mqttTopic().render(view);
            if (topic.isDropped()) {
                meters.dropped(topic.dropReason());
                BridgeLog.LOG.downlinkDropped(record.getTopic(), record.getPartition(), offset(record), route.name(),
                        topic.dropReason());
                continue;
            }
            if (!broker.isRunning()) {
                return Outcome.STOPPED;
            }
            try {
                broker.publish(topic.topic(), payload, properties(record, route), route.qos(), route.retain());
            } catch (RuntimeException e) {
                meters.failed(String.valueOf(e));
                BridgeLog.LOG.downlinkPublishFailed(record.getTopic(), record.getPartition(), offset(record), route.name(), e);
                // not acked: the offset stays uncommitted and the record is read again after a restart
                return new Outcome(e);
            }
            meters.published();
        }
        return Outcome.DONE;
    }

    /**
     * The MQTT 5 properties a record's message carries: {@code mqtt.content-type}, {@code mqtt.response-topic},
     * {@code mqtt.correlation-data} and {@code mqtt.payload-format} as those properties; every other header as a User
     * Property (in order, repeated names kept) when the route says so, except the bridge's own {@code mqtt.*} and
     * {@code bridge.*} ({@code mqtt.user.<name>}, a user property that uplink kept apart, is {@code <name>} again); the
     * expiry, counted from the record's timestamp, the route's {@code message-expiry} or the record's
     * {@code mqtt.message-expiry-interval}, whichever ends first.
     */
    static MessageProperties properties(KafkaRecord<Object, byte[]> record, DownlinkRoute route) {
        return properties(record.getHeaders(), record.getTimestamp() == null ? System.currentTimeMillis()
                : record.getTimestamp().toEpochMilli(), route);
    }

    /** {@link #properties(KafkaRecord, DownlinkRoute)} of a record's headers and timestamp (the downlink dry run too). */
    public static MessageProperties properties(Iterable<Header> headers, long timestamp, DownlinkRoute route) {
        boolean any = headers != null && headers.iterator().hasNext();
        if (!any && route.messageExpiry() == null) {
            return MessageProperties.NONE;
        }
        Integer payloadFormat = null;
        String contentType = null;
        String responseTopic = null;
        byte[] correlation = null;
        long expiresAt = 0;
        if (route.messageExpiry() != null) {
            expiresAt = timestamp + route.messageExpiry().toMillis();
        }
        List<MessageProperties.UserProperty> user = new java.util.ArrayList<>();
        if (any) {
            for (Header header : headers) {
                String name = header.key();
                byte[] value = header.value() == null ? new byte[0] : header.value();
                switch (name) {
                    case UplinkRoute.HEADER_CONTENT_TYPE -> contentType = utf8(value);
                    case UplinkRoute.HEADER_RESPONSE_TOPIC -> responseTopic = utf8(value);
                    case UplinkRoute.HEADER_CORRELATION_DATA -> correlation = value;
                    case UplinkRoute.HEADER_PAYLOAD_FORMAT -> payloadFormat = "1".equals(utf8(value).trim()) ? 1 : 0;
                    case UplinkRoute.HEADER_MESSAGE_EXPIRY -> {
                        try {
                            long at = timestamp + Long.parseLong(utf8(value).trim()) * 1000L;
                            expiresAt = expiresAt == 0 ? at : Math.min(expiresAt, at);
                        } catch (NumberFormatException e) {
                            // not a number of seconds: no expiry from it
                        }
                    }
                    default -> {
                        if (!route.userProperties()) {
                            continue;
                        }
                        if (name.startsWith(UplinkRoute.HEADER_USER_PREFIX)) {
                            user.add(new MessageProperties.UserProperty(name.substring(UplinkRoute.HEADER_USER_PREFIX.length()),
                                    utf8(value)));
                        } else if (!UplinkRoute.isBridgeHeader(name)) {
                            user.add(new MessageProperties.UserProperty(name, utf8(value)));
                        }
                    }
                }
            }
        }
        if (responseTopic != null && (responseTopic.isEmpty() || responseTopic.indexOf('+') >= 0 || responseTopic.indexOf('#') >= 0)) {
            responseTopic = null; // MQTT-3.3.2-14: a Response Topic is a topic name
        }
        return new MessageProperties(payloadFormat, contentType, responseTopic, correlation, expiresAt, user);
    }

    private static String utf8(byte[] value) {
        return new String(value, StandardCharsets.UTF_8);
    }

    private BridgeMetrics.DownlinkCounters counters(DownlinkRoute route) {
        return counters.computeIfAbsent(route.name(), metrics::downlinkCounters);
    }

    /**
     * Completes once the broker's session loops have caught up (or the broker stopped), looking every millisecond,
     * on the Vert.x context of the caller when it has one (the connector's).
     */
    private CompletionStage<Void> caughtUp() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Context context = Vertx.currentContext();
        lookLater(done, context);
        return done;
    }

    private void lookLater(CompletableFuture<Void> done, Context context) {
        Runnable look = () -> {
            if (broker.caughtUp()) {
                done.complete(null);
            } else {
                lookLater(done, context);
            }
        };
        if (context != null) {
            context.owner().setTimer(BEHIND_POLL_MILLIS, id -> look.run());
        } else {
            CompletableFuture.delayedExecutor(BEHIND_POLL_MILLIS, TimeUnit.MILLISECONDS).execute(look);
        }
    }

    private static long offset(KafkaRecord<Object, byte[]> record) {
        return record instanceof IncomingKafkaRecord<Object, byte[]> incoming ? incoming.getOffset()
                : record.getMetadata(IncomingKafkaRecordMetadata.class).map(IncomingKafkaRecordMetadata::getOffset).orElse(-1L);
    }

    /** The parts of a Kafka record a topic template can use. */
    private static TopicTemplate.KafkaRecordView view(KafkaRecord<Object, byte[]> record) {
        Headers headers = record.getHeaders();
        Object key = record.getKey();
        return TopicTemplate.KafkaRecordView.of(record.getTopic(), record.getPartition(), key == null ? null : key.toString(),
                name -> {
                    Header header = headers == null ? null : headers.lastHeader(name);
                    return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
                });
    }
}
