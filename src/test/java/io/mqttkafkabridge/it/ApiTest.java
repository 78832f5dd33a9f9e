package io.mqttkafkabridge.it;

import static io.mqttkafkabridge.it.Devices.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.inject.Inject;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;

import io.mqttkafkabridge.broker.EmbeddedBroker;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/** The REST API, health and metrics, over HTTP, against the running bridge, real Kafka and real MQTT clients. */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
class ApiTest {

    @Inject
    EmbeddedBroker broker;

    @TestHTTPResource("/")
    URI base;

    private URI uri(String path) {
        return base.resolve(path);
    }

    @Test
    void publish_reaches_subscribed_devices_as_text_or_base64() throws Exception {
        Mqtt3BlockingClient device = Devices.connect(broker.port(), unique("rest-sub"), null);
        try (Mqtt3BlockingClient.Mqtt3Publishes inbox = device.publishes(MqttGlobalPublishFilter.SUBSCRIBED)) {
            String topic = "rest/" + unique("t");
            device.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();

            HttpResponse<String> text = Http.post(uri("api/v1/publish"),
                    "{\"topic\":\"" + topic + "\",\"payload\":\"hello\",\"qos\":1}");
            HttpResponse<String> binary = Http.post(uri("api/v1/publish"),
                    "{\"topic\":\"" + topic + "\",\"payload\":\"AAEC/w==\",\"encoding\":\"base64\"}");

            assertThat(text.statusCode()).isEqualTo(200);
            assertThat(binary.statusCode()).isEqualTo(200);
            Mqtt3Publish first = inbox.receive(10, TimeUnit.SECONDS).orElseThrow();
            Mqtt3Publish second = inbox.receive(10, TimeUnit.SECONDS).orElseThrow();
            assertThat(new String(first.getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("hello");
            assertThat(first.getQos()).isEqualTo(MqttQos.AT_LEAST_ONCE);
            assertThat(second.getPayloadAsBytes()).containsExactly(0, 1, 2, 0xff);
        } finally {
            device.disconnect();
        }
    }

    @Test
    void bad_requests_get_problem_details_that_say_what_is_wrong() throws Exception {
        HttpResponse<String> wildcard = Http.post(uri("api/v1/publish"), "{\"topic\":\"a/+/b\",\"payload\":\"x\"}");
        HttpResponse<String> qos = Http.post(uri("api/v1/publish"), "{\"topic\":\"a/b\",\"qos\":3}");
        HttpResponse<String> base64 = Http.post(uri("api/v1/publish"), "{\"topic\":\"a/b\",\"payload\":\"%%\",\"encoding\":\"base64\"}");
        HttpResponse<String> json = Http.post(uri("api/v1/publish"), "{\"topic\": ");

        for (HttpResponse<String> response : java.util.List.of(wildcard, qos, base64, json)) {
            assertThat(response.statusCode()).isEqualTo(400);
            assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                    type -> assertThat(type).startsWith("application/problem+json"));
            assertThat(response.body()).contains("\"status\":400").contains("\"title\":\"Bad Request\"");
        }
        assertThat(wildcard.body()).contains("wildcard");
        assertThat(qos.body()).contains("use 0, 1 or 2");
        assertThat(base64.body()).contains("not valid base64");
        assertThat(json.body()).contains("not the JSON");
    }

    @Test
    void clients_are_listed_with_address_username_and_subscriptions_and_can_be_disconnected() throws Exception {
        String id = unique("listed");
        Mqtt3BlockingClient device = Devices.connect(broker.port(), id, "alice");
        device.subscribeWith().topicFilter("devices/" + id + "/commands").send();

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(Http.get(uri("api/v1/clients")).body())
                .contains("\"id\":\"" + id + "\"").contains("\"username\":\"alice\"")
                .contains("\"subscriptions\":[\"devices/" + id + "/commands\"]").contains("\"address\":\"127.0.0.1:"));

        assertThat(Http.delete(uri("api/v1/clients/" + id)).statusCode()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(5)).until(() -> !device.getState().isConnected());
        HttpResponse<String> gone = Http.delete(uri("api/v1/clients/" + id));
        assertThat(gone.statusCode()).isEqualTo(404);
        assertThat(gone.body()).contains("No client '" + id + "' is connected");
        assertThat(Http.delete(uri("api/v1/clients/never-connected")).statusCode()).isEqualTo(404);
    }

    @Test
    void routes_show_their_counters_and_dry_runs_show_what_would_happen() throws Exception {
        Mqtt3BlockingClient device = Devices.connect(broker.port(), unique("counted"), null);
        Devices.publish(device, "devices/" + unique("d") + "/telemetry", Devices.utf8("x"), 1, false);
        device.disconnect();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(Http.get(uri("api/v1/routes")).body())
                .containsPattern("\"name\":\"telemetry\",\"direction\":\"uplink\",\"mqttFilter\":\"devices/\\+/telemetry\","
                        + "\"kafkaTopic\":\"it-telemetry\",\"key\":\"topic-level:1\",\"matched\":[1-9]\\d*,\"sent\":[1-9]"));

        String uplink = Http.post(uri("api/v1/routes/uplink/dry-run"),
                "{\"topic\":\"devices/d9/telemetry\",\"clientId\":\"c9\",\"username\":\"bob\"}").body();
        assertThat(uplink).contains("{\"route\":\"audit\",\"kafkaTopic\":\"it-audit\",\"key\":\"c9\"")
                .contains("{\"route\":\"telemetry\",\"kafkaTopic\":\"it-telemetry\",\"key\":\"d9\"")
                .contains("\"mqtt.username\":\"bob\"");

        String downlink = Http.post(uri("api/v1/routes/downlink/dry-run"),
                "{\"kafkaTopic\":\"it-alerts\",\"headers\":{\"other\":\"x\"}}").body();
        assertThat(downlink).contains("\"route\":\"alerts\"").contains("no header 'site'");
        String commands = Http.post(uri("api/v1/routes/downlink/dry-run"), "{\"kafkaTopic\":\"it-commands\",\"key\":\"d7\"}").body();
        assertThat(commands).contains("\"mqttTopic\":\"devices/d7/commands\",\"qos\":1,\"retain\":false");
    }

    @Test
    void openapi_health_and_metrics_follow_quarkus_conventions() throws Exception {
        assertThat(Http.get(uri("q/openapi")).body()).contains("/api/v1/publish").contains("/api/v1/routes/uplink/dry-run");

        HttpResponse<String> ready = Http.get(uri("q/health/ready"));
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).contains("\"name\": \"mqtt-broker\"").contains("\"name\": \"uplink-journal\"")
                .as("a Kafka outage must not take the bridge out of the MQTT Service").doesNotContain("\"name\": \"kafka\"");
        HttpResponse<String> all = Http.get(uri("q/health"));
        assertThat(all.statusCode()).isEqualTo(200);
        assertThat(all.body()).contains("\"name\": \"kafka\"");
        assertThat(Http.get(uri("q/health/live")).statusCode()).isEqualTo(200);

        Mqtt3BlockingClient device = Devices.connect(broker.port(), unique("metered"), null);
        Devices.publish(device, "sensors/" + unique("s"), Devices.utf8("m"), 1, false);
        // a downlink record, so the group has a committed offset on it-commands
        KafkaTopics.produce(new org.apache.kafka.clients.producer.ProducerRecord<>("it-commands", "lag", Devices.utf8("x")));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(Http.get(uri("q/metrics")).body())
                .containsPattern("(?m)^mqtt_clients_connected [1-9]")
                .containsPattern("(?m)^mqtt_connections_total\\{outcome=\"accepted\"} [1-9]")
                .containsPattern("(?m)^mqtt_messages_received_total\\{qos=\"1\"} [1-9]")
                .containsPattern("(?m)^bridge_kafka_send_seconds_bucket\\{le=")
                .containsPattern("(?m)^bridge_journal_entries ")
                .containsPattern("(?m)^bridge_downlink_lag\\{partition=\"\\d+\",topic=\"it-commands\"}"));
        device.disconnect();
    }

    @Test
    void every_metric_the_grafana_dashboard_queries_exists() throws Exception {
        String dashboard = Files.readString(Paths.get("k8s", "grafana", "mqtt-kafka-bridge-dashboard.json"));
        Set<String> queried = new TreeSet<>();
        Matcher names = Pattern.compile("\\b((?:mqtt|bridge)_[a-z_]+)\\{").matcher(dashboard);
        while (names.find()) {
            queried.add(names.group(1));
        }
        assertThat(queried).hasSizeGreaterThan(10);
        // counters are exported once they count: make every one of them count
        Mqtt3BlockingClient device = Devices.connect(broker.port(), unique("dash"), null);
        Devices.publish(device, "devices/" + unique("d") + "/telemetry", Devices.utf8("d"), 1, false);
        Devices.publish(device, "unrouted/" + unique("u"), Devices.utf8("u"), 1, false);
        Http.post(uri("api/v1/publish"), "{\"topic\":\"dash/x\",\"payload\":\"p\"}");
        KafkaTopics.produce(new ProducerRecord<>("it-commands", "dash", Devices.utf8("x")));
        device.disconnect();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            String metrics = Http.get(uri("q/metrics")).body();
            for (String name : queried) {
                assertThat(metrics).as(name).containsPattern("(?m)^" + name + "[{ ]");
            }
        });
    }

    @Test
    void refused_connections_are_counted_by_reason() throws Exception {
        String protocol = "mqtt_connections_total{outcome=\"unsupported-protocol-version\"}";
        String identifier = "mqtt_connections_total{outcome=\"identifier-rejected\"}";
        double protocolBefore = PrometheusMetrics.value(uri("q/metrics"), protocol);
        double identifierBefore = PrometheusMetrics.value(uri("q/metrics"), identifier);

        // a protocol level no MQTT version has (6): CONNACK 1, unacceptable protocol version
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", broker.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(io.mqttkafkabridge.fault.PacketFuzzer.packet(0x10,
                    new byte[] { 0, 4, 'M', 'Q', 'T', 'T', 6, 0x02, 0, 60, 0, 2, 'v', '6' }));
            org.assertj.core.api.Assertions.assertThat(socket.getInputStream().readNBytes(4)).as("CONNACK 1")
                    .containsExactly(0x20, 2, 0, 1);
        }
        // an empty client id that asks for a persistent session: CONNACK 2
        Mqtt3BlockingClient empty = com.hivemq.client.mqtt.MqttClient.builder().useMqttVersion3().identifier("")
                .serverHost("127.0.0.1").serverPort(broker.port()).buildBlocking();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> empty.connectWith().cleanSession(false).send())
                .hasMessageContaining("CLIENT_IDENTIFIER_NOT_VALID");

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(PrometheusMetrics.value(uri("q/metrics"), protocol)).isEqualTo(protocolBefore + 1);
            assertThat(PrometheusMetrics.value(uri("q/metrics"), identifier)).isEqualTo(identifierBefore + 1);
        });
    }
}
