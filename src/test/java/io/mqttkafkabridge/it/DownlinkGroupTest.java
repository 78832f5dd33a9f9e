package io.mqttkafkabridge.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The downlink's consumer group must be the replica's own ({@code DownlinkAssignment}). In the bridge's JVM only
 * (it reads the bridge's log records), so not part of {@link DownlinkIT}.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
class DownlinkGroupTest {

    @TestHTTPResource("/api/v1/broker")
    URI brokerApi;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    @Test
    void a_second_consumer_in_the_replicas_group_is_reported_until_it_leaves() throws Exception {
        // every replica must read every partition of its downlink topics; a second consumer in its group (another
        // bridge on the same host with the default group) takes some away, silently as far as Kafka is concerned
        String group = org.eclipse.microprofile.config.ConfigProvider.getConfig()
                .getValue("mp.messaging.incoming.downlink.group.id", String.class);
        String gauge = "bridge_downlink_partitions_elsewhere";
        assertThat(PrometheusMetrics.value(metrics, gauge)).isZero();
        LogCapture logs = LogCapture.start();
        java.util.Properties config = new java.util.Properties();
        config.put("bootstrap.servers", KafkaTestResource.bootstrapServers());
        config.put("group.id", group);
        config.put("enable.auto.commit", "false");
        try {
            try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> intruder = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
                    config, new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                    new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
                intruder.subscribe(List.of("it-commands", "it-alerts"));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (intruder.assignment().isEmpty() && System.nanoTime() < deadline) {
                    intruder.poll(Duration.ofMillis(200));
                }
                assertThat(intruder.assignment()).as("partitions the intruder got").isNotEmpty();
                // first a rebalance is asked (it heals a restart with new topics); when the partitions are still
                // missing after it (the intruder takes part in it, so it keeps polling), the shared group is reported
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    intruder.poll(Duration.ofMillis(10));
                    assertThat(logs.lines()).anyMatch(line -> line.contains("MKB0202") && line.contains(group)
                            && line.contains("bridge.downlink.group-id"));
                });
                assertThat(logs.lines()).anyMatch(line -> line.contains("MKB0204") && line.contains(group));
                assertThat(PrometheusMetrics.value(metrics, gauge)).isEqualTo(intruder.assignment().size());
                java.net.http.HttpResponse<String> well = Http.get(brokerApi.resolve("/q/health/well"));
                assertThat(well.statusCode()).isEqualTo(503);
                assertThat(well.body()).contains("downlink-group").contains("MKB0202");
            }
            // the intruder left the group: the replica reads every partition again
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(PrometheusMetrics.value(metrics, gauge)).isZero());
            assertThat(logs.lines()).anyMatch(line -> line.contains("MKB0203") && line.contains(group));
            assertThat(Http.get(brokerApi.resolve("/q/health/well")).body()).doesNotContain("MKB0202");
        } finally {
            logs.close();
        }
    }
}
