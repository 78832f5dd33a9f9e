package io.mqttkafkabridge.broker;

import java.util.concurrent.CompletionStage;

/**
 * Told of each CONNECT with clean session 0 before Moquette sees it: the cluster brings the client's persistent
 * session here first, from the replica that held it, so that the CONNACK says session present 1 and the session's
 * subscriptions and queued messages are here (README, Cluster). Called on the connection's event loop: must return at
 * once and never throw; the stage must complete (the CONNECT waits for it; reading from the connection pauses
 * meanwhile).
 */
@FunctionalInterface
public interface SessionArrivals {

    /** Nothing to bring. */
    SessionArrivals NONE = clientId -> java.util.concurrent.CompletableFuture.completedFuture(null);

    CompletionStage<Void> reopening(String clientId);
}
