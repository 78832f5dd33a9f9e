package io.mqttkafkabridge.broker;

import java.lang.reflect.Field;

/**
 * Moquette 0.17's private fields that the broker package reads or replaces ({@link MqttGate}, {@link SessionQueues},
 * {@link InlineInterceptors}); each is registered for the native executable in {@link NativeRegistrations}.
 */
final class MoquetteFields {

    private MoquetteFields() {
    }

    /** The post office ({@code Server.dispatcher}) of a started broker: session loops, retained store, subscriptions. */
    static Object postOffice(io.moquette.broker.Server moquette) throws ReflectiveOperationException {
        return field(io.moquette.broker.Server.class, "dispatcher").get(moquette);
    }

    /** Moquette's subscription tree (thread-safe), from the post office of a started broker. */
    static io.moquette.broker.subscriptions.ISubscriptionsDirectory subscriptions(io.moquette.broker.Server moquette) {
        try {
            Object postOffice = postOffice(moquette);
            return (io.moquette.broker.subscriptions.ISubscriptionsDirectory) field(postOffice.getClass(), "subscriptions")
                    .get(postOffice);
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalStateException("cannot read Moquette's subscription tree (a Moquette version other than 0.17?): " + e, e);
        }
    }

    /** Every (client id, topic filter, QoS) in Moquette's subscription store: persistent sessions' subscriptions after a restart. */
    static java.util.List<String[]> storedSubscriptions(io.moquette.broker.Server moquette) {
        try {
            Object directory = subscriptions(moquette);
            Object repository = field(directory.getClass(), "subscriptionsRepository").get(directory);
            java.util.List<String[]> all = new java.util.ArrayList<>();
            for (io.moquette.broker.subscriptions.Subscription s
                    : ((io.moquette.broker.ISubscriptionsRepository) repository).listAllSubscriptions()) {
                all.add(new String[] {s.getClientId(), s.getTopicFilter().toString(), Integer.toString(s.getRequestedQos().value())});
            }
            return all;
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalStateException("cannot read Moquette's stored subscriptions (a Moquette version other than 0.17?): " + e, e);
        }
    }

    /** The declared field {@code name} of {@code type}, made accessible. */
    static Field field(Class<?> type, String name) throws NoSuchFieldException {
        Field field = type.getDeclaredField(name);
        field.setAccessible(true);
        return field;
    }
}
