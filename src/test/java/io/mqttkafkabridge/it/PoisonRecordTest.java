package io.mqttkafkabridge.it;

import static io.mqttkafkabridge.it.Devices.unique;
import static io.mqttkafkabridge.it.Devices.utf8;
import static io.mqttkafkabridge.it.KafkaTopics.header;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.Random;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;

import io.mqttkafkabridge.broker.EmbeddedBroker;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * A record Kafka rejects for good goes to the dead-letter topic and never blocks the journal. Route (%test):
 * {@code small/# -> it-small}, a topic that takes at most 2 KiB per record; dead letters go to {@code it-dead-letter}.
 * The poison record is sent alone: Kafka's producer splits and retries without end a batch in which a too-large
 * record sits with others while the batch still fits {@code batch.size} (README, Limitations).
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
class PoisonRecordTest {

    @Inject
    EmbeddedBroker broker;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    @Test
    void a_record_too_large_for_its_topic_is_dead_lettered_and_the_next_one_goes_through() {
        Mqtt3BlockingClient device = Devices.connect(broker.port(), unique("big"), null);
        String series = "bridge_uplink_messages_total{outcome=\"dead-lettered\",route=\"small\"}";
        double before = PrometheusMetrics.value(metrics, series);
        byte[] tooLarge = new byte[4096];
        new Random(42).nextBytes(tooLarge); // incompressible: lz4 must not shrink it under the 2 KiB limit
        byte[] marker = utf8(unique("large"));
        System.arraycopy(marker, 0, tooLarge, 0, marker.length);
        byte[] small = utf8(unique("small"));

        Devices.publish(device, "small/d1", tooLarge, 1, false);
        ConsumerRecord<String, byte[]> dead = KafkaTopics.withValue("it-dead-letter", tooLarge, 1).get(0);
        Devices.publish(device, "small/d1", small, 1, false);

        assertThat(KafkaTopics.withValue("it-small", small, 1)).hasSize(1);
        assertThat(header(dead, "bridge.original-topic")).isEqualTo("it-small");
        assertThat(header(dead, "bridge.error")).contains("RecordTooLargeException");
        assertThat(header(dead, "mqtt.topic")).isEqualTo("small/d1");
        assertThat(dead.key()).isEqualTo("small/d1");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(PrometheusMetrics.value(metrics, series)).isEqualTo(before + 1));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(PrometheusMetrics.value(metrics, "bridge_journal_entries")).isZero());
        device.disconnect();
    }
}
