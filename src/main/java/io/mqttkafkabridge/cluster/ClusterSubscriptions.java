package io.mqttkafkabridge.cluster;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.mqttkafkabridge.routing.TopicTree;

/**
 * Topic filters, two ways. Local: the filters this replica's sessions hold, counted per client so that a filter is
 * announced when its first holder subscribes and withdrawn when its last one goes (changed on the cluster's writer
 * thread only). Remote: the other replicas' filters from {@code <name>.subscriptions}, in a {@link TopicTree} that
 * tells which replicas want a publish (written by the state reader, read by the journal reader and REST threads).
 */
final class ClusterSubscriptions {

    private final String self;
    private final TopicTree<String> remote = new TopicTree<>();
    private final Map<String, Integer> localCounts = new HashMap<>();
    /** Each client's filters here, with the QoS it asked for. */
    private final Map<String, Map<String, Integer>> byClient = new HashMap<>();
    /** This replica's filters as {@code <name>.subscriptions} held them at start-up. */
    private final Set<String> recordedOwn = ConcurrentHashMap.newKeySet();
    private volatile int localSize;
    /** The filters of sessions handed over lately, with where they went ({@link #moved}). */
    private final TopicTree<Moved> moved = new TopicTree<>();
    private final java.util.List<Moved> movedOrder = new java.util.ArrayList<>();

    /** A session handed over to {@code node}, its filters, and until when publishes for them are relayed there. */
    private record Moved(String clientId, String node, java.util.List<String> filters, long until) {
    }

    ClusterSubscriptions(String self) {
        this.self = self;
    }

    // ---- remote (state reader thread) ----

    /** A record of {@code <name>.subscriptions}; {@code present} false for a tombstone. */
    void record(String node, String filter, boolean present) {
        if (node.equals(self)) {
            if (present) {
                recordedOwn.add(filter);
            } else {
                recordedOwn.remove(filter);
            }
            return;
        }
        synchronized (remote) {
            if (present) {
                remote.add(filter, node);
            } else {
                remote.remove(filter, node);
            }
        }
    }

    /**
     * A client's session record changed: {@code node} holds it now, or null when it ended (expired, or a clean
     * session replaced it). What was passed on for its move to another replica stops.
     */
    void movedClientChanged(String clientId, String node) {
        synchronized (moved) {
            if (movedOrder.isEmpty()) {
                return;
            }
            movedOrder.removeIf(entry -> {
                if (!entry.clientId().equals(clientId) || entry.node().equals(node)) {
                    return false;
                }
                entry.filters().forEach(filter -> moved.remove(filter, entry));
                return true;
            });
        }
    }

    /** The other replicas with a filter matching {@code topic}. */
    Set<String> targets(String topic) {
        synchronized (remote) {
            return remote.match(topic);
        }
    }

    int remoteSize() {
        synchronized (remote) {
            return remote.size();
        }
    }

    Set<String> recordedOwn() {
        return recordedOwn;
    }

    // ---- sessions handed over (writer thread writes; readers of targets read) ----

    /**
     * A session went to {@code node}: for {@code graceMillis}, publishes matching its filters go there too. A replica
     * that has not yet read the new replica's subscription record (milliseconds, seconds when it is loaded) sends
     * them here only, where the session is gone: this replica passes them on.
     */
    void moved(String clientId, String node, java.util.Collection<String> filters, long graceMillis) {
        Moved entry = new Moved(clientId, node, java.util.List.copyOf(filters), System.currentTimeMillis() + graceMillis);
        synchronized (moved) {
            entry.filters().forEach(filter -> moved.add(filter, entry));
            movedOrder.add(entry);
        }
    }

    /** Forgets the moves older than their grace (heartbeat, writer thread). */
    void expireMoved() {
        long now = System.currentTimeMillis();
        synchronized (moved) {
            movedOrder.removeIf(entry -> {
                if (entry.until() >= now) {
                    return false;
                }
                entry.filters().forEach(filter -> moved.remove(filter, entry));
                return true;
            });
        }
    }

    /** The replicas sessions matching {@code topic} were handed over to lately. */
    Set<String> movedTo(String topic) {
        synchronized (moved) {
            if (movedOrder.isEmpty()) {
                return Set.of();
            }
            Set<String> nodes = new HashSet<>();
            moved.match(topic).forEach(entry -> nodes.add(entry.node()));
            return nodes;
        }
    }

    // ---- local (writer thread) ----

    /** Returns true when {@code filter} is new on this replica (announce it). */
    boolean subscribed(String clientId, String filter) {
        return subscribed(clientId, filter, 1);
    }

    /** Returns true when {@code filter} is new on this replica (announce it); a client subscribing again changes its QoS. */
    boolean subscribed(String clientId, String filter, int qos) {
        if (byClient.computeIfAbsent(clientId, c -> new HashMap<>()).put(filter, qos) != null) {
            return false;
        }
        boolean first = localCounts.merge(filter, 1, Integer::sum) == 1;
        localSize = localCounts.size();
        return first;
    }

    /** Returns true when no session here holds {@code filter} any more (withdraw it). */
    boolean unsubscribed(String clientId, String filter) {
        Map<String, Integer> filters = byClient.get(clientId);
        if (filters == null || filters.remove(filter) == null) {
            return false;
        }
        if (filters.isEmpty()) {
            byClient.remove(clientId);
        }
        return release(filter);
    }

    /** A session's subscriptions are gone (clean session ended or replaced); returns the filters to withdraw. */
    Set<String> sessionGone(String clientId) {
        Map<String, Integer> filters = byClient.remove(clientId);
        Set<String> withdrawn = new HashSet<>();
        if (filters != null) {
            for (String filter : filters.keySet()) {
                if (release(filter)) {
                    withdrawn.add(filter);
                }
            }
        }
        return withdrawn;
    }

    private boolean release(String filter) {
        Integer left = localCounts.computeIfPresent(filter, (f, n) -> n == 1 ? null : n - 1);
        localSize = localCounts.size();
        return left == null;
    }

    /** A client's filters here with their QoS (empty when none). */
    Map<String, Integer> of(String clientId) {
        Map<String, Integer> filters = byClient.get(clientId);
        return filters == null ? Map.of() : new java.util.TreeMap<>(filters);
    }

    Set<String> localFilters() {
        return localCounts.keySet();
    }

    int localSize() {
        return localSize;
    }
}
