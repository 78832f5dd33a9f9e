package io.mqttkafkabridge.broker;

import java.lang.reflect.Field;

/**
 * Moquette 0.17's private fields that the broker package reads or replaces ({@link MqttGate}, {@link SessionQueues},
 * {@link InlineInterceptors}); each is registered for the native executable in {@link NativeRegistrations}.
 */
final class MoquetteFields {

    private MoquetteFields() {
    }

    /** The declared field {@code name} of {@code type}, made accessible. */
    static Field field(Class<?> type, String name) throws NoSuchFieldException {
        Field field = type.getDeclaredField(name);
        field.setAccessible(true);
        return field;
    }
}
