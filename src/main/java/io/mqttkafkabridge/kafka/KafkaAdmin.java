package io.mqttkafkabridge.kafka;

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
 * The bridge's one Kafka admin client, with the application's Kafka settings ({@code kafka.*}): whether a topic can be
 * written to (the uplink asks once per topic before its first record: a send to a missing topic would wait for it
 * without end), whether the cluster answers (health), consumer-group offsets (lag meters), and the creation and
 * checking of the cluster's internal topics. Never on the hot path. Thread-safe.
 */
@Singleton
public class KafkaAdmin {

    private final Map<String, Object> kafka;
    private volatile Admin admin;

    KafkaAdmin(@Identifier("default-kafka-broker") Map<String, Object> kafka) {
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

    /** A topic the bridge needs, with the settings it must have; {@code configs} holds what is checked. */
    public record TopicSpec(String name, int partitions, Optional<Short> replicationFactor, Map<String, String> configs) {
    }

    /**
     * Creates the topics that are missing, with their settings, and checks that those that exist have them.
     * Waits for Kafka (retrying every 2 s, logging through {@code waiting}) until {@code timeout} has passed.
     *
     * @throws IllegalStateException naming the topic and the setting when an existing topic has another value, or
     *         when Kafka did not answer in time
     */
    public void ensureTopics(List<TopicSpec> topics, java.time.Duration timeout, java.util.function.Consumer<String> waiting) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                ensureTopics(topics);
                return;
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                Throwable cause = e.getCause() == null ? e : e.getCause();
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("Kafka did not answer within " + timeout + " while the bridge created or checked "
                            + topics.stream().map(TopicSpec::name).toList() + ": " + cause, cause);
                }
                waiting.accept(String.valueOf(cause));
                java.util.concurrent.locks.LockSupport.parkNanos(2_000_000_000L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while creating the cluster topics", e);
            }
        }
    }

    private void ensureTopics(List<TopicSpec> topics) throws ExecutionException, InterruptedException,
            java.util.concurrent.TimeoutException {
        java.util.Set<String> existing = admin().listTopics().names().get(5, TimeUnit.SECONDS);
        List<org.apache.kafka.clients.admin.NewTopic> missing = topics.stream().filter(t -> !existing.contains(t.name()))
                .map(t -> new org.apache.kafka.clients.admin.NewTopic(t.name(), Optional.of(t.partitions()), t.replicationFactor())
                        .configs(t.configs()))
                .toList();
        if (!missing.isEmpty()) {
            try {
                admin().createTopics(missing).all().get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                    throw e;
                }
            }
        }
        List<ConfigResource> resources = topics.stream().map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t.name())).toList();
        Map<ConfigResource, Config> configs = admin().describeConfigs(resources).all().get(5, TimeUnit.SECONDS);
        for (TopicSpec topic : topics) {
            Config config = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, topic.name()));
            for (Map.Entry<String, String> wanted : topic.configs().entrySet()) {
                if (!wanted.getKey().equals("cleanup.policy")) {
                    continue; // the others are defaults for a new topic; an operator may tune them
                }
                ConfigEntry entry = config == null ? null : config.get(wanted.getKey());
                String actual = entry == null ? null : entry.value();
                if (!java.util.Set.of(wanted.getValue().split(",")).equals(actual == null ? java.util.Set.of()
                        : java.util.Set.of(actual.replace(" ", "").split(",")))) {
                    throw new IllegalStateException("Kafka topic '" + topic.name() + "' has " + wanted.getKey() + "=" + actual
                            + ", the bridge needs " + wanted.getKey() + "=" + wanted.getValue()
                            + ": change the topic (kafka-configs --alter --entity-type topics --entity-name " + topic.name()
                            + " --add-config " + wanted.getKey() + "=" + wanted.getValue()
                            + "), or delete it and let the bridge create it");
                }
            }
        }
    }

    /**
     * The application's Kafka settings ({@code kafka.*}) that a client of this kind knows, for the bridge's own
     * producers and consumers.
     */
    public Map<String, Object> clientConfig(java.util.Set<String> names) {
        Map<String, Object> config = new HashMap<>();
        kafka.forEach((key, value) -> {
            if (names.contains(key)) {
                config.put(key, value);
            }
        });
        return config;
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
                    Map<String, Object> config = clientConfig(AdminClientConfig.configNames());
                    config.put(AdminClientConfig.CLIENT_ID_CONFIG, "mqtt-kafka-bridge-admin");
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
