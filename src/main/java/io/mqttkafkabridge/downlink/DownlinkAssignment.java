package io.mqttkafkabridge.downlink;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.metrics.BridgeMetrics;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaConsumerRebalanceListener;

/**
 * Checks, after every assignment of the {@code downlink} channel's consumer, that it reads every partition of its
 * topics. Every replica must see every downlink record (its devices are connected to it alone), so each has a
 * consumer group of its own; a second consumer in that group (a second bridge on the same host with the default
 * {@code mqtt-kafka-bridge-<host name>}, or a {@code bridge.downlink.group-id} given to several replicas) takes
 * partitions away, or, with the same static member id, this replica's whole assignment, and devices miss those
 * records without any error from Kafka. The same happens to a replica restarted within the group's session timeout
 * with a downlink route on a new Kafka topic: Kafka takes it for its previous run coming back (same static member
 * id) and hands it that run's assignment without a rebalance.
 * <p>
 * So, the first time an assignment lacks partitions, it asks Kafka for a rebalance ({@code MKB0204},
 * {@link Consumer#enforceRebalance(String)}): that heals the restart. If the next assignment still lacks them, the
 * group is shared: {@code MKB0202} (once per change). {@code bridge_downlink_partitions_elsewhere} counts them
 * throughout; {@code MKB0203} when the replica reads every partition again. Configured as the channel's
 * {@code consumer-rebalance-listener.name}; it runs on the consumer's polling thread.
 */
@ApplicationScoped
@Identifier(DownlinkAssignment.NAME)
public class DownlinkAssignment implements KafkaConsumerRebalanceListener {

    public static final String NAME = "bridge-downlink-assignment";

    private final AtomicInteger elsewhere = new AtomicInteger();
    /** Set once a rebalance was asked for an incomplete assignment; cleared by a complete one (polling thread only). */
    private boolean rebalanceAsked;
    /** Missing partitions last reported as a shared group (MKB0202), 0 for none (polling thread only). */
    private int reportedShared;

    DownlinkAssignment(MeterRegistry registry) {
        Gauge.builder(BridgeMetrics.DOWNLINK_PARTITIONS_ELSEWHERE, elsewhere, AtomicInteger::get)
                .description("Partitions of the downlink's Kafka topics that this replica's consumer group gives to another "
                        + "member (0 when the group is this replica's own, as it must be)")
                .register(registry);
    }

    /** The partitions the consumer reads, as of its last assignment. */
    private volatile Set<TopicPartition> assignment = Set.of();

    @Override
    public void onPartitionsAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        assignment = Set.copyOf(consumer.assignment());
        check(consumer.groupMetadata().groupId(), consumer.assignment(), consumer.subscription(),
                topic -> consumer.partitionsFor(topic, Duration.ofSeconds(5)),
                () -> consumer.enforceRebalance("the assignment lacks partitions of the subscribed topics"));
    }

    interface Partitions {
        List<PartitionInfo> of(String topic);
    }

    /**
     * Compares the assignment with the partitions of the subscribed topics: asks for one rebalance when partitions
     * are missing, reports a shared group when they are still missing after it; sets the gauge.
     */
    void check(String group, Set<TopicPartition> assigned, Set<String> topics, Partitions partitions, Runnable rebalance) {
        List<String> missing = new ArrayList<>();
        int total = 0;
        for (String topic : new TreeSet<>(topics)) {
            List<PartitionInfo> infos;
            try {
                infos = partitions.of(topic);
            } catch (RuntimeException e) {
                continue; // no metadata yet: the next assignment checks again
            }
            if (infos == null) {
                continue;
            }
            for (PartitionInfo info : infos) {
                total++;
                TopicPartition partition = new TopicPartition(topic, info.partition());
                if (!assigned.contains(partition)) {
                    missing.add(partition.toString());
                }
            }
        }
        int before = elsewhere.getAndSet(missing.size());
        if (missing.isEmpty()) {
            rebalanceAsked = false;
            reportedShared = 0;
            if (before > 0) {
                BridgeLog.LOG.downlinkGroupOwn(group, total);
            }
        } else if (!rebalanceAsked) {
            rebalanceAsked = true;
            BridgeLog.LOG.downlinkAssignmentIncomplete(group, total - missing.size(), total, String.join(", ", missing));
            rebalance.run();
        } else if (reportedShared != missing.size()) {
            reportedShared = missing.size();
            BridgeLog.LOG.downlinkGroupShared(group, total - missing.size(), total, String.join(", ", missing));
        }
    }

    /** Whether the consumer reads partitions of this topic, as of its last assignment. */
    public boolean reads(String topic) {
        return assignment.stream().anyMatch(partition -> partition.topic().equals(topic));
    }

    /** Partitions of the downlink's topics given to another member of the group, as of the last assignment. */
    public int elsewhere() {
        return elsewhere.get();
    }
}
