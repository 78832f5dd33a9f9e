package io.mqttkafkabridge.broker;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import io.netty.util.concurrent.EventExecutor;

/**
 * MQTT 5 wills with a Will Delay Interval: published that long after the connection ended (or when the session
 * ends, if sooner), unless the client's session resumes first, here or on another replica (MQTT-3.1.3-9). A will
 * still waiting when the bridge stops is not published (the devices reconnect to another replica). Thread-safe.
 */
final class DelayedWills {

    private final Map<String, ScheduledFuture<?>> pending = new ConcurrentHashMap<>();

    /** Publishes {@code will} after {@code delayMillis}, on {@code executor}, unless {@link #resumed} comes first. */
    void schedule(String clientId, long delayMillis, Runnable will, EventExecutor executor) {
        ScheduledFuture<?>[] holder = new ScheduledFuture<?>[1];
        holder[0] = executor.schedule(() -> {
            if (pending.remove(clientId, holder[0])) {
                will.run();
            }
        }, delayMillis, TimeUnit.MILLISECONDS);
        ScheduledFuture<?> previous = pending.put(clientId, holder[0]);
        if (previous != null) {
            previous.cancel(false);
        }
    }

    /** The session of {@code clientId} resumed (a new connection, here or on another replica): its will is not sent. */
    void resumed(String clientId) {
        ScheduledFuture<?> will = clientId == null ? null : pending.remove(clientId);
        if (will != null) {
            will.cancel(false);
        }
    }
}
