package io.mqttkafkabridge.health;

import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.uplink.KafkaTopicProbe;

/**
 * Ready only while the Kafka cluster answers. Readiness, never liveness: a Kafka outage must not get the pod
 * restarted (the journal keeps what devices publish). Logs once when Kafka goes away and once when it is back.
 */
@Readiness
@ApplicationScoped
public class KafkaReadiness implements HealthCheck {

    private final KafkaTopicProbe kafka;
    private final AtomicBoolean reachable = new AtomicBoolean(true);

    KafkaReadiness(KafkaTopicProbe kafka) {
        this.kafka = kafka;
    }

    @Override
    public HealthCheckResponse call() {
        KafkaTopicProbe.Cluster cluster = kafka.cluster();
        boolean up = cluster.reachable();
        if (reachable.compareAndSet(!up, up)) {
            if (up) {
                BridgeLog.LOG.kafkaBack(cluster.brokers());
            } else {
                BridgeLog.LOG.kafkaDown(cluster.detail());
            }
        }
        return HealthCheckResponse.named("kafka").status(up)
                .withData("reason", up ? "the cluster answers" : "Kafka is unreachable: " + cluster.detail())
                .withData("brokers", cluster.brokers())
                .build();
    }
}
