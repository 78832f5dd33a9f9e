package io.mqttkafkabridge.config;

import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeSet;

import org.eclipse.microprofile.config.spi.ConfigSource;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory.ConfigurableConfigSourceFactory;
import io.smallrye.config.PropertiesConfigSource;

/**
 * Tells the Kafka connector which topics the {@code downlink} channel reads: the distinct
 * {@code bridge.downlink.routes.*.kafka-topic} values, so topic names are written once, in the routes. With no
 * downlink route the channel is disabled. Values set explicitly under {@code mp.messaging.incoming.downlink.*}
 * win (this source has a low ordinal). SmallRye Config calls this once per configuration build, at build time
 * and at start-up.
 */
public class DownlinkChannelConfigSourceFactory implements ConfigurableConfigSourceFactory<BridgeConfig> {

    static final String TOPICS = "mp.messaging.incoming.downlink.topics";
    static final String ENABLED = "mp.messaging.incoming.downlink.enabled";
    /** Below application.properties (250), environment variables (300) and microprofile-config.properties (100). */
    static final int ORDINAL = 50;

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context, BridgeConfig config) {
        TreeSet<String> topics = new TreeSet<>();
        config.downlink().routes().values().forEach(route -> route.kafkaTopic()
                .map(String::trim).filter(topic -> !topic.isEmpty()).ifPresent(topics::add));
        Map<String, String> channel = topics.isEmpty()
                ? Map.of(ENABLED, "false")
                : Map.of(TOPICS, String.join(",", topics));
        return List.of(new PropertiesConfigSource(channel, "bridge downlink routes", ORDINAL));
    }

    @Override
    public OptionalInt getPriority() {
        return OptionalInt.of(ORDINAL);
    }
}
