package io.mqttkafkabridge.routing;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;

/** Where an uplink route takes the Kafka record's timestamp from ({@code bridge.uplink.routes.<name>.timestamp}). */
public sealed interface TimestampStrategy {

    /**
     * The record's timestamp, epoch milliseconds.
     *
     * @param receivedAt when the bridge received the publish, epoch milliseconds
     * @throws InvalidPayloadException when the timestamp is taken from the payload and it is not there
     */
    long timestampOf(long receivedAt, JsonPayload json);

    /** Parses {@code broker} or {@code json:<pointer>}. */
    static TimestampStrategy parse(String text) {
        String value = text == null ? "" : text.trim();
        if (value.equals("broker")) {
            return new Broker();
        }
        if (value.startsWith("json:")) {
            return new Json(JsonPayload.pointer(value.substring("json:".length())));
        }
        throw new IllegalArgumentException("unknown timestamp '" + value + "'; use broker or json:<pointer>, as in json:/ts");
    }

    /** The time the bridge received the publish. */
    record Broker() implements TimestampStrategy {
        @Override
        public long timestampOf(long receivedAt, JsonPayload json) {
            return receivedAt;
        }

        @Override
        public String toString() {
            return "broker";
        }
    }

    /** A field of the JSON payload: epoch milliseconds (a whole number), or an ISO-8601 instant with offset as a string. */
    record Json(JsonPointer pointer) implements TimestampStrategy {
        @Override
        public long timestampOf(long receivedAt, JsonPayload json) {
            JsonNode node = json.valueAt(pointer, "timestamp");
            long millis;
            if (node.isIntegralNumber() && node.canConvertToLong()) {
                millis = node.longValue();
            } else if (node.isTextual()) {
                millis = parseInstant(node.textValue());
            } else {
                throw new InvalidPayloadException("the timestamp at JSON pointer '" + pointer + "' is " + node
                        + ": neither epoch milliseconds nor an ISO-8601 instant");
            }
            if (millis < 0) {
                throw new InvalidPayloadException("the timestamp at JSON pointer '" + pointer + "' is before 1970 (" + millis
                        + "), which Kafka does not take");
            }
            return millis;
        }

        private long parseInstant(String text) {
            try {
                return Instant.parse(text).toEpochMilli();
            } catch (DateTimeParseException e) {
                try {
                    return OffsetDateTime.parse(text).toInstant().toEpochMilli();
                } catch (DateTimeParseException again) {
                    String shown = text.length() > 64 ? text.substring(0, 64) + "..." : text;
                    throw new InvalidPayloadException("the timestamp at JSON pointer '" + pointer + "' is '" + shown
                            + "': not an ISO-8601 instant such as 2026-12-02T06:30:00Z");
                }
            }
        }

        @Override
        public String toString() {
            return "json:" + pointer;
        }
    }
}
