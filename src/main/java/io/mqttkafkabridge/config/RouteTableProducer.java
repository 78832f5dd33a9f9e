package io.mqttkafkabridge.config;

import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import io.mqttkafkabridge.metrics.BridgeMetrics;
import io.mqttkafkabridge.routing.RouteSpecs;
import io.mqttkafkabridge.routing.RouteTable;
import io.quarkus.runtime.StartupEvent;

/** Makes the {@link RouteTable} of the configured routes; an invalid route fails start-up. */
@ApplicationScoped
public class RouteTableProducer {

    @Produces
    @Singleton
    RouteTable routeTable(BridgeConfig config) {
        Map<String, RouteSpecs.Uplink> uplink = new LinkedHashMap<>();
        config.uplink().routes().forEach((name, route) -> uplink.put(name, new RouteSpecs.Uplink(
                route.mqttFilter().orElse(null), route.kafkaTopic().orElse(null), route.key().orElse(null),
                route.timestamp().orElse(null))));
        Map<String, RouteSpecs.Downlink> downlink = new LinkedHashMap<>();
        config.downlink().routes().forEach((name, route) -> downlink.put(name, new RouteSpecs.Downlink(
                route.kafkaTopic().orElse(null), route.mqttTopic().orElse(null), route.qos().orElse(null),
                route.retain().orElse(null))));
        return RouteTable.build(uplink, downlink);
    }

    /** Every configured route's counters exist from start-up on, at 0 (Prometheus' advice: no missing series). */
    void registerMeters(@Observes StartupEvent event, RouteTable routes, BridgeMetrics metrics) {
        routes.uplinkRoutes().forEach(route -> metrics.registerUplinkRoute(route.name()));
        routes.downlinkRoutes().forEach(route -> metrics.registerDownlinkRoute(route.name()));
    }
}
