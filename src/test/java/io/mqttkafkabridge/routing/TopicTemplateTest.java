package io.mqttkafkabridge.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TopicTemplateTest {

    record Rec(String kafkaTopic, int partition, String key, Map<String, String> headers)
            implements TopicTemplate.KafkaRecordView {
        @Override
        public String header(String name) {
            return headers.get(name);
        }
    }

    private static final Rec RECORD = new Rec("device-commands", 3, "d1", Map.of("site", "berlin", "kind", "reboot"));

    @Test
    void every_placeholder_is_filled() {
        TopicTemplate template = TopicTemplate.parse("{kafka-topic}/{partition}/sites/{header:site}/devices/{key}/{header:kind}");
        assertThat(template.render(RECORD).topic()).isEqualTo("device-commands/3/sites/berlin/devices/d1/reboot");
    }

    @Test
    void a_template_without_placeholders_is_used_as_is() {
        assertThat(TopicTemplate.parse("broadcast/all").render(RECORD).topic()).isEqualTo("broadcast/all");
    }

    @Test
    void a_missing_key_drops_the_record_with_the_reason() {
        TopicTemplate.Result result = TopicTemplate.parse("devices/{key}/commands")
                .render(new Rec("t", 0, null, Map.of()));
        assertThat(result.isDropped()).isTrue();
        assertThat(result.dropReason()).contains("no key");
    }

    @Test
    void a_missing_header_drops_the_record_and_names_the_header() {
        TopicTemplate.Result result = TopicTemplate.parse("sites/{header:region}/x").render(RECORD);
        assertThat(result.isDropped()).isTrue();
        assertThat(result.dropReason()).contains("'region'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a+b", "#", "+", ""})
    void a_value_that_makes_an_invalid_topic_drops_the_record(String key) {
        TopicTemplate.Result result = TopicTemplate.parse("{key}").render(new Rec("t", 0, key, Map.of()));
        assertThat(result.isDropped()).isTrue();
        assertThat(result.dropReason()).containsAnyOf("wildcard", "empty");
    }

    @Test
    void a_key_with_slashes_makes_more_levels() {
        assertThat(TopicTemplate.parse("devices/{key}").render(new Rec("t", 0, "a/b", Map.of())).topic())
                .isEqualTo("devices/a/b");
    }

    @ParameterizedTest
    @ValueSource(strings = {"devices/{id}", "devices/{header:}", "devices/{KEY}", "{offset}"})
    void an_unknown_placeholder_is_refused_and_named(String template) {
        assertThatThrownBy(() -> TopicTemplate.parse(template))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown placeholder")
                .hasMessageContaining("{key}, {header:NAME}, {kafka-topic} or {partition}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"devices/{key", "devices/key}", "a/{k{ey}", ""})
    void unbalanced_braces_and_empty_templates_are_refused(String template) {
        assertThatThrownBy(() -> TopicTemplate.parse(template))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageMatching(".*(unclosed|unbalanced|empty).*");
    }

    @ParameterizedTest
    @ValueSource(strings = {"devices/+/{key}", "devices/{key}/#"})
    void a_template_with_a_wildcard_is_refused(String template) {
        assertThatThrownBy(() -> TopicTemplate.parse(template)).hasMessageContaining("wildcard");
    }

    @Test
    void an_empty_key_or_header_counts_as_missing_so_no_level_is_left_empty() {
        TopicTemplate.KafkaRecordView emptyKey = TopicTemplate.KafkaRecordView.of("t", 0, "", name -> null);
        TopicTemplate.KafkaRecordView emptyHeader = TopicTemplate.KafkaRecordView.of("t", 0, "k", name -> "");

        assertThat(TopicTemplate.parse("devices/{key}/commands").render(emptyKey).dropReason()).contains("no key");
        assertThat(TopicTemplate.parse("sites/{header:site}").render(emptyHeader).dropReason()).contains("'site'");
        assertThat(TopicTemplate.parse("devices/{key}").render(emptyHeader).topic()).isEqualTo("devices/k");
    }

    @org.junit.jupiter.api.Test
    void topic_names_starting_with_a_dollar_are_reserved_for_the_broker() {
        org.assertj.core.api.Assertions.assertThat(TopicNames.invalidNameReason("$SYS/broker")).contains("reserved");
        org.assertj.core.api.Assertions.assertThat(TopicNames.invalidNameReason("devices/$x")).isNull();
    }
}
