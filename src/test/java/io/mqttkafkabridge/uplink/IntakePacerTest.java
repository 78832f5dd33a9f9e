package io.mqttkafkabridge.uplink;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class IntakePacerTest {

    private long pending;
    private long committed;
    private long now = TimeUnit.HOURS.toNanos(1);
    private final List<Long> pauses = new ArrayList<>();
    private final IntakePacer pacer = new IntakePacer(1_000, () -> pending, () -> committed, () -> now, pauses::add);

    /** Kafka acknowledges {@code entries} over {@code millis}. */
    private void kafkaTakes(long entries, long millis) {
        committed += entries;
        pending -= entries;
        now += TimeUnit.MILLISECONDS.toNanos(millis);
    }

    @Test
    void below_the_mark_intake_never_pauses() {
        pending = 1_000;
        committed = 5;
        assertThat(pacer.paused()).isFalse();
        kafkaTakes(10, 10);
        assertThat(pacer.paused()).isFalse();
        assertThat(pauses).isEmpty();
    }

    @Test
    void above_the_mark_while_kafka_takes_records_intake_pauses_until_the_backlog_has_halved() {
        pending = 1_500;
        assertThat(pacer.paused()).as("first look: not known whether Kafka takes records").isFalse();
        kafkaTakes(100, 10);
        assertThat(pacer.paused()).isTrue();
        assertThat(pauses).containsExactly(1_400L);
        kafkaTakes(400, 100);
        assertThat(pacer.paused()).as("1,000 left: above half the mark").isTrue();
        kafkaTakes(499, 100);
        assertThat(pacer.paused()).as("501 left").isTrue();
        kafkaTakes(1, 1);
        assertThat(pacer.paused()).as("500 left: halved").isFalse();
        assertThat(pacer.paused()).isFalse();
        pending = 1_002;
        kafkaTakes(1, 1);
        assertThat(pacer.paused()).as("above the mark again").isTrue();
        assertThat(pauses).hasSize(2);
    }

    @Test
    void while_kafka_takes_nothing_intake_does_not_pause_and_the_journal_absorbs() {
        pending = 1_500;
        committed = 7;
        assertThat(pacer.paused()).isFalse();
        now += TimeUnit.SECONDS.toNanos(5);
        pending = 50_000;
        assertThat(pacer.paused()).as("an outage: nothing acknowledged for 5 s").isFalse();
        kafkaTakes(10, 10);
        assertThat(pacer.paused()).as("Kafka back").isTrue();
        now += TimeUnit.MILLISECONDS.toNanos(1_001);
        assertThat(pacer.paused()).as("Kafka stopped taking while paused").isFalse();
        assertThat(pauses).hasSize(1);
    }

    @Test
    void a_pause_lasts_at_most_a_second_and_is_followed_by_as_long_without_one() {
        pending = 100_000;
        pacer.paused();
        kafkaTakes(10, 1);
        assertThat(pacer.paused()).isTrue();
        for (int i = 0; i < 10; i++) {
            kafkaTakes(10, 100); // a slow Kafka: the backlog stays far above half the mark
            assertThat(pacer.paused()).isTrue();
        }
        kafkaTakes(10, 100);
        assertThat(pacer.paused()).as("paused for 1.1 s").isFalse();
        kafkaTakes(10, 900);
        assertThat(pacer.paused()).as("0.9 s after: still in the window without a pause").isFalse();
        kafkaTakes(10, 300);
        assertThat(pacer.paused()).as("1.2 s after: may pause again").isTrue();
        assertThat(pauses).hasSize(2);
    }

    @Test
    void a_mark_of_zero_turns_pacing_off() {
        IntakePacer off = new IntakePacer(0, () -> 1_000_000, () -> committed++, () -> now++, pauses::add);
        for (int i = 0; i < 5; i++) {
            assertThat(off.paused()).isFalse();
        }
        assertThat(pauses).isEmpty();
    }
}
