package io.mqttkafkabridge.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * An MQTT topic template for downlink routes, such as {@code devices/{key}/commands}. Placeholders:
 * {@code {key}}, {@code {header:NAME}}, {@code {kafka-topic}} and {@code {partition}}. Immutable and thread-safe.
 */
public final class TopicTemplate {

    private final String text;
    private final List<Part> parts;

    private TopicTemplate(String text, List<Part> parts) {
        this.text = text;
        this.parts = parts;
    }

    /**
     * @throws IllegalArgumentException naming the unknown placeholder, the unbalanced brace or the wildcard
     */
    public static TopicTemplate parse(String template) {
        if (template == null || template.isEmpty()) {
            throw new IllegalArgumentException("the MQTT topic template is empty");
        }
        List<Part> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < template.length()) {
            char c = template.charAt(i);
            if (c == '}') {
                throw new IllegalArgumentException("unbalanced '}' at position " + i + " in '" + template + "'");
            }
            if (c != '{') {
                literal.append(c);
                i++;
                continue;
            }
            int end = template.indexOf('}', i);
            int nextOpen = template.indexOf('{', i + 1);
            if (end < 0 || (nextOpen >= 0 && nextOpen < end)) {
                throw new IllegalArgumentException("unclosed '{' at position " + i + " in '" + template + "'");
            }
            if (literal.length() > 0) {
                parts.add(new Literal(literal.toString()));
                literal.setLength(0);
            }
            parts.add(placeholder(template.substring(i + 1, end), template));
            i = end + 1;
        }
        if (literal.length() > 0) {
            parts.add(new Literal(literal.toString()));
        }
        for (Part part : parts) {
            if (part instanceof Literal l && (l.text.contains("+") || l.text.contains("#"))) {
                throw new IllegalArgumentException("'" + template + "' contains a wildcard ('+' or '#'); "
                        + "a topic a message is published to cannot have one");
            }
        }
        TopicNames.checkCommon(template);
        return new TopicTemplate(template, List.copyOf(parts));
    }

    private static Part placeholder(String name, String template) {
        switch (name) {
            case "key":
                return new Key();
            case "kafka-topic":
                return new KafkaTopic();
            case "partition":
                return new Partition();
            default:
                if (name.startsWith("header:") && name.length() > "header:".length()) {
                    return new Header(name.substring("header:".length()));
                }
                throw new IllegalArgumentException("unknown placeholder '{" + name + "}' in '" + template
                        + "'; use {key}, {header:NAME}, {kafka-topic} or {partition}");
        }
    }

    /**
     * Fills the template from a Kafka record. Never throws: a record the template cannot be filled from, or
     * whose result is not a valid MQTT topic name, gives a {@link Result} with the reason.
     */
    public Result render(KafkaRecordView record) {
        StringBuilder topic = new StringBuilder(text.length() + 32);
        for (Part part : parts) {
            String value = part.value(record);
            if (value == null) {
                return Result.dropped(part.missingReason());
            }
            topic.append(value);
        }
        String result = topic.toString();
        String invalid = TopicNames.invalidNameReason(result);
        return invalid == null ? Result.ok(result) : Result.dropped(invalid + ": '" + result + "'");
    }

    @Override
    public String toString() {
        return text;
    }

    /** What a template needs to know of a Kafka record. */
    public interface KafkaRecordView {
        String kafkaTopic();

        int partition();

        /** The record key as text, or {@code null} when the record has none (or an empty one). */
        String key();

        /** The last header of that name as text, or {@code null} when there is none (or it is empty). */
        String header(String name);

        /**
         * A record view where an empty key or header counts as missing (it would leave an empty topic level).
         *
         * @param headers the last header of a name as text, or {@code null}
         */
        static KafkaRecordView of(String kafkaTopic, int partition, String key, Function<String, String> headers) {
            String recordKey = key == null || key.isEmpty() ? null : key;
            return new KafkaRecordView() {
                @Override
                public String kafkaTopic() {
                    return kafkaTopic;
                }

                @Override
                public int partition() {
                    return partition;
                }

                @Override
                public String key() {
                    return recordKey;
                }

                @Override
                public String header(String name) {
                    String value = headers.apply(name);
                    return value == null || value.isEmpty() ? null : value;
                }
            };
        }
    }

    /** Either a topic name or the reason the record cannot be published. */
    public record Result(String topic, String dropReason) {
        static Result ok(String topic) {
            return new Result(topic, null);
        }

        static Result dropped(String reason) {
            return new Result(null, reason);
        }

        public boolean isDropped() {
            return topic == null;
        }
    }

    private sealed interface Part {
        String value(KafkaRecordView record);

        default String missingReason() {
            return "";
        }
    }

    private record Literal(String text) implements Part {
        @Override
        public String value(KafkaRecordView record) {
            return text;
        }
    }

    private record Key() implements Part {
        @Override
        public String value(KafkaRecordView record) {
            return record.key();
        }

        @Override
        public String missingReason() {
            return "the record has no key (or an empty one) for {key}";
        }
    }

    private record Header(String name) implements Part {
        @Override
        public String value(KafkaRecordView record) {
            return record.header(name);
        }

        @Override
        public String missingReason() {
            return "the record has no header '" + name + "' (or an empty one) for {header:" + name + "}";
        }
    }

    private record KafkaTopic() implements Part {
        @Override
        public String value(KafkaRecordView record) {
            return record.kafkaTopic();
        }
    }

    private record Partition() implements Part {
        @Override
        public String value(KafkaRecordView record) {
            return Integer.toString(record.partition());
        }
    }
}
