package io.mqttkafkabridge.health;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import io.mqttkafkabridge.broker.EmbeddedBroker;
import io.mqttkafkabridge.cluster.Cluster;

/** Ready only while the MQTT broker listens (with the cluster on: once the cluster's state is loaded and applied). */
@Readiness
@ApplicationScoped
public class BrokerReadiness implements HealthCheck {

    private final EmbeddedBroker broker;
    private final Cluster cluster;

    BrokerReadiness(EmbeddedBroker broker, Cluster cluster) {
        this.broker = broker;
        this.cluster = cluster;
    }

    @Override
    public HealthCheckResponse call() {
        boolean loading = !cluster.ready().toCompletableFuture().isDone();
        boolean listening = broker.isRunning() && broker.port() > 0 && !loading;
        return HealthCheckResponse.named("mqtt-broker").status(listening)
                .withData("reason", listening ? "listening"
                        : loading ? "loading the cluster's retained messages, subscriptions and sessions from Kafka (MKB0700 when done)"
                                : "the MQTT broker is not listening (starting or stopping)")
                .withData("port", broker.port())
                .withData("clients", broker.clients().count())
                .build();
    }
}
