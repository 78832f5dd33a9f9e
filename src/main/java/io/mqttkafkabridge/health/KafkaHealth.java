package io.mqttkafkabridge.health;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import io.smallrye.health.api.Wellness;

import io.mqttkafkabridge.kafka.KafkaAdmin;
import io.mqttkafkabridge.kafka.KafkaWatch;

/**
 * UP while the Kafka cluster answers. A wellness check ({@code /q/health/well} and {@code /q/health}), neither
 * liveness nor readiness: a Kafka outage must not get the pod restarted, nor taken out of the MQTT Service (devices
 * must still connect and publish: the journal keeps what they send until Kafka is back; a full journal is what makes
 * the bridge not ready). {@link KafkaWatch} logs when Kafka goes away and when it is back (MKB0500, MKB0501),
 * checking every 5 s by itself as well as when this check is asked. Kafka refusing the bridge's credentials or
 * certificate is a configuration error, not an outage: {@link KafkaAccessReadiness}.
 */
@Wellness
@ApplicationScoped
public class KafkaHealth implements HealthCheck {

    private final KafkaWatch kafka;

    KafkaHealth(KafkaWatch kafka) {
        this.kafka = kafka;
    }

    @Override
    public HealthCheckResponse call() {
        KafkaAdmin.Cluster cluster = kafka.check();
        boolean up = cluster.reachable();
        return HealthCheckResponse.named("kafka").status(up)
                .withData("reason", up ? "the cluster answers" : "Kafka is unreachable: " + cluster.detail())
                .withData("brokers", cluster.brokers())
                .build();
    }
}
