package io.mqttkafkabridge.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TimestampStrategyTest {

    private static final long RECEIVED = 1_700_000_000_000L;

    @Test
    void broker_is_the_time_the_bridge_received_the_publish() {
        assertThat(TimestampStrategy.parse("broker").timestampOf(RECEIVED, json("not json"))).isEqualTo(RECEIVED);
    }

    @Test
    void json_takes_epoch_milliseconds_or_an_iso_8601_instant() {
        TimestampStrategy ts = TimestampStrategy.parse("json:/ts");
        assertThat(ts.timestampOf(RECEIVED, json("{\"ts\":1796193000123}"))).isEqualTo(1_796_193_000_123L);
        assertThat(ts.timestampOf(RECEIVED, json("{\"ts\":\"2026-12-02T06:30:00.123Z\"}"))).isEqualTo(1_796_193_000_123L);
        assertThat(ts.timestampOf(RECEIVED, json("{\"ts\":\"2026-12-02T07:30:00.123+01:00\"}"))).isEqualTo(1_796_193_000_123L);
        assertThat(ts).hasToString("json:/ts");
    }

    @Test
    void json_refuses_what_is_no_instant() {
        TimestampStrategy ts = TimestampStrategy.parse("json:/ts");
        assertThatThrownBy(() -> ts.timestampOf(RECEIVED, json("{\"ts\":\"yesterday\"}")))
                .isInstanceOf(InvalidPayloadException.class).hasMessageContaining("not an ISO-8601 instant");
        assertThatThrownBy(() -> ts.timestampOf(RECEIVED, json("{\"ts\":1.5}")))
                .isInstanceOf(InvalidPayloadException.class).hasMessageContaining("neither epoch milliseconds nor an ISO-8601 instant");
        assertThatThrownBy(() -> ts.timestampOf(RECEIVED, json("{\"ts\":-1}")))
                .isInstanceOf(InvalidPayloadException.class).hasMessageContaining("before 1970");
        assertThatThrownBy(() -> ts.timestampOf(RECEIVED, json("{}")))
                .isInstanceOf(InvalidPayloadException.class).hasMessage("the payload has no timestamp at JSON pointer '/ts'");
        assertThatThrownBy(() -> ts.timestampOf(RECEIVED, json("<xml/>")))
                .isInstanceOf(InvalidPayloadException.class).hasMessageStartingWith("the payload is not JSON");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "now", "json:", "json:ts", "kafka"})
    void unknown_timestamps_are_refused(String text) {
        assertThatThrownBy(() -> TimestampStrategy.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageMatching(".*(broker or json:<pointer>|JSON pointer).*");
    }

    private static JsonPayload json(String payload) {
        return new JsonPayload(payload.getBytes(StandardCharsets.UTF_8));
    }
}
