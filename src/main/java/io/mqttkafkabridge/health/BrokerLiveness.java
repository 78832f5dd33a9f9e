package io.mqttkafkabridge.health;

import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

import io.mqttkafkabridge.broker.EmbeddedBroker;

/**
 * DOWN while one of the broker's session loops has ended or is stuck in one command for longer than
 * {@code bridge.broker.session-loop-stall-timeout} (MKB0018): every client hashed to that loop gets no answer, and
 * only a restart helps, which is what Kubernetes does on a failed liveness probe. Not tied to Kafka: a Kafka outage
 * fills the journal, it does not need a restart.
 */
@Liveness
@ApplicationScoped
public class BrokerLiveness implements HealthCheck {

    private final EmbeddedBroker broker;

    BrokerLiveness(EmbeddedBroker broker) {
        this.broker = broker;
    }

    @Override
    public HealthCheckResponse call() {
        Optional<String> problem = broker.sessionLoopProblem();
        return HealthCheckResponse.named("mqtt-session-loops").status(problem.isEmpty())
                .withData("reason", problem.orElse("every session loop serves"))
                .build();
    }
}
