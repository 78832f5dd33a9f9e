package io.mqttkafkabridge.health;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import io.mqttkafkabridge.broker.EmbeddedBroker;

/** Ready only while the MQTT broker listens. */
@Readiness
@ApplicationScoped
public class BrokerReadiness implements HealthCheck {

    private final EmbeddedBroker broker;

    BrokerReadiness(EmbeddedBroker broker) {
        this.broker = broker;
    }

    @Override
    public HealthCheckResponse call() {
        boolean listening = broker.isRunning() && broker.port() > 0;
        return HealthCheckResponse.named("mqtt-broker").status(listening)
                .withData("reason", listening ? "listening" : "the MQTT broker is not listening (starting or stopping)")
                .withData("port", broker.port())
                .withData("clients", broker.clients().count())
                .build();
    }
}
