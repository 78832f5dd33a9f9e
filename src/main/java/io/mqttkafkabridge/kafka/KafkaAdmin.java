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

    private static final java.util.regex.Pattern JAAS_USER = java.util.regex.Pattern.compile("username\\s*=\\s*\"([^\"]*)\"");

    /**
     * Settings in {@code kafka.*} that no Kafka client knows but a plug-in the Quarkus Kafka extension installs reads
     * from the client's configuration: {@code tls-configuration-name}, with which its SSL engine factory
     * ({@code ssl.engine.factory.class}, set for {@code kafka.tls-configuration-name}) finds the Quarkus TLS registry
     * entry. Without it every client of the bridge's own failed to start ("The 'tls-configuration-name' property is
     * required"), while the connector's worked.
     */
    private static final java.util.Set<String> PLUGIN_SETTINGS = java.util.Set.of("tls-configuration-name");

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

    /**
     * What the cluster said last, checked at most every 2 s; {@code refusal} when it turned the bridge away (see
     * {@link Refusal}), with {@code detail} the client's reason for it.
     */
    public record Cluster(boolean reachable, int brokers, String detail, Optional<Refusal> refusal) {
    }

    /**
     * Kafka answered but turned the bridge's connection away: a configuration error (the settings, or the user or
     * certificate on Kafka's side), not an outage. Waiting does not help, and neither does a restart with the same
     * settings.
     */
    public enum Refusal {
        /** Kafka refused the SASL credentials ({@code SaslAuthenticationException} and the other SASL failures). */
        SASL,
        /** The TLS handshake failed, mostly because the truststore does not hold the CA of Kafka's certificate. */
        TLS;

        /** The refusal that {@code failure} (or one of its causes) is, if it is one. */
        public static Optional<Refusal> of(Throwable failure) {
            for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
                if (t instanceof org.apache.kafka.common.errors.SslAuthenticationException
                        || t instanceof javax.net.ssl.SSLHandshakeException) {
                    return Optional.of(TLS);
                }
                if (t instanceof org.apache.kafka.common.errors.AuthenticationException) {
                    return Optional.of(SASL);
                }
            }
            return Optional.empty();
        }
    }

    /**
     * The user name in {@code kafka.sasl.jaas.config} ({@code username="..."}), for log lines; never the rest of it,
     * which holds the password.
     */
    public String saslUser() {
        Object jaas = kafka.get("sasl.jaas.config");
        java.util.regex.Matcher user = jaas == null ? null : JAAS_USER.matcher(jaas.toString());
        return user != null && user.find() ? user.group(1) : "(none in kafka.sasl.jaas.config)";
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
            now = new Cluster(brokers > 0, brokers, brokers > 0 ? "ok" : "no broker in the cluster", Optional.empty());
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            Optional<Refusal> refusal = Refusal.of(e);
            now = new Cluster(false, 0, e instanceof java.util.concurrent.TimeoutException
                    ? "no answer within 3 s from " + kafka.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG)
                    : refusal.isPresent() ? rootMessage(e) : String.valueOf(e.getCause() == null ? e : e.getCause()),
                    refusal);
        }
        lastCluster = now;
        lastClusterAt = System.nanoTime();
        return now;
    }

    /** The innermost message of a failure: for a TLS refusal, the handshake's own reason (PKIX path building failed...). */
    private static String rootMessage(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }

    /** A topic the bridge needs, with the settings it must have; {@code configs} holds what is checked. */
    public record TopicSpec(String name, int partitions, Optional<Short> replicationFactor, Map<String, String> configs) {
    }

    /**
     * Creates the topics that are missing, with their settings, and checks that those that exist have them.
     * Waits for Kafka (retrying every 2 s, logging through {@code waiting} when the reason changes) until
     * {@code timeout} has passed; while Kafka refuses the bridge ({@link Refusal}) it waits on after that: the process
     * would only be restarted into the same refusal (a crash loop), while waiting keeps it not ready and says why
     * (readiness, MKB0502/MKB0503), and it goes on by itself once Kafka accepts it.
     *
     * @throws IllegalStateException naming the topic and the setting when an existing topic has another value, or
     *         when Kafka did not answer in time
     */
    public void ensureTopics(List<TopicSpec> topics, java.time.Duration timeout, java.util.function.Consumer<String> waiting) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String logged = null;
        while (true) {
            try {
                ensureTopics(topics);
                return;
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                Throwable cause = e.getCause() == null ? e : e.getCause();
                if (System.nanoTime() - deadline > 0 && Refusal.of(cause).isEmpty()) {
                    throw new IllegalStateException("Kafka did not answer within " + timeout + " while the bridge created or checked "
                            + topics.stream().map(TopicSpec::name).toList() + ": " + cause, cause);
                }
                String reason = String.valueOf(cause);
                if (!reason.equals(logged)) {
                    waiting.accept(reason);
                    logged = reason;
                }
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
     * producers and consumers, and the settings of the plug-ins Quarkus configures ({@link #PLUGIN_SETTINGS}).
     */
    public Map<String, Object> clientConfig(java.util.Set<String> names) {
        Map<String, Object> config = new HashMap<>();
        kafka.forEach((key, value) -> {
            if (names.contains(key) || PLUGIN_SETTINGS.contains(key)) {
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
