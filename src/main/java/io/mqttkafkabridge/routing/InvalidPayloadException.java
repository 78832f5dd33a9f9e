package io.mqttkafkabridge.routing;

/**
 * The payload of a publish lacks what an uplink route takes from it (a key or a timestamp under a JSON pointer): it is
 * not JSON, or the field is missing or of the wrong kind. The record then follows the uplink's dead-letter rule.
 */
public class InvalidPayloadException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public InvalidPayloadException(String message) {
        super(message, null, false, false);
    }
}
