package io.mqttkafkabridge.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The meter history's arithmetic on a real Micrometer registry, with the sampling times given. */
class MeterHistoryTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final MeterHistory history = new MeterHistory(registry);

    @Test
    void rates_are_counter_increases_over_the_time_between_samples() {
        Counter qos0 = Counter.builder(BridgeMetrics.MQTT_MESSAGES_RECEIVED).tag("qos", "0").register(registry);
        Counter qos1 = Counter.builder(BridgeMetrics.MQTT_MESSAGES_RECEIVED).tag("qos", "1").register(registry);
        Counter sent = Counter.builder(BridgeMetrics.UPLINK_MESSAGES).tag("route", "a").tag("outcome", "sent").register(registry);
        Counter retried = Counter.builder(BridgeMetrics.UPLINK_MESSAGES).tag("route", "a").tag("outcome", "retried")
                .register(registry);
        Counter published = Counter.builder(BridgeMetrics.DOWNLINK_MESSAGES).tag("route", "c").tag("outcome", "published")
                .register(registry);
        Timer send = Timer.builder(BridgeMetrics.KAFKA_SEND).register(registry);
        AtomicLong backlog = new AtomicLong(7);
        Gauge.builder(BridgeMetrics.JOURNAL_ENTRIES, backlog, AtomicLong::get).register(registry);

        history.sample(0, 1_000_000);
        qos0.increment(6);
        qos1.increment(4);
        sent.increment(10);
        retried.increment(100);
        published.increment(3);
        send.record(10, TimeUnit.MILLISECONDS);
        send.record(30, TimeUnit.MILLISECONDS);
        backlog.set(42);
        history.sample(2 * SECOND, 1_002_000);
        history.sample(4 * SECOND, 1_004_000);

        List<MeterHistory.Sample> samples = history.samples();
        assertThat(samples).hasSize(2);
        assertThat(samples.get(0)).isEqualTo(new MeterHistory.Sample(1_002_000, 5.0, 5.0, 1.5, 20.0, 42.0, null));
        assertThat(samples.get(1)).as("nothing happened: zero rates, no latency")
                .isEqualTo(new MeterHistory.Sample(1_004_000, 0.0, 0.0, 0.0, null, 42.0, null));
    }

    @Test
    void the_downlink_lag_is_the_sum_of_its_partitions() {
        Gauge.builder(BridgeMetrics.DOWNLINK_LAG, () -> 3).tags("topic", "t", "partition", "0").register(registry);
        Gauge.builder(BridgeMetrics.DOWNLINK_LAG, () -> 4).tags("topic", "t", "partition", "1").register(registry);

        history.sample(0, 0);
        history.sample(2 * SECOND, 2000);

        assertThat(history.samples()).singleElement().extracting(MeterHistory.Sample::downlinkLag).isEqualTo(7.0);
    }

    @Test
    void it_keeps_the_last_15_minutes_oldest_first() {
        Counter received = Counter.builder(BridgeMetrics.MQTT_MESSAGES_RECEIVED).tag("qos", "0").register(registry);
        history.sample(0, 0);
        for (int i = 1; i <= 500; i++) {
            received.increment(2 * i);
            history.sample(i * 2 * SECOND, i * 2000L);
        }

        List<MeterHistory.Sample> samples = history.samples();
        assertThat(samples).hasSize(MeterHistory.CAPACITY).hasSize(450);
        assertThat(samples.get(0).epochMillis()).as("the 51st sample, the oldest kept").isEqualTo(51 * 2000L);
        assertThat(samples.get(0).messagesIn()).isEqualTo(51.0);
        assertThat(samples.get(449).epochMillis()).isEqualTo(500 * 2000L);
        assertThat(samples.get(449).messagesIn()).isEqualTo(500.0);
        for (int i = 1; i < samples.size(); i++) {
            assertThat(samples.get(i).epochMillis() - samples.get(i - 1).epochMillis()).isEqualTo(2000L);
        }
    }
}
