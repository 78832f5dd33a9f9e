package io.mqttkafkabridge.uplink;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import io.smallrye.common.annotation.Identifier;

/**
 * Asks the Kafka cluster whether a topic exists, with the application's Kafka settings ({@code kafka.*}). Used only
 * after a send failed, never on the hot path. Thread-safe.
 */
@Singleton
public class KafkaTopicProbe {

    private final Map<String, Object> kafka;
    private volatile Admin admin;

    KafkaTopicProbe(@Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.kafka = kafka;
    }

    /** True or false when the cluster answered within 5 s; empty when it could not be asked. */
    public Optional<Boolean> exists(String topic) {
        try {
            admin().describeTopics(java.util.List.of(topic)).allTopicNames().get(5, TimeUnit.SECONDS);
            return Optional.of(true);
        } catch (ExecutionException e) {
            return e.getCause() instanceof UnknownTopicOrPartitionException ? Optional.of(false) : Optional.empty();
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return Optional.empty();
        }
    }

    private Admin admin() {
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
