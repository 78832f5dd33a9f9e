package io.mqttkafkabridge.routes;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import io.mqttkafkabridge.config.BridgeConfig;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.metrics.BridgeMetrics;
import io.mqttkafkabridge.routing.DownlinkRoute;
import io.mqttkafkabridge.routing.RouteConfigurationException;
import io.mqttkafkabridge.routing.RouteSpecs;
import io.mqttkafkabridge.routing.RouteTable;
import io.mqttkafkabridge.routing.UplinkRoute;
import io.quarkus.runtime.StartupEvent;

/**
 * Every route in force: those of the configuration ({@code static}: they fail start-up when invalid and cannot be
 * changed at run time) and those added through the API ({@code runtime}, kept in Kafka by {@link RouteStore}). The
 * {@link RouteTable} is rebuilt on each change and swapped in whole, so a reader (the journal reader, the downlink
 * consumer, the API) always sees one consistent table, at the cost of one volatile read. Thread-safe.
 */
@Singleton
public class Routes {

    /** Where a route comes from. */
    public enum Origin {
        STATIC, RUNTIME;

        public String label() {
            return this == STATIC ? "static" : "runtime";
        }
    }

    private final Map<String, RouteSpecs.Uplink> staticUplink = new TreeMap<>();
    private final Map<String, RouteSpecs.Downlink> staticDownlink = new TreeMap<>();
    private final Map<String, RouteSpecs.Uplink> runtimeUplink = new TreeMap<>();
    private final Map<String, RouteSpecs.Downlink> runtimeDownlink = new TreeMap<>();
    private final Map<String, Map<String, String>> runtimeKeys = new TreeMap<>();
    private final List<Consumer<RouteTable>> listeners = new CopyOnWriteArrayList<>();
    private final BridgeMetrics metrics;
    private final java.util.concurrent.CompletableFuture<Void> loaded = new java.util.concurrent.CompletableFuture<>();
    private volatile RouteTable table;

    /** @throws RouteConfigurationException when a configured route is invalid: start-up fails, naming every key */
    Routes(BridgeConfig config, BridgeMetrics metrics) {
        this.metrics = metrics;
        config.uplink().routes().forEach((name, route) -> staticUplink.put(name, new RouteSpecs.Uplink(
                route.mqttFilter().orElse(null), route.kafkaTopic().orElse(null), route.key().orElse(null),
                route.timestamp().orElse(null))));
        config.downlink().routes().forEach((name, route) -> staticDownlink.put(name, new RouteSpecs.Downlink(
                route.kafkaTopic().orElse(null), route.mqttTopic().orElse(null), route.qos().orElse(null),
                route.retain().orElse(null), route.userProperties().orElse(null), route.messageExpiry().orElse(null))));
        this.table = RouteTable.build(staticUplink, staticDownlink);
    }

    /** Every configured route's counters exist from start-up on, at 0 (Prometheus' advice: no missing series). */
    void registerMeters(@Observes StartupEvent event) {
        RouteTable current = table;
        current.uplinkRoutes().forEach(route -> metrics.registerUplinkRoute(route.name()));
        current.downlinkRoutes().forEach(route -> metrics.registerDownlinkRoute(route.name()));
    }

    /**
     * Completes once the runtime routes saved before this start are in force ({@link RouteStore}), or known to be
     * unavailable.
     */
    public java.util.concurrent.CompletionStage<Void> loaded() {
        return loaded;
    }

    void markLoaded() {
        loaded.complete(null);
    }

    /** The routes in force now. */
    public RouteTable table() {
        return table;
    }

    public Origin origin(Direction direction, String name) {
        return isStatic(direction, name) ? Origin.STATIC : Origin.RUNTIME;
    }

    public synchronized boolean isStatic(Direction direction, String name) {
        return (direction == Direction.UPLINK ? staticUplink : staticDownlink).containsKey(name);
    }

    /** Whether a runtime route of that name is in force. */
    public synchronized boolean hasRuntime(Direction direction, String name) {
        return (direction == Direction.UPLINK ? runtimeUplink : runtimeDownlink).containsKey(name);
    }

    /** Told of every new table (after a runtime change), on the thread that made the change. */
    public void onChange(Consumer<RouteTable> listener) {
        listeners.add(listener);
    }

    /**
     * Validates a route alone, exactly as start-up validates the configuration.
     *
     * @return the table holding that route only
     * @throws RouteConfigurationException naming each key that is wrong
     */
    public static RouteTable validate(Direction direction, String name, Map<String, String> keys) {
        return direction == Direction.UPLINK
                ? RouteTable.build(Map.of(name, RouteKeys.uplink(keys)), Map.of())
                : RouteTable.build(Map.of(), Map.of(name, RouteKeys.downlink(name, keys)));
    }

    /**
     * A runtime route as the routes topic holds it ({@code keys} null: deleted). A route a configured one shadows, or
     * that is invalid (written by another version, say), is left out with a log line.
     *
     * @return true when the table changed
     */
    synchronized boolean applyRuntime(Direction direction, String name, Map<String, String> keys) {
        if (isStatic(direction, name)) {
            if (keys != null) {
                BridgeLog.LOG.runtimeRouteShadowed(direction.label(), name);
            }
            return false;
        }
        String id = direction.label() + "/" + name;
        if (keys == null) {
            if (runtimeKeys.remove(id) == null) {
                return false;
            }
            (direction == Direction.UPLINK ? runtimeUplink : runtimeDownlink).remove(name);
            metrics.removeRoute(direction.label(), name);
        } else {
            if (keys.equals(runtimeKeys.get(id))) {
                return false;
            }
            try {
                validate(direction, name, keys);
                if (direction == Direction.UPLINK) {
                    runtimeUplink.put(name, RouteKeys.uplink(keys));
                } else {
                    runtimeDownlink.put(name, RouteKeys.downlink(name, keys));
                }
            } catch (RouteConfigurationException e) {
                BridgeLog.LOG.runtimeRouteInvalid(direction.label(), name, String.join("; ", e.problems()));
                return false;
            }
            runtimeKeys.put(id, Map.copyOf(keys));
            if (direction == Direction.UPLINK) {
                metrics.registerUplinkRoute(name);
            } else {
                metrics.registerDownlinkRoute(name);
            }
        }
        Map<String, RouteSpecs.Uplink> uplink = new TreeMap<>(runtimeUplink);
        uplink.putAll(staticUplink);
        Map<String, RouteSpecs.Downlink> downlink = new TreeMap<>(runtimeDownlink);
        downlink.putAll(staticDownlink);
        RouteTable next = RouteTable.build(uplink, downlink);
        table = next;
        listeners.forEach(listener -> listener.accept(next));
        return true;
    }

    /** How many runtime routes are in force. */
    public synchronized int runtimeCount() {
        return runtimeKeys.size();
    }

    /** The keys of a runtime route as saved, or null. */
    public synchronized Map<String, String> runtimeKeys(Direction direction, String name) {
        return runtimeKeys.get(direction.label() + "/" + name);
    }

    /** An uplink route in force, by name, or null. */
    public UplinkRoute uplink(String name) {
        return table.uplinkRoutes().stream().filter(route -> route.name().equals(name)).findFirst().orElse(null);
    }

    /** A downlink route in force, by name, or null. */
    public DownlinkRoute downlink(String name) {
        return table.downlinkRoutes().stream().filter(route -> route.name().equals(name)).findFirst().orElse(null);
    }
}
