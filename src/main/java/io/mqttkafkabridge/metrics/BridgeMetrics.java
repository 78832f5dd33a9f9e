package io.mqttkafkabridge.metrics;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Singleton;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

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
    /** {@code bridge_uplink_invalid_payload_total{route}}: publishes whose payload lacked the route's JSON key or timestamp. */
    public static final String UPLINK_INVALID_PAYLOAD = "bridge.uplink.invalid.payload";
    /** {@code bridge_uplink_unrouted_total}: publishes that matched no uplink route. */
    public static final String UPLINK_UNROUTED = "bridge.uplink.unrouted";
    /** {@code mqtt_clients_by_protocol{protocol}}: MQTT clients connected now, by MQTT version (3.1, 3.1.1, 5). */
    public static final String MQTT_CLIENTS_BY_PROTOCOL = "mqtt.clients.by.protocol";
    /** {@code mqtt_messages_received_by_protocol_total{protocol}}: PUBLISH packets accepted, by the publisher's MQTT version. */
    public static final String MQTT_MESSAGES_RECEIVED_BY_PROTOCOL = "mqtt.messages.received.by.protocol";
    /** {@code mqtt_clients_connected}: MQTT clients connected now. */
    public static final String MQTT_CLIENTS_CONNECTED = "mqtt.clients.connected";
    /** {@code mqtt_connections_total{outcome}}: accepted, or the reason a connection was refused. */
    public static final String MQTT_CONNECTIONS = "mqtt.connections";
    /** PUBLISH packets dropped by the topic policy, tag reason = acl | dollar-topic. */
    public static final String MQTT_PUBLISH_DENIED = "mqtt.publish.denied";
    /** SUBSCRIBE filters refused by the topic policy (SUBACK 0x80). */
    public static final String MQTT_SUBSCRIBE_DENIED = "mqtt.subscribe.denied";
    /** {@code mqtt_queue_dropped_total}: QoS 1/2 messages not queued for a session that held max-queued-messages. */
    public static final String MQTT_QUEUE_DROPPED = "mqtt.queue.dropped";
    /** {@code mqtt_queued_messages}: QoS 1/2 messages waiting in all sessions' queues now. */
    public static final String MQTT_QUEUED_MESSAGES = "mqtt.queued.messages";
    /** {@code mqtt_reads_paused_total}: times a publishing connection was paused because the broker was behind. */
    public static final String MQTT_READS_PAUSED = "mqtt.reads.paused";
    /** {@code mqtt_messages_received_total{qos}}: PUBLISH packets devices sent that the broker accepted. */
    public static final String MQTT_MESSAGES_RECEIVED = "mqtt.messages.received";
    /** {@code mqtt_messages_sent_total{qos}}: messages the bridge published into the broker (downlink, REST). */
    public static final String MQTT_MESSAGES_SENT = "mqtt.messages.sent";
    /** {@code mqtt_session_loop_failures_total}: commands of Moquette's session loops that threw and were skipped. */
    public static final String MQTT_SESSION_LOOP_FAILURES = "mqtt.session.loop.failures";
    /** {@code mqtt_publish_duplicates_total}: QoS 2 PUBLISH packets resent with a packet id not yet released (answered, not delivered again). */
    public static final String MQTT_PUBLISH_DUPLICATES = "mqtt.publish.duplicates";
    /** {@code mqtt_delivery_denied_total}: messages not delivered to a subscriber that may not read their topic (ACL at delivery). */
    public static final String MQTT_DELIVERY_DENIED = "mqtt.delivery.denied";
    /** {@code bridge_downlink_lag{topic,partition}}: records of a downlink partition not yet read. */
    public static final String DOWNLINK_LAG = "bridge.downlink.lag";
    /** Gauge: partitions of the downlink's topics that the consumer group gives to another member. */
    public static final String DOWNLINK_PARTITIONS_ELSEWHERE = "bridge.downlink.partitions.elsewhere";
    /** Gauge: live replicas of the cluster (this one included). */
    public static final String CLUSTER_NODES = "bridge.cluster.nodes";
    /** Counter: publishes forwarded to other replicas. */
    public static final String CLUSTER_FORWARDED = "bridge.cluster.forwarded";
    /** Counter: publishes other replicas forwarded, delivered here. */
    public static final String CLUSTER_RECEIVED = "bridge.cluster.received";
    /** Counter: persistent sessions this replica handed over to the replica their device reconnected to. */
    public static final String CLUSTER_SESSIONS_HANDED_OVER = "bridge.cluster.sessions.handed.over";
    /** Counter, tag {@code how} (handover, record, late): persistent sessions taken over from another replica. */
    public static final String CLUSTER_SESSIONS_TAKEN_OVER = "bridge.cluster.sessions.taken.over";
    /** Timer: how long a CONNECT waited for its persistent session to arrive from another replica. */
    public static final String CLUSTER_SESSION_WAIT = "bridge.cluster.session.wait";
    /** Gauge: forwarded publishes this replica has not read yet. */
    public static final String CLUSTER_LAG = "bridge.cluster.lag";
    /** {@code bridge_kafka_send_seconds}: histogram of producer hand-over to Kafka acknowledgement. */
    public static final String KAFKA_SEND = "bridge.kafka.send";
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
    /** {@code bridge_journal_paced_total}: times reading from publishing connections paused for the journal's backlog. */
    public static final String JOURNAL_PACED = "bridge.journal.paced";
    /** {@code bridge_broker_store_quarantined_total}: broker stores that could not be opened and were moved aside. */
    public static final String STORE_QUARANTINED = "bridge.broker.store.quarantined";
    /** {@code bridge_downlink_messages_total{route,outcome}}: outcome = published | dropped | failed. */
    public static final String DOWNLINK_MESSAGES = "bridge.downlink.messages";

    private static final java.util.List<String> UPLINK_OUTCOMES = java.util.List.of("sent", "retried", "dead-lettered", "dropped");
    private static final java.util.List<String> DOWNLINK_OUTCOMES = java.util.List.of("published", "dropped", "failed");

    private final MeterRegistry registry;
    private final Counter unrouted;
    private final Timer kafkaSend;
    private final ConcurrentMap<String, Counter> counters = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, RouteStats> uplinkStats = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, RouteStats> downlinkStats = new ConcurrentHashMap<>();

    BridgeMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.unrouted = Counter.builder(UPLINK_UNROUTED)
                .description("MQTT publishes that matched no uplink route and were not sent to Kafka")
                .register(registry);
        this.kafkaSend = Timer.builder(KAFKA_SEND)
                .description("Time from handing an uplink record to the Kafka producer to Kafka's acknowledgement")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(100_000))
                .maximumExpectedValue(Duration.ofSeconds(30)).register(registry);
    }

    /** An uplink record was acknowledged by Kafka this long after it was handed to the producer. */
    public void kafkaSend(long nanos) {
        kafkaSend.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void uplinkUnrouted() {
        unrouted.increment();
    }

    public void uplink(String route, String outcome) {
        counter(UPLINK_MESSAGES, "Kafka records of uplink routes, by outcome", route, outcome).increment();
        uplinkStats(route).outcome(outcome);
    }


    /**
     * Registers an uplink route's counters at 0 ({@code bridge_uplink_messages_total} for each outcome,
     * {@code bridge_uplink_invalid_payload_total}), so that dashboards and alerts have a series before the first message.
     */
    public void registerUplinkRoute(String route) {
        for (String outcome : UPLINK_OUTCOMES) {
            counter(UPLINK_MESSAGES, "Kafka records of uplink routes, by outcome", route, outcome);
        }
        invalidPayloadCounter(route);
        uplinkStats(route);
    }

    /** Registers a downlink route's {@code bridge_downlink_messages_total} counters at 0, one for each outcome. */
    public void registerDownlinkRoute(String route) {
        for (String outcome : DOWNLINK_OUTCOMES) {
            counter(DOWNLINK_MESSAGES, "Kafka records of downlink routes, by outcome", route, outcome);
        }
        downlinkStats(route);
    }

    /** A route was deleted: its series go away with it. */
    public void removeRoute(String direction, String route) {
        String name = "uplink".equals(direction) ? UPLINK_MESSAGES : DOWNLINK_MESSAGES;
        counters.entrySet().removeIf(entry -> {
            String[] parts = entry.getKey().split("\u0000", -1);
            boolean ofRoute = parts.length >= 2 && parts[1].equals(route)
                    && (parts[0].equals(name) || ("uplink".equals(direction) && parts[0].equals(UPLINK_INVALID_PAYLOAD)));
            if (ofRoute) {
                registry.remove(entry.getValue());
            }
            return ofRoute;
        });
        ("uplink".equals(direction) ? uplinkStats : downlinkStats).remove(route);
    }

    /** A publication's payload lacked what the uplink route takes from it (a JSON key or timestamp). */
    public void uplinkInvalidPayload(String route, String reason) {
        invalidPayloadCounter(route).increment();
        uplinkStats(route).error(reason);
    }

    private Counter invalidPayloadCounter(String route) {
        return counters.computeIfAbsent(UPLINK_INVALID_PAYLOAD + '\u0000' + route, k -> Counter.builder(UPLINK_INVALID_PAYLOAD)
                .description("Publishes whose payload lacked the JSON key or timestamp of the uplink route (not JSON, "
                        + "or the field missing); dead-lettered or dropped")
                .tag("route", route).register(registry));
    }

    /** A publication matched the uplink route. */
    public void uplinkMatched(String route) {
        uplinkStats(route).countMatch();
    }


    /**
     * The downlink meters of one route, to keep and count on per record without a look-up by name each time:
     * {@code bridge_downlink_messages_total{route,outcome}} and the route's statistics.
     */
    public DownlinkCounters downlinkCounters(String route) {
        return new DownlinkCounters(route, downlinkStats(route));
    }

    /** One downlink route's meters; its counters are registered on first use. */
    public final class DownlinkCounters {
        private final String route;
        private final RouteStats stats;
        private volatile Counter published;
        private volatile Counter dropped;
        private volatile Counter failed;

        private DownlinkCounters(String route, RouteStats stats) {
            this.route = route;
            this.stats = stats;
        }

        public void matched() {
            stats.countMatch();
        }

        public void published() {
            Counter c = published;
            if (c == null) {
                published = c = downlinkCounter("published");
            }
            c.increment();
            stats.outcome("published");
        }

        public void dropped(String reason) {
            Counter c = dropped;
            if (c == null) {
                dropped = c = downlinkCounter("dropped");
            }
            c.increment();
            stats.outcome("dropped");
            stats.error(reason);
        }

        public void failed(String error) {
            Counter c = failed;
            if (c == null) {
                failed = c = downlinkCounter("failed");
            }
            c.increment();
            stats.outcome("failed");
            stats.error(error);
        }

        private Counter downlinkCounter(String outcome) {
            return counter(DOWNLINK_MESSAGES, "Kafka records of downlink routes, by outcome", route, outcome);
        }
    }

    public void uplinkError(String route, String message) {
        uplinkStats(route).error(message);
    }


    public RouteStats uplinkStats(String route) {
        return uplinkStats.computeIfAbsent(route, r -> new RouteStats());
    }

    public RouteStats downlinkStats(String route) {
        return downlinkStats.computeIfAbsent(route, r -> new RouteStats());
    }

    private Counter counter(String name, String description, String route, String outcome) {
        return counters.computeIfAbsent(name + '\u0000' + route + '\u0000' + outcome,
                k -> Counter.builder(name).description(description).tag("route", route).tag("outcome", outcome)
                        .register(registry));
    }
}
