package io.mqttkafkabridge.uplink;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import io.smallrye.common.annotation.Identifier;

/**
 * Asks the Kafka cluster whether a topic can be written to, with the application's Kafka settings ({@code kafka.*}).
 * Used once per topic before its first record (a send to a missing topic would wait for it without end), never on
 * the hot path. Thread-safe.
 */
@Singleton
public class KafkaTopicProbe {

    private final Map<String, Object> kafka;
    private volatile Admin admin;

    KafkaTopicProbe(@Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.kafka = kafka;
    }

    /**
     * Whether records can be written to the topic: it exists, or the brokers create topics on first use. Empty when
     * the cluster could not be asked within 5 s (it is down, say).
     */
    public Optional<Boolean> writable(String topic) {
        try {
            admin().describeTopics(List.of(topic)).allTopicNames().get(5, TimeUnit.SECONDS);
            return Optional.of(true);
        } catch (ExecutionException e) {
            return e.getCause() instanceof UnknownTopicOrPartitionException ? autoCreate() : Optional.empty();
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return Optional.empty();
        }
    }

    /** What the cluster said last, checked at most every 2 s. */
    public record Cluster(boolean reachable, int brokers, String detail) {
    }

    private volatile Cluster lastCluster;
    private volatile long lastClusterAt;

    /** Whether the cluster answers (describeCluster within 3 s); cached for 2 s so probes do not pile up. */
    public Cluster cluster() {
        Cluster cached = lastCluster;
        if (cached != null && System.nanoTime() - lastClusterAt < 2_000_000_000L) {
            return cached;
        }
        Cluster now;
        try {
            int brokers = admin().describeCluster().nodes().get(3, TimeUnit.SECONDS).size();
            now = new Cluster(brokers > 0, brokers, brokers > 0 ? "ok" : "no broker in the cluster");
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            now = new Cluster(false, 0, e instanceof java.util.concurrent.TimeoutException
                    ? "no answer within 3 s from " + kafka.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG)
                    : String.valueOf(e.getCause() == null ? e : e.getCause()));
        }
        lastCluster = now;
        lastClusterAt = System.nanoTime();
        return now;
    }

    private Optional<Boolean> autoCreate() {
        try {
            Collection<Node> nodes = admin().describeCluster().nodes().get(5, TimeUnit.SECONDS);
            if (nodes.isEmpty()) {
                return Optional.empty();
            }
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, nodes.iterator().next().idString());
            Config config = admin().describeConfigs(List.of(broker)).all().get(5, TimeUnit.SECONDS).get(broker);
            ConfigEntry entry = config == null ? null : config.get("auto.create.topics.enable");
            return Optional.of(entry != null && Boolean.parseBoolean(entry.value()));
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return Optional.empty();
        }
    }

    /** The shared admin client (created on first use). */
    public Admin admin() {
        Admin current = admin;
        if (current == null) {
            synchronized (this) {
                if (admin == null) {
                    Map<String, Object> config = new HashMap<>();
                    kafka.forEach((key, value) -> {
                        if (AdminClientConfig.configNames().contains(key)) {
                            config.put(key, value);
                        }
                    });
                    config.put(AdminClientConfig.CLIENT_ID_CONFIG, "mqtt-kafka-bridge-topic-probe");
                    admin = Admin.create(config);
                }
                current = admin;
            }
        }
        return current;
    }

    @PreDestroy
    void close() {
        if (admin != null) {
            admin.close(java.time.Duration.ofSeconds(2));
        }
    }
}
