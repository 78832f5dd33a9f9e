package io.mqttkafkabridge.it;

import static io.mqttkafkabridge.it.Devices.unique;
import static io.mqttkafkabridge.it.Devices.utf8;
import static io.mqttkafkabridge.it.KafkaTopics.header;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;


import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Kafka records reach subscribed devices. Routes (application.properties, %test):
 * {@code it-commands -> devices/{key}/commands (QoS 1)}, {@code it-alerts -> sites/{header:site}/alerts (QoS 0)}.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
public class DownlinkTest {

    @TestHTTPResource("/api/v1/broker")
    URI brokerApi;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    private Mqtt3BlockingClient device;
    private Mqtt3BlockingClient.Mqtt3Publishes inbox;

    @BeforeEach
    void connect() {
        device = Devices.connect(Devices.mqttPort(brokerApi), unique("device"), null);
        inbox = device.publishes(com.hivemq.client.mqtt.MqttGlobalPublishFilter.SUBSCRIBED);
    }

    @AfterEach
    void disconnect() {
        inbox.close();
        device.disconnect();
    }

    @Test
    void a_record_is_published_to_the_topic_its_key_fills_in() throws Exception {
        // given
        String deviceId = unique("d");
        device.subscribeWith().topicFilter("devices/" + deviceId + "/commands").qos(MqttQos.AT_LEAST_ONCE).send();
        // when
        KafkaTopics.produce(new ProducerRecord<>("it-commands", deviceId, utf8("reboot")));
        // then
        Optional<Mqtt3Publish> received = inbox.receive(20, TimeUnit.SECONDS);
        assertThat(received).isPresent();
        assertThat(received.get().getTopic().toString()).isEqualTo("devices/" + deviceId + "/commands");
        assertThat(new String(received.get().getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("reboot");
        assertThat(received.get().getQos()).isEqualTo(MqttQos.AT_LEAST_ONCE);
    }

    @Test
    void records_the_template_cannot_fill_are_dropped_counted_and_the_stream_goes_on() throws Exception {
        String site = unique("site");
        device.subscribeWith().topicFilter("sites/#").qos(MqttQos.AT_LEAST_ONCE).send();
        String dropped = "bridge_downlink_messages_total{outcome=\"dropped\",route=\"alerts\"}";
        double droppedBefore = PrometheusMetrics.value(metrics, dropped);

        // no 'site' header: cannot be filled
        KafkaTopics.produce(new ProducerRecord<>("it-alerts", null, "k", utf8("no header")));
        // a 'site' header that would make a wildcard topic: not a valid topic name
        ProducerRecord<String, byte[]> wildcard = new ProducerRecord<>("it-alerts", null, "k", utf8("wildcard"));
        wildcard.headers().add("site", utf8("+"));
        KafkaTopics.produce(wildcard);
        // a good record after them, on the same partition
        ProducerRecord<String, byte[]> good = new ProducerRecord<>("it-alerts", null, "k", utf8("fire"));
        good.headers().add("site", utf8(site));
        KafkaTopics.produce(good);

        Optional<Mqtt3Publish> received = inbox.receive(20, TimeUnit.SECONDS);
        assertThat(received).isPresent();
        assertThat(received.get().getTopic().toString()).isEqualTo("sites/" + site + "/alerts");
        assertThat(new String(received.get().getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("fire");
        assertThat(received.get().getQos()).isEqualTo(MqttQos.AT_MOST_ONCE);
        assertThat(inbox.receive(500, TimeUnit.MILLISECONDS)).as("the two bad records were not published").isEmpty();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(PrometheusMetrics.value(metrics, dropped)).isEqualTo(droppedBefore + 2));
    }

    @Test
    void a_record_without_key_is_dropped_and_the_next_one_is_delivered() throws Exception {
        String deviceId = unique("d");
        device.subscribeWith().topicFilter("devices/+/commands").qos(MqttQos.AT_LEAST_ONCE).send();

        KafkaTopics.produce(new ProducerRecord<>("it-commands", 0, null, utf8("keyless")));
        KafkaTopics.produce(new ProducerRecord<>("it-commands", 0, deviceId, utf8("after keyless")));

        Mqtt3Publish received = inbox.receive(20, TimeUnit.SECONDS).orElseThrow();
        assertThat(received.getTopic().toString()).isEqualTo("devices/" + deviceId + "/commands");
        assertThat(new String(received.getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("after keyless");
    }

    @Test
    void messages_the_bridge_publishes_never_come_back_to_kafka() throws Exception {
        // given: the uplink route 'audit' (devices/#) matches the topic the downlink publishes to
        String deviceId = unique("d");
        device.subscribeWith().topicFilter("devices/" + deviceId + "/commands").qos(MqttQos.AT_LEAST_ONCE).send();
        KafkaTopics.produce(new ProducerRecord<>("it-commands", deviceId, utf8("loop?")));
        assertThat(inbox.receive(20, TimeUnit.SECONDS)).isPresent();

        // when: a device publishes after the downlink message was delivered
        byte[] marker = utf8("marker-" + deviceId);
        Devices.publish(device, "devices/" + deviceId + "/status", marker, 1, false);

        // then: the uplink handles publishes in order, so once the marker is in Kafka, a looped message would be too
        KafkaTopics.withValue("it-audit", marker, 1);
        List<ConsumerRecord<String, byte[]>> audit = KafkaTopics.readUntil("it-audit", rs -> false, Duration.ofSeconds(1));
        assertThat(audit).noneMatch(r -> ("devices/" + deviceId + "/commands").equals(header(r, "mqtt.topic")));
    }
}
