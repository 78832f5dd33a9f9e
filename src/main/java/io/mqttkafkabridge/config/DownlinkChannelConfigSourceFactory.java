package io.mqttkafkabridge.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeSet;

import org.eclipse.microprofile.config.spi.ConfigSource;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory.ConfigurableConfigSourceFactory;
import io.smallrye.config.PropertiesConfigSource;

/**
 * Tells the Kafka connector which topics the {@code downlink} channel reads: the distinct
 * {@code bridge.downlink.routes.*.kafka-topic} values, so topic names are written once, in the routes. With no
 * downlink route the channel is disabled. Its consumer group is {@code bridge.downlink.group-id}, by default one
 * per host so every replica sees every record. Values set explicitly under {@code mp.messaging.incoming.downlink.*}
 * win (this source has a low ordinal). SmallRye Config calls this once per configuration build, at build time
 * and at start-up.
 */
public class DownlinkChannelConfigSourceFactory implements ConfigurableConfigSourceFactory<DownlinkChannelConfigSourceFactory.DownlinkSettings> {

    static final String TOPICS = "mp.messaging.incoming.downlink.topics";
    static final String ENABLED = "mp.messaging.incoming.downlink.enabled";
    static final String GROUP_ID = "mp.messaging.incoming.downlink.group.id";
    /** Below application.properties (250), environment variables (300) and microprofile-config.properties (100). */
    static final int ORDINAL = 50;

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context, DownlinkSettings config) {
        TreeSet<String> topics = new TreeSet<>();
        config.routes().values().forEach(route -> route.kafkaTopic()
                .map(String::trim).filter(topic -> !topic.isEmpty()).ifPresent(topics::add));
        Map<String, String> channel = new HashMap<>();
        if (topics.isEmpty()) {
            channel.put(ENABLED, "false");
        } else {
            channel.put(TOPICS, String.join(",", topics));
        }
        channel.put(GROUP_ID, config.groupId().orElseGet(() -> "mqtt-kafka-bridge-" + hostName()));
        return List.of(new PropertiesConfigSource(channel, "bridge downlink routes", ORDINAL));
    }

    /** The pod name in Kubernetes (HOSTNAME), else the host's name. */
    static String hostName() {
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

    /**
     * The part of {@link BridgeConfig} this factory reads, all as text: the factory runs on a bare SmallRye Config
     * without Quarkus's converters, and the full mapping validates the values anyway.
     */
    @ConfigMapping(prefix = "bridge.downlink")
    public interface DownlinkSettings {
        Map<String, Route> routes();

        Optional<String> groupId();

        /** {@code bridge.downlink.routes.<name>.*} */
        interface Route {
            Optional<String> kafkaTopic();

            Optional<String> mqttTopic();

            Optional<String> qos();

            Optional<String> retain();
        }
    }
}
