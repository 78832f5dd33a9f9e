package io.mqttkafkabridge.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeSet;
import java.util.regex.Pattern;

import org.eclipse.microprofile.config.spi.ConfigSource;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.PropertiesConfigSource;

/**
 * Tells the Kafka connector which topics the {@code downlink} channel reads: the distinct
 * {@code bridge.downlink.routes.*.kafka-topic} values, so topic names are written once, in the routes, as a pattern
 * that matches exactly those ({@link #topicPattern}); the runtime routes add theirs after start-up. Its consumer group is {@code bridge.downlink.group-id}, by default one
 * per replica (its {@code bridge.cluster.node-id}, by default the host name) so every replica sees every record, with
 * the same name as static member id. Values set explicitly under {@code mp.messaging.incoming.downlink.*}
 * win (this source has a low ordinal). SmallRye Config calls this once per configuration build, at build time
 * and at start-up; it reads route names as properties ({@code bridge.downlink.routes.<name>.kafka-topic}, with an
 * active profile prefix or none) and as environment variables ({@code BRIDGE_DOWNLINK_ROUTES_<NAME>_KAFKA_TOPIC}).
 */
public class DownlinkChannelConfigSourceFactory implements ConfigSourceFactory {

    static final String TOPIC = "mp.messaging.incoming.downlink.topic";
    static final String PATTERN = "mp.messaging.incoming.downlink.pattern";
    static final String ENABLED = "mp.messaging.incoming.downlink.enabled";
    static final String GROUP_ID = "mp.messaging.incoming.downlink.group.id";
    static final String GROUP_INSTANCE_ID = "mp.messaging.incoming.downlink.group.instance.id";
    /**
     * Below application.properties (250), environment variables (300) and system properties (400), so a user's
     * explicit mp.messaging.incoming.downlink.* wins.
     */
    static final int ORDINAL = 50;

    private static final Pattern PROPERTY = Pattern.compile("bridge\\.downlink\\.routes\\.[^.]+\\.kafka-topic");
    private static final Pattern PROFILED = Pattern.compile("%([^.]+)\\.(bridge\\.downlink\\.routes\\.[^.]+\\.kafka-topic)");
    private static final Pattern ENVIRONMENT = Pattern.compile("BRIDGE_DOWNLINK_ROUTES_[A-Z0-9_]+_KAFKA_TOPIC");

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        List<String> profiles = context.getProfiles();
        TreeSet<String> topics = new TreeSet<>();
        for (Iterator<String> names = context.iterateNames(); names.hasNext();) {
            String name = names.next();
            String lookup = null;
            if (PROPERTY.matcher(name).matches() || ENVIRONMENT.matcher(name).matches()) {
                lookup = name;
            } else {
                java.util.regex.Matcher profiled = PROFILED.matcher(name);
                if (profiled.matches() && profiles.contains(profiled.group(1))) {
                    lookup = profiled.group(2);
                }
            }
            if (lookup != null) {
                ConfigValue value = context.getValue(lookup);
                if (value != null && value.getValue() != null && !value.getValue().isBlank()) {
                    topics.add(value.getValue().trim());
                }
            }
        }
        Map<String, String> channel = new HashMap<>();
        // always explicit: Quarkus keeps the values it saw at build time as defaults, routes given only at run time
        // (environment variables of a container) must override them. Always on, and by pattern: the runtime routes
        // (read from Kafka after start-up) change the topics without a restart (DownlinkSubscription).
        channel.put(ENABLED, "true");
        channel.put(PATTERN, "true");
        channel.put(TOPIC, topicPattern(topics));
        ConfigValue configured = context.getValue("bridge.downlink.group-id");
        ConfigValue node = context.getValue("bridge.cluster.node-id");
        String groupId = configured != null && configured.getValue() != null && !configured.getValue().isBlank()
                ? configured.getValue().trim()
                : "mqtt-kafka-bridge-" + (node != null && node.getValue() != null && !node.getValue().isBlank()
                        ? node.getValue().trim()
                        : hostName());
        channel.put(GROUP_ID, groupId);
        // static membership: an instance restarted after a crash takes its partitions back at once, instead of
        // waiting for the dead member's session to time out (45 s)
        channel.put(GROUP_INSTANCE_ID, groupId);
        return List.of(new PropertiesConfigSource(channel, "bridge downlink routes", ORDINAL));
    }

    /**
     * The regular expression that matches exactly these Kafka topics (none: a pattern that matches no topic), as the
     * consumer's pattern subscription takes it.
     */
    public static String topicPattern(java.util.Collection<String> topics) {
        if (topics.isEmpty()) {
            return "(?!)";
        }
        return topics.stream().sorted().map(java.util.regex.Pattern::quote).collect(java.util.stream.Collectors.joining("|"));
    }

    /** The pod name in Kubernetes (HOSTNAME), else the host's name. */
    public static String hostName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env.trim();
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException | RuntimeException e) {
            return "localhost";
        }
    }

    @Override
    public OptionalInt getPriority() {
        return OptionalInt.of(ORDINAL);
    }
}
