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

    /**
     * {@code bridge_uplink_messages_total{route,outcome}}: outcome = sent | retried | dead-lettered | dropped
     * (rejected for good, no dead-letter topic or it failed too).
     */
    public static final String UPLINK_MESSAGES = "bridge.uplink.messages";
    /** {@code bridge_uplink_unrouted_total}: publishes that matched no uplink route. */
    public static final String UPLINK_UNROUTED = "bridge.uplink.unrouted";
    /** {@code bridge_journal_entries}: entries not yet in Kafka. */
    public static final String JOURNAL_ENTRIES = "bridge.journal.entries";
    /** {@code bridge_journal_bytes}: disk space of the journal. */
    public static final String JOURNAL_BYTES = "bridge.journal.bytes";
    /** {@code bridge_journal_max_bytes}: its limit. */
    public static final String JOURNAL_MAX_BYTES = "bridge.journal.max.bytes";
    /** {@code bridge_journal_refused_total}: publishes refused (no PUBACK) while the journal was full. */
    public static final String JOURNAL_REFUSED = "bridge.journal.refused";
    /** {@code bridge_journal_lost_total}: acknowledged publishes the journal could not write (disk error). */
    public static final String JOURNAL_LOST = "bridge.journal.lost";
    /** {@code bridge_broker_store_quarantined_total}: broker stores that could not be opened and were moved aside. */
    public static final String STORE_QUARANTINED = "bridge.broker.store.quarantined";
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
