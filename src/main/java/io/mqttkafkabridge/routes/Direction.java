package io.mqttkafkabridge.routes;

import java.util.Locale;
import java.util.Optional;

/** Uplink (MQTT → Kafka) or downlink (Kafka → MQTT): two name spaces of routes. */
public enum Direction {
    UPLINK, DOWNLINK;

    /** As in the API's paths and the configuration's keys: {@code uplink}, {@code downlink}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<Direction> of(String label) {
        for (Direction direction : values()) {
            if (direction.label().equals(label)) {
                return Optional.of(direction);
            }
        }
        return Optional.empty();
    }
}
