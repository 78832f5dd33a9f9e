package io.mqttkafkabridge.uplink;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

import jakarta.inject.Singleton;

import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.Metadata;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;

import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.metrics.BridgeMetrics;
import io.mqttkafkabridge.routing.MqttPublication;
import io.mqttkafkabridge.routing.RouteTable;
import io.mqttkafkabridge.routing.UplinkRecord;
import io.mqttkafkabridge.routing.UplinkRoute;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;

/**
 * Maps each publication through the uplink routes and sends one Kafka record per matching route on the
 * {@code uplink} channel. Called on the broker's interceptor thread; never throws.
 */
@Singleton
public class UplinkDispatcher implements Consumer<MqttPublication> {

    /** Records the Kafka connector has not requested yet that may wait here before a publish is refused. */
    static final int PENDING_RECORDS = 16_384;

    private final RouteTable routes;
    private final BridgeMetrics metrics;
    private final Emitter<byte[]> uplink;

    UplinkDispatcher(RouteTable routes, BridgeMetrics metrics,
            @Channel("uplink") @OnOverflow(value = OnOverflow.Strategy.THROW_EXCEPTION, bufferSize = PENDING_RECORDS) Emitter<byte[]> uplink) {
        this.routes = routes;
        this.metrics = metrics;
        this.uplink = uplink;
    }

    @Override
    public void accept(MqttPublication publication) {
        List<UplinkRoute> matching = routes.uplinkRoutesFor(publication.topic());
        if (matching.isEmpty()) {
            metrics.uplinkUnrouted();
            BridgeLog.LOG.unrouted(publication.topic(), publication.clientId());
            return;
        }
        for (UplinkRoute route : matching) {
            send(route.toRecord(publication), publication.topic());
        }
    }

    private void send(UplinkRecord record, String mqttTopic) {
        String route = record.route().name();
        RecordHeaders headers = new RecordHeaders();
        for (UplinkRecord.Header header : record.headers()) {
            headers.add(header.name(), header.value());
        }
        OutgoingKafkaRecordMetadata<String> metadata = OutgoingKafkaRecordMetadata.<String> builder()
                .withTopic(record.kafkaTopic())
                .withKey(record.key())
                .withHeaders(headers)
                .build();
        Message<byte[]> message = Message.of(record.value(), Metadata.of(metadata),
                () -> {
                    metrics.uplink(route, "sent");
                    return CompletableFuture.completedFuture(null);
                },
                failure -> {
                    metrics.uplink(route, "failed");
                    BridgeLog.LOG.uplinkSendFailed(route, record.kafkaTopic(), mqttTopic, failure);
                    return CompletableFuture.completedFuture(null);
                });
        try {
            uplink.send(message);
        } catch (RuntimeException e) {
            metrics.uplink(route, "failed");
            BridgeLog.LOG.uplinkQueueFailed(mqttTopic, e.getMessage());
        }
    }
}
