package io.mqttkafkabridge.dev;

import java.net.BindException;

import jakarta.annotation.PreDestroy;
import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import jakarta.interceptor.Interceptor;

import io.mqttkafkabridge.config.BridgeConfig;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.quarkus.arc.profile.IfBuildProfile;
import io.quarkus.runtime.StartupEvent;

/**
 * Starts a {@link LocalKafka} in {@code quarkus:dev}, before the broker and the Kafka channels, and stops it when
 * dev mode stops or reloads. Exists only in the dev build profile, so the packaged application never loads Kafka's
 * broker classes.
 */
@Singleton
@IfBuildProfile("dev")
public class DevKafkaLauncher {

    private final BridgeConfig.DevKafka config;
    private LocalKafka kafka;

    DevKafkaLauncher(BridgeConfig config) {
        this.config = config.devKafka();
    }

    void start(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent event) throws Exception {
        if (!config.enabled()) {
            return;
        }
        try {
            kafka = LocalKafka.start(config.dataPath().toAbsolutePath(), config.port());
        } catch (Exception e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof BindException) {
                    throw new IllegalStateException("Port " + config.port() + " (bridge.dev-kafka.port) is in use. "
                            + "If a Kafka broker runs there, use it: -Dbridge.dev-kafka.enabled=false "
                            + "-Dkafka.bootstrap.servers=127.0.0.1:" + config.port(), e);
                }
            }
            throw e;
        }
        BridgeLog.LOG.devKafkaStarted(kafka.bootstrapServers(), kafka.dir().toString());
    }

    @PreDestroy
    void stop() {
        if (kafka != null) {
            kafka.close();
            kafka = null;
            BridgeLog.LOG.devKafkaStopped();
        }
    }
}
