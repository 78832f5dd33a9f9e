package io.mqttkafkabridge.downlink;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

import io.mqttkafkabridge.broker.EmbeddedBroker;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.metrics.BridgeMetrics;
import io.mqttkafkabridge.routing.DownlinkRoute;
import io.mqttkafkabridge.routing.RouteTable;
import io.mqttkafkabridge.routing.TopicTemplate;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;

/**
 * Publishes each Kafka record of the {@code downlink} channel to devices through every downlink route of its
 * topic. Called by the Kafka connector, one record at a time per channel, in offset order. A record is acked
 * (so its offset may be committed) only after every route has handed it to the broker or dropped it.
 */
@ApplicationScoped
public class DownlinkDispatcher {

    private final RouteTable routes;
    private final EmbeddedBroker broker;
    private final BridgeMetrics metrics;

    DownlinkDispatcher(RouteTable routes, EmbeddedBroker broker, BridgeMetrics metrics) {
        this.routes = routes;
        this.broker = broker;
        this.metrics = metrics;
    }

    @Incoming("downlink")
    CompletionStage<Void> deliver(Message<byte[]> message) {
        // The channel starts just before the broker does; records that arrive in between wait for it.
        return broker.started().thenCompose(started -> publish(message));
    }

    private CompletionStage<Void> publish(Message<byte[]> message) {
        IncomingKafkaRecordMetadata<?, ?> kafka = message.getMetadata(IncomingKafkaRecordMetadata.class).orElse(null);
        if (kafka == null) {
            return message.ack();
        }
        TopicTemplate.KafkaRecordView record = view(kafka);
        byte[] payload = message.getPayload() == null ? new byte[0] : message.getPayload();
        for (DownlinkRoute route : routes.downlinkRoutesFor(kafka.getTopic())) {
            metrics.downlinkMatched(route.name());
            TopicTemplate.Result topic = route.mqttTopic().render(record);
            if (topic.isDropped()) {
                metrics.downlink(route.name(), "dropped");
                metrics.downlinkError(route.name(), topic.dropReason());
                BridgeLog.LOG.downlinkDropped(kafka.getTopic(), kafka.getPartition(), kafka.getOffset(), route.name(),
                        topic.dropReason());
                continue;
            }
            if (!broker.isRunning()) {
                // shutting down: not acked, so the offset is not committed and the record is read again after restart
                return new CompletableFuture<>();
            }
            try {
                broker.publish(topic.topic(), payload, route.qos(), route.retain());
            } catch (RuntimeException e) {
                metrics.downlink(route.name(), "failed");
                metrics.downlinkError(route.name(), String.valueOf(e));
                BridgeLog.LOG.downlinkPublishFailed(kafka.getTopic(), kafka.getPartition(), kafka.getOffset(), route.name(), e);
                // not acked: the offset stays uncommitted and the record is read again after a restart
                return message.nack(e);
            }
            metrics.downlink(route.name(), "published");
        }
        return message.ack();
    }

    /** The parts of a Kafka record a topic template can use. */
    private static TopicTemplate.KafkaRecordView view(IncomingKafkaRecordMetadata<?, ?> kafka) {
        Headers headers = kafka.getHeaders();
        return TopicTemplate.KafkaRecordView.of(kafka.getTopic(), kafka.getPartition(),
                kafka.getKey() == null ? null : kafka.getKey().toString(), name -> {
                    Header header = headers == null ? null : headers.lastHeader(name);
                    return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
                });
    }
}
