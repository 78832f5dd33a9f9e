package io.mqttkafkabridge.routing;

import java.io.IOException;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The payload of one publish read as JSON, at most once however many routes and fields look into it (Jackson's tree
 * model; RFC 6901 pointers). Used by one thread.
 */
public final class JsonPayload {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** Jackson's messages quote the input; a device's payload is cut to this in the reason. */
    private static final int MAX_REASON = 200;

    private final byte[] bytes;
    private JsonNode root;
    private String notJson;

    public JsonPayload(byte[] bytes) {
        this.bytes = bytes;
    }

    /**
     * The value at {@code pointer}: a string, number or boolean.
     *
     * @param what what the route takes from it ("key", "timestamp"), for the reason
     * @throws InvalidPayloadException when the payload is not JSON or has no such value
     */
    public JsonNode valueAt(JsonPointer pointer, String what) {
        JsonNode node = root().at(pointer);
        if (node.isMissingNode() || node.isNull()) {
            throw new InvalidPayloadException("the payload has no " + what + " at JSON pointer '" + pointer + "'");
        }
        if (node.isContainerNode()) {
            throw new InvalidPayloadException("the " + what + " at JSON pointer '" + pointer + "' is an "
                    + (node.isObject() ? "object" : "array") + ", not a value");
        }
        return node;
    }

    private JsonNode root() {
        if (root == null && notJson == null) {
            try {
                JsonNode parsed = MAPPER.readTree(bytes);
                if (parsed == null || parsed.isMissingNode()) {
                    notJson = "the payload is empty, not JSON";
                } else {
                    root = parsed;
                }
            } catch (IOException e) {
                String message = String.valueOf(e instanceof JsonProcessingException json ? json.getOriginalMessage() : e.getMessage());
                notJson = "the payload is not JSON: " + (message.length() > MAX_REASON ? message.substring(0, MAX_REASON) + "..." : message);
            }
        }
        if (notJson != null) {
            throw new InvalidPayloadException(notJson);
        }
        return root;
    }

    /** An RFC 6901 pointer, as written after {@code json:}. */
    static JsonPointer pointer(String text) {
        if (text.isEmpty() || text.charAt(0) != '/') {
            throw new IllegalArgumentException("'" + text + "' is not a JSON pointer (RFC 6901): it starts with '/', as in /deviceId");
        }
        return JsonPointer.compile(text);
    }
}
