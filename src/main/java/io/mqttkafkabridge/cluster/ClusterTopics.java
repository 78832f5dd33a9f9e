package io.mqttkafkabridge.cluster;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.mqttkafkabridge.config.BridgeConfig;
import io.mqttkafkabridge.kafka.KafkaAdmin.TopicSpec;

/**
 * The cluster's internal topics, all named {@code <bridge.cluster.name>.<what>}. State is kept in compacted topics
 * (the newest record per key is the state); forwarded publishes pass through a topic that is deleted by age.
 * <ul>
 * <li>{@code messages}: publishes forwarded to the replicas with a matching subscription (key: MQTT topic);</li>
 * <li>{@code subscriptions}: the topic filters each replica's sessions hold (key: node id NUL filter);</li>
 * <li>{@code sessions}: which replica each connected client is on (key: client id);</li>
 * <li>{@code retained}: the retained messages (key: MQTT topic; a tombstone clears);</li>
 * <li>{@code nodes}: the replicas, their heartbeats and figures (key: node id).</li>
 * </ul>
 */
record ClusterTopics(String messages, String subscriptions, String sessions, String retained, String nodes) {

    static ClusterTopics of(String cluster) {
        return new ClusterTopics(cluster + ".messages", cluster + ".subscriptions", cluster + ".sessions",
                cluster + ".retained", cluster + ".nodes");
    }

    /** The compacted (state) topics, read from the start by every replica. */
    List<String> state() {
        return List.of(nodes, subscriptions, sessions, retained);
    }

    List<String> all() {
        return List.of(messages, subscriptions, sessions, retained, nodes);
    }

    List<TopicSpec> specs(BridgeConfig.Cluster config) {
        Optional<Short> replication = config.replicationFactor();
        Map<String, String> compacted = Map.of("cleanup.policy", "compact", "min.compaction.lag.ms", "0",
                "segment.ms", "3600000");
        return List.of(
                new TopicSpec(messages, config.messagesPartitions(), replication, Map.of("cleanup.policy", "delete",
                        "retention.ms", Long.toString(config.messagesRetention().toMillis()))),
                new TopicSpec(subscriptions, 1, replication, compacted),
                new TopicSpec(sessions, 3, replication, compacted),
                new TopicSpec(retained, 3, replication, compacted),
                new TopicSpec(nodes, 1, replication, compacted));
    }
}
