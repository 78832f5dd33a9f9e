package io.mqttkafkabridge.metrics;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import jakarta.inject.Singleton;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Every meter of the bridge, by name, in one place. Thread-safe; counters are created on first use and cached so
 * the hot path does no registry look-up.
 */
@Singleton
public class BridgeMetrics {

    /** {@code bridge_uplink_messages_total{route,outcome}}: outcome = sent | failed. */
    public static final String UPLINK_MESSAGES = "bridge.uplink.messages";
    /** {@code bridge_uplink_unrouted_total}: publishes that matched no uplink route. */
    public static final String UPLINK_UNROUTED = "bridge.uplink.unrouted";
    /** {@code bridge_downlink_messages_total{route,outcome}}: outcome = published | dropped | failed. */
    public static final String DOWNLINK_MESSAGES = "bridge.downlink.messages";

    private final MeterRegistry registry;
    private final Counter unrouted;
    private final ConcurrentMap<String, Counter> counters = new ConcurrentHashMap<>();

    BridgeMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.unrouted = Counter.builder(UPLINK_UNROUTED)
                .description("MQTT publishes that matched no uplink route and were not sent to Kafka")
                .register(registry);
    }

    public void uplinkUnrouted() {
        unrouted.increment();
    }

    public void uplink(String route, String outcome) {
        counter(UPLINK_MESSAGES, "Kafka records of uplink routes, by outcome", route, outcome).increment();
    }

    public void downlink(String route, String outcome) {
        counter(DOWNLINK_MESSAGES, "Kafka records of downlink routes, by outcome", route, outcome).increment();
    }

    private Counter counter(String name, String description, String route, String outcome) {
        return counters.computeIfAbsent(name + '\u0000' + route + '\u0000' + outcome,
                k -> Counter.builder(name).description(description).tag("route", route).tag("outcome", outcome)
                        .register(registry));
    }
}
