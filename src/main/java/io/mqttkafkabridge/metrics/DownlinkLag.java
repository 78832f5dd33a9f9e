package io.mqttkafkabridge.metrics;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.mqttkafkabridge.kafka.KafkaAdmin;
import io.quarkus.runtime.StartupEvent;

/**
 * {@code bridge_downlink_lag{topic,partition}}: records of each downlink partition after the group's committed
 * offset (end offset - committed offset), as {@code kafka-consumer-groups --describe} shows it. Refreshed every 5 s
 * by a background thread with the admin client; offsets are committed every 5 s, so that is its resolution.
 */
@Singleton
public class DownlinkLag {

    private final MeterRegistry registry;
    private final KafkaAdmin kafka;
    private final Optional<String> groupId;
    private final Map<TopicPartition, Long> lag = new ConcurrentHashMap<>();
    private final ScheduledExecutorService scanner = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "downlink-lag-metrics");
        t.setDaemon(true);
        return t;
    });

    DownlinkLag(MeterRegistry registry, KafkaAdmin kafka,
            @ConfigProperty(name = "mp.messaging.incoming.downlink.group.id") Optional<String> groupId,
            @ConfigProperty(name = "mp.messaging.incoming.downlink.enabled", defaultValue = "true") boolean enabled) {
        this.registry = registry;
        this.kafka = kafka;
        this.groupId = enabled ? groupId : Optional.empty();
    }

    void start(@Observes StartupEvent event) {
        if (groupId.isPresent()) {
            scanner.scheduleWithFixedDelay(this::refresh, 2, 5, TimeUnit.SECONDS);
        }
    }

    private void refresh() {
        try {
            Admin admin = kafka.admin();
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId.get())
                    .partitionsToOffsetAndMetadata().get(5, TimeUnit.SECONDS);
            committed.values().removeIf(java.util.Objects::isNull);
            if (committed.isEmpty()) {
                return;
            }
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(committed.keySet().stream()
                    .collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest()))).all().get(5, TimeUnit.SECONDS);
            ends.forEach((tp, end) -> {
                long value = Math.max(0, end.offset() - committed.get(tp).offset());
                if (lag.put(tp, value) == null) {
                    Gauge.builder(BridgeMetrics.DOWNLINK_LAG, lag, m -> m.getOrDefault(tp, 0L))
                            .tags("topic", tp.topic(), "partition", Integer.toString(tp.partition()))
                            .description("Records of a downlink partition after the committed offset").register(registry);
                }
            });
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            // Kafka unreachable: readiness says so; the gauges keep their last values
        }
    }

    @PreDestroy
    void stop() {
        scanner.shutdownNow();
    }
}
