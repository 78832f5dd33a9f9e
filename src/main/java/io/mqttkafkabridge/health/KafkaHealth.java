package io.mqttkafkabridge.health;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.event.Observes;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import io.smallrye.health.api.Wellness;

import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.kafka.KafkaAdmin;
import io.quarkus.runtime.StartupEvent;

/**
 * UP while the Kafka cluster answers. A wellness check ({@code /q/health/well} and {@code /q/health}), neither
 * liveness nor readiness: a Kafka outage must not get the pod restarted, nor taken out of the MQTT Service (devices
 * must still connect and publish: the journal keeps what they send until Kafka is back; a full journal is what makes
 * the bridge not ready). Logs once when Kafka goes away and once when it is back
 * (MKB0500, MKB0501), checking every 5 s by itself as well as when readiness is asked.
 */
@Wellness
@ApplicationScoped
public class KafkaHealth implements HealthCheck {

    private final KafkaAdmin kafka;
    private final AtomicBoolean reachable = new AtomicBoolean(true);
    private final ScheduledExecutorService watch = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "kafka-watch");
        t.setDaemon(true);
        return t;
    });

    KafkaHealth(KafkaAdmin kafka) {
        this.kafka = kafka;
    }

    /** Checks every 5 s on its own, so Kafka going away is logged even where nothing polls readiness. */
    void start(@Observes StartupEvent event) {
        watch.scheduleWithFixedDelay(this::call, 5, 5, TimeUnit.SECONDS);
    }

    @PreDestroy
    void stop() {
        watch.shutdownNow();
    }

    @Override
    public HealthCheckResponse call() {
        KafkaAdmin.Cluster cluster = kafka.cluster();
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
