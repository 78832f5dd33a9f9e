package io.mqttkafkabridge.downlink;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.mqttkafkabridge.metrics.BridgeMetrics;

class DownlinkAssignmentTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final DownlinkAssignment assignment = new DownlinkAssignment(registry);
    /** Two topics of two partitions, and one without metadata yet. */
    private final Map<String, List<PartitionInfo>> cluster = Map.of(
            "commands", List.of(partition("commands", 0), partition("commands", 1)),
            "alerts", List.of(partition("alerts", 0), partition("alerts", 1)));

    private static PartitionInfo partition(String topic, int partition) {
        return new PartitionInfo(topic, partition, null, null, null);
    }

    private int rebalances;

    private void assigned(TopicPartition... partitions) {
        assignment.check("group-a", Set.of(partitions), Set.of("commands", "alerts", "not-yet"), topic -> {
            if (!cluster.containsKey(topic)) {
                throw new org.apache.kafka.common.errors.TimeoutException("no metadata for " + topic);
            }
            return cluster.get(topic);
        }, () -> rebalances++);
    }

    private double gauge() {
        return registry.get(BridgeMetrics.DOWNLINK_PARTITIONS_ELSEWHERE).gauge().value();
    }

    @Test
    void the_gauge_exists_at_zero_before_any_assignment() {
        assertThat(gauge()).isZero();
        assertThat(assignment.elsewhere()).isZero();
    }

    @Test
    void counts_the_partitions_of_the_subscribed_topics_given_to_another_member_and_zero_once_all_are_back() {
        assigned(new TopicPartition("commands", 0), new TopicPartition("alerts", 1));
        assertThat(gauge()).isEqualTo(2);

        assigned(); // the same static member id elsewhere: nothing at all
        assertThat(gauge()).isEqualTo(4);

        assigned(new TopicPartition("commands", 0), new TopicPartition("commands", 1), new TopicPartition("alerts", 0),
                new TopicPartition("alerts", 1));
        assertThat(gauge()).isZero();
        assertThat(assignment.elsewhere()).isZero();
    }

    @Test
    void an_incomplete_assignment_asks_for_one_rebalance_until_a_complete_one_comes() {
        assigned(new TopicPartition("commands", 0), new TopicPartition("commands", 1));
        assertThat(rebalances).as("the first incomplete assignment asks for a rebalance").isEqualTo(1);
        assigned(new TopicPartition("commands", 0), new TopicPartition("commands", 1));
        assigned(new TopicPartition("commands", 0));
        assertThat(rebalances).as("still incomplete after it: a shared group, no rebalance loop").isEqualTo(1);

        assigned(new TopicPartition("commands", 0), new TopicPartition("commands", 1), new TopicPartition("alerts", 0),
                new TopicPartition("alerts", 1));
        assigned(new TopicPartition("commands", 0));
        assertThat(rebalances).as("after a complete assignment, an incomplete one asks again").isEqualTo(2);
    }
}
