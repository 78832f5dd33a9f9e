package io.mqttkafkabridge.downlink;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;

import io.mqttkafkabridge.config.DownlinkChannelConfigSourceFactory;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.routes.Routes;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import io.smallrye.reactive.messaging.kafka.impl.ReactiveKafkaConsumer;

/**
 * Keeps the {@code downlink} channel's consumer on the Kafka topics of the routes in force. It starts on the topics of
 * the configured routes (a pattern subscription, {@link DownlinkChannelConfigSourceFactory}); when the runtime routes
 * change them, it subscribes the consumer to the new pattern on its polling thread, with the connector's own rebalance
 * listener (offset commits, {@link DownlinkAssignment}), and Kafka rebalances the group: a downlink route on a new
 * topic is read without a restart. Changes are applied on a thread of its own ("downlink-subscription"), a few at once.
 */
@ApplicationScoped
public class DownlinkSubscription {

    private static final String CHANNEL = "downlink";

    private final Routes routes;
    private final KafkaClientService clients;
    private final DownlinkAssignment assignment;
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "downlink-subscription");
        thread.setDaemon(true);
        return thread;
    });
    /** The pattern the consumer is subscribed to (the executor's thread only, after start-up). */
    private String current;

    DownlinkSubscription(Routes routes, KafkaClientService clients,
            @Identifier(DownlinkAssignment.NAME) DownlinkAssignment assignment) {
        this.routes = routes;
        this.clients = clients;
        this.assignment = assignment;
    }

    void start(@Observes StartupEvent event) {
        current = DownlinkChannelConfigSourceFactory.topicPattern(routes.table().downlinkTopics());
        routes.onChange(table -> executor.schedule(this::update, 100, TimeUnit.MILLISECONDS));
        routes.loaded().thenRun(() -> executor.execute(this::update));
    }

    /** Whether the consumer reads the topic now (it was assigned partitions of it). */
    public boolean reads(String topic) {
        return assignment.reads(topic);
    }

    /** Waits until the consumer reads the topic, up to {@code timeout}; false when it does not by then. */
    public boolean awaitReading(String topic, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!assignment.reads(topic)) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private void update() {
        List<String> topics = routes.table().downlinkTopics();
        String pattern = DownlinkChannelConfigSourceFactory.topicPattern(topics);
        if (pattern.equals(current)) {
            return;
        }
        KafkaConsumer<Object, Object> consumer = clients.getConsumer(CHANNEL);
        if (consumer == null) {
            executor.schedule(this::update, 200, TimeUnit.MILLISECONDS); // the channel is still starting
            return;
        }
        ConsumerRebalanceListener listener = consumer instanceof ReactiveKafkaConsumer<?, ?> reactive
                ? reactive.getRebalanceListener()
                : null;
        Pattern compiled = Pattern.compile(pattern);
        try {
            consumer.runOnPollingThread(kafka -> {
                if (listener == null) {
                    kafka.subscribe(compiled);
                } else {
                    kafka.subscribe(compiled, listener);
                }
            }).await().atMost(Duration.ofSeconds(10));
            current = pattern;
        } catch (RuntimeException e) {
            retry(topics, String.valueOf(e));
        }
    }

    private void retry(List<String> topics, String reason) {
        BridgeLog.LOG.downlinkResubscribeFailed(topics.toString(), reason);
        executor.schedule(this::update, 1, TimeUnit.SECONDS);
    }

    @PreDestroy
    void stop() {
        executor.shutdownNow();
    }
}
