package io.mqttkafkabridge.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KeyStrategyTest {

    @Test
    void mqtt_topic_is_the_whole_topic() {
        assertThat(KeyStrategy.parse("mqtt-topic").keyOf(publish("devices/d1/telemetry", "c1"), null)).isEqualTo("devices/d1/telemetry");
    }

    @Test
    void client_id_is_the_publishers_id() {
        assertThat(KeyStrategy.parse("client-id").keyOf(publish("devices/d1/telemetry", "c1"), null)).isEqualTo("c1");
    }

    @Test
    void topic_level_counts_from_zero() {
        KeyStrategy level0 = KeyStrategy.parse("topic-level:0");
        KeyStrategy level1 = KeyStrategy.parse("topic-level:1");
        KeyStrategy level2 = KeyStrategy.parse("topic-level:2");
        assertThat(level0.keyOf(publish("devices/d1/telemetry", "c"), null)).isEqualTo("devices");
        assertThat(level1.keyOf(publish("devices/d1/telemetry", "c"), null)).isEqualTo("d1");
        assertThat(level2.keyOf(publish("devices/d1/telemetry", "c"), null)).isEqualTo("telemetry");
    }

    @Test
    void topic_level_keeps_empty_levels_and_has_no_key_past_the_last_level() {
        assertThat(KeyStrategy.parse("topic-level:1").keyOf(publish("a//c", "c"), null)).isEmpty();
        assertThat(KeyStrategy.parse("topic-level:0").keyOf(publish("/a", "c"), null)).isEmpty();
        assertThat(KeyStrategy.parse("topic-level:3").keyOf(publish("a/b/c", "c"), null)).isNull();
    }

    @Test
    void surrounding_spaces_are_ignored() {
        assertThat(KeyStrategy.parse(" client-id ")).isEqualTo(new KeyStrategy.ClientId());
    }

    @Test
    void json_takes_a_value_of_the_payload_at_an_rfc_6901_pointer() {
        MqttPublication publication = publish("devices/d1/telemetry", "c");
        assertThat(KeyStrategy.parse("json:/deviceId").keyOf(publication, json("{\"deviceId\":\"pump-7\",\"t\":1}")))
                .isEqualTo("pump-7");
        assertThat(KeyStrategy.parse("json:/meta/site~1zone/0").keyOf(publication, json("{\"meta\":{\"site/zone\":[12,13]}}")))
                .as("~1 escapes '/', array indexes").isEqualTo("12");
        assertThat(KeyStrategy.parse("json:/ok").keyOf(publication, json("{\"ok\":true}"))).isEqualTo("true");
        assertThat(KeyStrategy.parse("json:/deviceId")).hasToString("json:/deviceId");
    }

    @Test
    void json_refuses_a_payload_that_is_not_json_or_lacks_the_value() {
        MqttPublication publication = publish("devices/d1/telemetry", "c");
        KeyStrategy key = KeyStrategy.parse("json:/deviceId");
        assertThatThrownBy(() -> key.keyOf(publication, json("temperature=21")))
                .isInstanceOf(InvalidPayloadException.class).hasMessageStartingWith("the payload is not JSON");
        assertThatThrownBy(() -> key.keyOf(publication, json("")))
                .isInstanceOf(InvalidPayloadException.class).hasMessage("the payload is empty, not JSON");
        assertThatThrownBy(() -> key.keyOf(publication, json("{\"device\":\"x\"}")))
                .isInstanceOf(InvalidPayloadException.class).hasMessage("the payload has no key at JSON pointer '/deviceId'");
        assertThatThrownBy(() -> key.keyOf(publication, json("{\"deviceId\":null}")))
                .isInstanceOf(InvalidPayloadException.class).hasMessage("the payload has no key at JSON pointer '/deviceId'");
        assertThatThrownBy(() -> key.keyOf(publication, json("{\"deviceId\":{\"a\":1}}")))
                .isInstanceOf(InvalidPayloadException.class).hasMessage("the key at JSON pointer '/deviceId' is an object, not a value");
    }

    private static MqttPublication publish(String topic, String clientId) {
        return new MqttPublication(topic, new byte[0], 1, false, clientId, null);
    }

    private static JsonPayload json(String payload) {
        return new JsonPayload(payload.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "topic", "topic-level", "topic-level:", "topic-level:-1", "topic-level:x", "clientid", "json:", "json:deviceId", "json"})
    void unknown_strategies_are_refused_with_the_valid_ones_named(String text) {
        assertThatThrownBy(() -> KeyStrategy.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageMatching(".*(mqtt-topic, client-id, topic-level:N, json:<pointer> or user-property:<name>|needs a level number|JSON pointer).*");
    }
}
