package io.mqttkafkabridge.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KeyStrategyTest {

    @Test
    void mqtt_topic_is_the_whole_topic() {
        assertThat(KeyStrategy.parse("mqtt-topic").keyOf("devices/d1/telemetry", "c1")).isEqualTo("devices/d1/telemetry");
    }

    @Test
    void client_id_is_the_publishers_id() {
        assertThat(KeyStrategy.parse("client-id").keyOf("devices/d1/telemetry", "c1")).isEqualTo("c1");
    }

    @Test
    void topic_level_counts_from_zero() {
        KeyStrategy level0 = KeyStrategy.parse("topic-level:0");
        KeyStrategy level1 = KeyStrategy.parse("topic-level:1");
        KeyStrategy level2 = KeyStrategy.parse("topic-level:2");
        assertThat(level0.keyOf("devices/d1/telemetry", "c")).isEqualTo("devices");
        assertThat(level1.keyOf("devices/d1/telemetry", "c")).isEqualTo("d1");
        assertThat(level2.keyOf("devices/d1/telemetry", "c")).isEqualTo("telemetry");
    }

    @Test
    void topic_level_keeps_empty_levels_and_has_no_key_past_the_last_level() {
        assertThat(KeyStrategy.parse("topic-level:1").keyOf("a//c", "c")).isEmpty();
        assertThat(KeyStrategy.parse("topic-level:0").keyOf("/a", "c")).isEmpty();
        assertThat(KeyStrategy.parse("topic-level:3").keyOf("a/b/c", "c")).isNull();
    }

    @Test
    void surrounding_spaces_are_ignored() {
        assertThat(KeyStrategy.parse(" client-id ")).isEqualTo(new KeyStrategy.ClientId());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "topic", "topic-level", "topic-level:", "topic-level:-1", "topic-level:x", "clientid"})
    void unknown_strategies_are_refused_with_the_valid_ones_named(String text) {
        assertThatThrownBy(() -> KeyStrategy.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageMatching(".*(mqtt-topic, client-id or topic-level:N|needs a level number).*");
    }
}
