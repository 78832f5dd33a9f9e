package io.mqttkafkabridge.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

class RouteTableTest {

    private static final RouteSpecs.Uplink TELEMETRY = new RouteSpecs.Uplink("devices/+/telemetry", "telemetry", "topic-level:1");
    private static final RouteSpecs.Uplink ALL = new RouteSpecs.Uplink("devices/#", "audit", "client-id");
    private static final RouteSpecs.Downlink COMMANDS = new RouteSpecs.Downlink("commands", "devices/{key}/commands", null, null);

    @Test
    void a_publish_goes_to_every_matching_route_with_its_key() {
        RouteTable table = RouteTable.build(Map.of("telemetry", TELEMETRY, "all", ALL), Map.of());
        MqttPublication publication = new MqttPublication("devices/d1/telemetry", "21.5".getBytes(StandardCharsets.UTF_8),
                1, false, "client-1", null);

        assertThat(table.uplinkRoutesFor(publication.topic()))
                .extracting(route -> route.toRecord(publication))
                .extracting(UplinkRecord::kafkaTopic, UplinkRecord::key)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("audit", "client-1"),
                        org.assertj.core.groups.Tuple.tuple("telemetry", "d1"));
        assertThat(table.uplinkRoutesFor("other/d1")).isEmpty();
    }

    @Test
    void a_record_carries_the_payload_unchanged_and_the_mqtt_metadata_as_headers() {
        RouteTable table = RouteTable.build(Map.of("telemetry", TELEMETRY), Map.of());
        byte[] payload = {0, 1, 2, (byte) 0xff};
        UplinkRecord record = table.uplinkRoutes().get(0)
                .toRecord(new MqttPublication("devices/d1/telemetry", payload, 1, true, "c1", "alice"));

        assertThat(record.value()).containsExactly(0, 1, 2, 0xff);
        assertThat(record.headers()).extracting(UplinkRecord.Header::name)
                .containsExactly("mqtt.topic", "mqtt.qos", "mqtt.retain", "mqtt.client-id", "mqtt.username");
        assertThat(record.headers()).extracting(h -> new String(h.value(), StandardCharsets.UTF_8))
                .containsExactly("devices/d1/telemetry", "1", "true", "c1", "alice");
    }

    @Test
    void an_anonymous_publish_has_no_username_header() {
        RouteTable table = RouteTable.build(Map.of("telemetry", TELEMETRY), Map.of());
        UplinkRecord record = table.uplinkRoutes().get(0)
                .toRecord(new MqttPublication("devices/d1/telemetry", new byte[0], 0, false, "c1", null));
        assertThat(record.headers()).extracting(UplinkRecord.Header::name).doesNotContain("mqtt.username");
    }

    @Test
    void the_key_defaults_to_the_mqtt_topic_and_downlink_defaults_to_qos_1_without_retain() {
        RouteTable table = RouteTable.build(Map.of("r", new RouteSpecs.Uplink("a/#", "t", null)), Map.of("c", COMMANDS));
        assertThat(table.uplinkRoutes().get(0).key()).isEqualTo(new KeyStrategy.MqttTopic());
        assertThat(table.downlinkRoutes().get(0).qos()).isEqualTo(1);
        assertThat(table.downlinkRoutes().get(0).retain()).isFalse();
        assertThat(table.downlinkTopics()).containsExactly("commands");
    }

    @Test
    void every_problem_is_reported_at_once_with_its_route_and_key() {
        assertThatThrownBy(() -> RouteTable.build(
                Map.of("bad-filter", new RouteSpecs.Uplink("devices/#/x", "t", null),
                        "no-topic", new RouteSpecs.Uplink("a/b", "", null),
                        "bad-key", new RouteSpecs.Uplink("a/b", "t", "device"),
                        "no-filter", new RouteSpecs.Uplink(null, "t", null),
                        "short", new RouteSpecs.Uplink("a/+", "t", "topic-level:2"),
                        "bad-pointer", new RouteSpecs.Uplink("a/b", "t", "json:deviceId"),
                        "bad-timestamp", new RouteSpecs.Uplink("a/b", "t", null, "json:ts")),
                Map.of("bad-template", new RouteSpecs.Downlink("commands", "devices/{id}", null, null),
                        "no-kafka-topic", new RouteSpecs.Downlink(null, "x", null, null),
                        "bad-qos", new RouteSpecs.Downlink("c", "x", 3, null),
                        "illegal-topic", new RouteSpecs.Downlink("a topic", "x", null, null))))
                .isInstanceOf(RouteConfigurationException.class)
                .hasMessageContaining("11 problems")
                .hasMessageContaining("bridge.uplink.routes.bad-pointer.key: 'deviceId' is not a JSON pointer (RFC 6901)")
                .hasMessageContaining("bridge.uplink.routes.bad-timestamp.timestamp: 'ts' is not a JSON pointer (RFC 6901)")
                .hasMessageContaining("bridge.uplink.routes.bad-filter.mqtt-filter='devices/#/x' is not a valid MQTT topic filter")
                .hasMessageContaining("bridge.uplink.routes.no-topic.kafka-topic is empty")
                .hasMessageContaining("bridge.uplink.routes.bad-key.key: unknown key strategy 'device'")
                .hasMessageContaining("bridge.uplink.routes.no-filter.mqtt-filter is missing")
                .hasMessageContaining("bridge.uplink.routes.short.key=topic-level:2 points past the last level")
                .hasMessageContaining("bridge.downlink.routes.bad-template.mqtt-topic='devices/{id}' is not a valid topic template: unknown placeholder '{id}'")
                .hasMessageContaining("bridge.downlink.routes.no-kafka-topic.kafka-topic is missing")
                .hasMessageContaining("bridge.downlink.routes.bad-qos.qos=3 is not an MQTT QoS")
                .hasMessageContaining("bridge.downlink.routes.illegal-topic.kafka-topic='a topic' is not a legal Kafka topic name");
    }

    @Test
    void topic_level_past_a_multi_level_wildcard_is_allowed() {
        RouteTable table = RouteTable.build(Map.of("r", new RouteSpecs.Uplink("a/#", "t", "topic-level:5")), Map.of());
        assertThat(table.uplinkRoutes()).hasSize(1);
    }

    @Test
    void two_downlink_routes_may_read_one_kafka_topic() {
        RouteTable table = RouteTable.build(Map.of(), Map.of("a", COMMANDS,
                "b", new RouteSpecs.Downlink("commands", "audit/{key}", 0, true)));
        assertThat(table.downlinkRoutesFor("commands")).extracting(DownlinkRoute::name).containsExactly("a", "b");
        assertThat(table.downlinkTopics()).containsExactly("commands");
    }

    @Test
    void the_topic_tree_finds_what_a_scan_of_every_filter_finds_in_route_name_order() {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        Map<String, RouteSpecs.Uplink> specs = new HashMap<>();
        while (specs.size() < 3_000) {
            specs.put("r" + random.nextInt(1_000_000), new RouteSpecs.Uplink(randomFilter(random), "t", null));
        }
        RouteTable table = RouteTable.build(specs, Map.of());

        for (int i = 0; i < 2_000; i++) {
            String topic = randomTopic(random);
            List<UplinkRoute> scanned = table.uplinkRoutes().stream().filter(route -> route.filter().matches(topic)).toList();
            assertThat(table.uplinkRoutesFor(topic)).as("topic '%s', seed %d", topic, seed).containsExactlyElementsOf(scanned);
        }
    }

    private static String randomFilter(Random random) {
        if (random.nextInt(20) == 0) {
            return "#";
        }
        String[] levels = {"a", "b", "c", "", "+"};
        StringBuilder filter = new StringBuilder(random.nextInt(8) == 0 ? "$sys" : levels[random.nextInt(levels.length)]);
        for (int depth = 1 + random.nextInt(4); filter.isEmpty() || depth > 1; depth--) {
            filter.append('/').append(levels[random.nextInt(levels.length)]);
        }
        return random.nextInt(4) == 0 ? filter + "/#" : filter.toString();
    }

    private static String randomTopic(Random random) {
        String[] levels = {"a", "b", "c", "", "a", "b"};
        StringBuilder topic = new StringBuilder(random.nextInt(6) == 0 ? "$sys" : levels[random.nextInt(levels.length)]);
        for (int depth = 1 + random.nextInt(5); depth > 1; depth--) {
            topic.append('/').append(random.nextInt(50) == 0 ? (random.nextBoolean() ? "+" : "#") : levels[random.nextInt(levels.length)]);
        }
        return topic.toString();
    }

    @Test
    void among_ten_thousand_routes_a_publish_finds_its_own() {
        Map<String, RouteSpecs.Uplink> specs = new HashMap<>();
        for (int i = 0; i < 10_000; i++) {
            String filter = "fleet/g" + i / 100 + "/d" + i + (i % 2 == 0 ? "/+" : "/#");
            specs.put(String.format("route-%05d", i), new RouteSpecs.Uplink(filter, "t", null));
        }
        RouteTable table = RouteTable.build(specs, Map.of());

        for (int i : new int[] {0, 1, 99, 100, 4_242, 5_001, 9_999}) {
            assertThat(table.uplinkRoutesFor("fleet/g" + i / 100 + "/d" + i + "/temp"))
                    .extracting(UplinkRoute::name).containsExactly(String.format("route-%05d", i));
        }
        assertThat(table.uplinkRoutesFor("fleet/g0/d1")).extracting(UplinkRoute::name).containsExactly("route-00001");
        assertThat(table.uplinkRoutesFor("fleet/g0/d100/temp")).isEmpty();
        assertThat(table.uplinkRoutesFor("fleet/g1/d100")).isEmpty();
    }
}
