package io.mqttkafkabridge.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TopicFilterTest {

    @ParameterizedTest(name = "{0} matches {1}: {2}")
    @CsvSource({
            "a/b/c, a/b/c, true",
            "a/b/c, a/b, false",
            "a/b/c, a/b/c/d, false",
            "a/+/c, a/x/c, true",
            "a/+/c, a//c, true",
            "a/+/c, a/x/y/c, false",
            "a/+, a/x, true",
            "a/+, a, false",
            "+, a, true",
            "+, a/b, false",
            "+/+, /a, true",
            "a/#, a, true",
            "a/#, a/b, true",
            "a/#, a/b/c/d, true",
            "a/#, ab, false",
            "#, a/b/c, true",
            "#, /, true",
            "devices/+/telemetry/#, devices/d1/telemetry, true",
            "devices/+/telemetry/#, devices/d1/telemetry/temp/c, true",
            "devices/+/telemetry/#, devices/d1/status, false",
            "#, $SYS/broker, false",
            "+/broker, $SYS/broker, false",
            "$SYS/#, $SYS/broker, true",
            "A/b, a/b, false",
    })
    void matches_as_mqtt_3_1_1_says(String filter, String topic, boolean expected) {
        assertThat(TopicFilter.parse(filter).matches(topic)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a/#/b", "a#", "#/a", "a/b#", "a+/b", "a/+b", "++", "a/#/#"})
    void invalid_filters_are_refused_with_a_reason(String filter) {
        assertThatThrownBy(() -> TopicFilter.parse(filter))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageMatching(".*(empty|'#' must be the last|'\\+' must stand alone).*");
    }

    @org.junit.jupiter.api.Test
    void a_filter_with_a_nul_character_is_refused() {
        assertThatThrownBy(() -> TopicFilter.parse("a/\u0000")).hasMessageContaining("NUL");
    }

    @org.junit.jupiter.api.Test
    void guaranteed_levels_stop_before_the_multi_level_wildcard() {
        assertThat(TopicFilter.parse("a/+/c").guaranteedLevels()).isEqualTo(3);
        assertThat(TopicFilter.parse("a/+/#").guaranteedLevels()).isEqualTo(2);
        assertThat(TopicFilter.parse("#").guaranteedLevels()).isZero();
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0} covers {1}: {2}")
    @org.junit.jupiter.params.provider.CsvSource({
            "#, a/b/c, true", "#, a/#, true", "#, $SYS/x, false", "+/#, $SYS/#, false", "$SYS/#, $SYS/broker, true",
            "a/#, a, true", "a/#, a/+/c, true", "a/#, b/#, false", "a/+, a/b, true", "a/+, a/+, true", "a/+, a/#, false",
            "a/+, a/b/c, false", "a/b, a/+, false", "a/b, a/b, true", "a/+/#, a, false", "a/+/c, a/b/c, true",
            "+, $SYS, false", "+/+, a/b, true"})
    void a_filter_covers_another_when_it_matches_everything_the_other_matches(String filter, String other, boolean covers) {
        assertThat(TopicFilter.parse(filter).covers(TopicFilter.parse(other))).isEqualTo(covers);
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0} overlaps {1}: {2}")
    @org.junit.jupiter.params.provider.CsvSource({
            "a/+/c, a/b/#, true", "a/b, a/c, false", "a/#, a, true", "a, a/b/#, false", "a/b, +/b, true",
            "#, $SYS/x, false", "$SYS/#, +/x, false", "$SYS/#, $SYS/+, true", "a/+, a/b/c, false", "a/+/#, a/b, true",
            "sensors/secret/#, sensors/#, true", "sensors/secret/#, sensors/public/+, false"})
    void two_filters_overlap_when_some_topic_matches_both(String filter, String other, boolean overlaps) {
        assertThat(TopicFilter.parse(filter).overlaps(TopicFilter.parse(other))).isEqualTo(overlaps);
        assertThat(TopicFilter.parse(other).overlaps(TopicFilter.parse(filter))).as("symmetric").isEqualTo(overlaps);
    }
}
