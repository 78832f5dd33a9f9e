package io.mqttkafkabridge.kafka;

import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import jakarta.annotation.PreDestroy;
import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import jakarta.interceptor.Interceptor;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.mqttkafkabridge.metrics.BridgeLog;
import io.quarkus.runtime.StartupEvent;

/**
 * Asks the Kafka cluster every 5 s whether it answers, and logs once per change: gone (MKB0500),
 * back (MKB0501), or refusing the bridge (MKB0502 for its SASL credentials, MKB0503 for a certificate the truststore
 * does not trust). The health checks read it: {@code kafka} (wellness) and {@code kafka-access} (readiness).
 */
@Singleton
public class KafkaWatch {

    /** What was logged last: "up", "down" or a {@link KafkaAdmin.Refusal}'s name. */
    private final AtomicReference<String> logged = new AtomicReference<>("up");
    private final KafkaAdmin kafka;
    private final String saslMechanism;
    private final ScheduledExecutorService watch = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "kafka-watch");
        t.setDaemon(true);
        return t;
    });
    private volatile KafkaAdmin.Cluster last;

    KafkaWatch(KafkaAdmin kafka, @ConfigProperty(name = "kafka.sasl.mechanism", defaultValue = "GSSAPI") String saslMechanism) {
        this.kafka = kafka;
        this.saslMechanism = saslMechanism;
    }

    /**
     * Before the broker's start ({@code EmbeddedBroker}), which waits for Kafka when the cluster is on: a refusal
     * must show (log, readiness) while it waits. The first check after 5 s, not at once: while everything starts, the
     * first answer can take longer than the check's 3 s, which was logged as Kafka unreachable (MKB0500).
     */
    void start(@Observes @Priority(Interceptor.Priority.LIBRARY_BEFORE) StartupEvent event) {
        watch.scheduleWithFixedDelay(this::check, 5, 5, TimeUnit.SECONDS);
    }

    @PreDestroy
    void stop() {
        watch.shutdownNow();
    }

    /**
     * The last check's answer without asking Kafka (a readiness probe must answer within its timeout, 1 s by default,
     * also while Kafka does not answer); empty before the first check has finished.
     */
    public Optional<KafkaAdmin.Cluster> last() {
        return Optional.ofNullable(last);
    }

    /** What the cluster says now (cached for 2 s by {@link KafkaAdmin#cluster()}), logged when it changed. */
    public KafkaAdmin.Cluster check() {
        KafkaAdmin.Cluster cluster = kafka.cluster();
        last = cluster;
        Optional<KafkaAdmin.Refusal> refusal = cluster.refusal();
        String now = cluster.reachable() ? "up" : refusal.map(Enum::name).orElse("down");
        if (!now.equals(logged.getAndSet(now))) {
            if (cluster.reachable()) {
                BridgeLog.LOG.kafkaBack(cluster.brokers());
            } else if (refusal.isEmpty()) {
                BridgeLog.LOG.kafkaDown(cluster.detail());
            } else if (refusal.get() == KafkaAdmin.Refusal.SASL) {
                BridgeLog.LOG.kafkaSaslRefused(kafka.saslUser(), saslMechanism, cluster.detail());
            } else {
                BridgeLog.LOG.kafkaTlsRefused(cluster.detail());
            }
        }
        return cluster;
    }
}
