package io.mqttkafkabridge.health;

import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import io.mqttkafkabridge.kafka.KafkaAdmin;
import io.mqttkafkabridge.kafka.KafkaWatch;

/**
 * DOWN while Kafka refuses the bridge: its SASL credentials (MKB0502) or a TLS certificate its truststore does not
 * trust (MKB0503). Unlike an outage, which {@link KafkaHealth} reports as wellness only, these are configuration
 * errors that no amount of waiting fixes: a rolling update with wrong credentials stalls on its first new pod
 * instead of replacing the pods that work. Not liveness: a restart brings the same refusal back (a crash loop).
 * UP again as soon as Kafka accepts the bridge (a rotated password or CA). Reads {@link KafkaWatch}'s last check
 * (every 5 s), never Kafka itself, so the probe answers at once whatever Kafka does.
 */
@Readiness
@ApplicationScoped
public class KafkaAccessReadiness implements HealthCheck {

    private final KafkaWatch kafka;

    KafkaAccessReadiness(KafkaWatch kafka) {
        this.kafka = kafka;
    }

    @Override
    public HealthCheckResponse call() {
        Optional<KafkaAdmin.Cluster> last = kafka.last();
        Optional<KafkaAdmin.Refusal> refusal = last.flatMap(KafkaAdmin.Cluster::refusal);
        String detail = last.map(KafkaAdmin.Cluster::detail).orElse("");
        return HealthCheckResponse.named("kafka-access").status(refusal.isEmpty())
                .withData("reason", refusal.map(r -> switch (r) {
                    case SASL -> "Kafka refused the SASL credentials (kafka.sasl.jaas.config, MKB0502): " + detail;
                    case TLS -> "Kafka's TLS certificate is not trusted (kafka.ssl.truststore.*, MKB0503): " + detail;
                }).orElse(last.isEmpty() ? "not checked yet"
                        : last.get().reachable() ? "Kafka accepts the bridge"
                                : "Kafka does not answer: an outage, not a reason to take the bridge out of service (wellness check kafka)"))
                .build();
    }
}
