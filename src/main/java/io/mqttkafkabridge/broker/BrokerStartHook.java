package io.mqttkafkabridge.broker;

/**
 * Work the broker waits for before it listens, and is told of once it listens, before it takes clients: the
 * cluster's shared state. A CDI bean; {@link EmbeddedBroker} calls every one in this order, on the start-up thread,
 * or on a thread of its own when one {@link #waitsForKafka}.
 */
public interface BrokerStartHook {

    /** Before the broker starts: may block (load state from Kafka); an exception fails the start with its message. */
    void beforeStart();

    /** Whether {@link #beforeStart} waits for Kafka, for minutes if need be. */
    default boolean waitsForKafka() {
        return false;
    }

    /** The broker runs and refuses CONNECTs (CONNACK 3) until this returns: apply what was loaded. */
    void started(EmbeddedBroker broker);

    /**
     * After {@link #beforeStart}: client ids whose persistent session, if the broker's store still holds it, now lives
     * elsewhere (another replica). The broker does not expire them; the hook hands them over or drops them.
     */
    default java.util.Set<String> sessionsHeldElsewhere() {
        return java.util.Set.of();
    }
}
