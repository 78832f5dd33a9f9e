package io.mqttkafkabridge.cluster;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import io.mqttkafkabridge.broker.ClientTracker;
import io.mqttkafkabridge.broker.EmbeddedBroker;
import io.mqttkafkabridge.metrics.BridgeLog;

/**
 * The clients of the cluster through {@code <name>.sessions}, and this replica's part of it: each connection here
 * writes its client id, replica and a nonce; the broker's subscription changes update the record and the replica's
 * filters ({@link ClusterSubscriptions}). When this replica reads, after its own record for a connection, another
 * one for the same client id, a newer connection exists: it closes its own (MQTT-3.1.4-2, cluster-wide). A tombstone
 * of a client still connected here (a race with a departure elsewhere) is answered with the record again.
 * <p>Threads: the broker's callbacks run on its session loops and only queue work for the writer thread;
 * {@link #record} runs on the state reader; the views are read by REST threads.
 */
final class ClusterSessions implements ClientTracker.Listener {

    private final String self;
    private final ClusterTopics topics;
    private final ClusterSubscriptions subscriptions;
    private final ClusterMembers members;
    private final ClusterWriter writer;
    private final EmbeddedBroker broker;
    /** Every client the sessions topic says is connected somewhere, by client id. */
    private final Map<String, ClusterRecords.Session> sessions;
    /** This replica's connections, by client id. */
    private final Map<String, LocalConnection> locals = new ConcurrentHashMap<>();

    /** One connection of this replica: its record (with its nonce), and whether that record has come back. */
    private static final class LocalConnection {
        final ClusterRecords.Session record;
        volatile boolean seen;

        LocalConnection(ClusterRecords.Session record) {
            this.record = record;
        }
    }

    ClusterSessions(String self, ClusterTopics topics, ClusterSubscriptions subscriptions, ClusterMembers members,
            ClusterWriter writer, EmbeddedBroker broker, Map<String, ClusterRecords.Session> loaded) {
        this.self = self;
        this.topics = topics;
        this.subscriptions = subscriptions;
        this.members = members;
        this.writer = writer;
        this.broker = broker;
        this.sessions = loaded;
    }

    /**
     * At start: the subscriptions persistent sessions kept across a restart, what {@code <name>.subscriptions} says of
     * this replica that is no longer true, and the sessions records a crash left behind.
     */
    void reconcile(List<String[]> stored, Set<String> recordedFilters) {
        List<String> leftOver = sessions.values().stream().filter(s -> s.node().equals(self))
                .map(ClusterRecords.Session::clientId).toList();
        writer.submit(() -> {
            stored.forEach(subscription -> subscriptions.subscribed(subscription[0], subscription[1]));
            Set<String> current = Set.copyOf(subscriptions.localFilters());
            recordedFilters.stream().filter(f -> !current.contains(f)).forEach(this::withdraw);
            current.stream().filter(f -> !recordedFilters.contains(f)).forEach(this::announce);
            leftOver.stream().filter(client -> !locals.containsKey(client)).forEach(client -> writer.send(topics.sessions(), client, null));
        });
    }

    // ---- the state reader

    void record(String clientId, ClusterRecords.Session record) {
        if (record == null) {
            sessions.remove(clientId);
        } else {
            sessions.put(clientId, record);
        }
        LocalConnection local = locals.get(clientId);
        if (local == null) {
            return;
        }
        if (record == null) {
            if (local.seen) {
                writer.submit(() -> {
                    if (locals.get(clientId) == local) {
                        writer.send(topics.sessions(), clientId, ClusterRecords.write(local.record)); // still here
                    }
                });
            }
        } else if (record.node().equals(self) && record.nonce().equals(local.record.nonce())) {
            local.seen = true;
        } else if (local.seen && locals.remove(clientId, local)) {
            // a newer connection with this client id, on another replica (or a newer one here, which Moquette closed)
            BridgeLog.LOG.clusterTakeover(clientId, record.node());
            if (!record.node().equals(self)) {
                broker.disconnect(clientId);
            }
        }
    }

    // ---- the broker's callbacks (session loops)

    @Override
    public void connected(String clientId, String username, boolean cleanSession) {
        writer.submit(() -> {
            if (cleanSession) {
                subscriptions.sessionGone(clientId).forEach(this::withdraw);
            }
            ClusterRecords.Session record = withSubscriptions(new ClusterRecords.Session(clientId, self,
                    UUID.randomUUID().toString(), username, System.currentTimeMillis(), cleanSession, List.of()));
            locals.put(clientId, new LocalConnection(record));
            writer.send(topics.sessions(), clientId, ClusterRecords.write(record));
        });
    }

    @Override
    public void disconnected(String clientId, boolean cleanSession) {
        writer.submit(() -> {
            if (cleanSession) {
                subscriptions.sessionGone(clientId).forEach(this::withdraw);
            }
            if (locals.remove(clientId) != null) {
                writer.send(topics.sessions(), clientId, null);
            }
        });
    }

    @Override
    public void subscribed(String clientId, String filter) {
        writer.submit(() -> {
            if (subscriptions.subscribed(clientId, filter)) {
                announce(filter);
            }
            changed(clientId);
        });
    }

    @Override
    public void unsubscribed(String clientId, String filter) {
        writer.submit(() -> {
            if (subscriptions.unsubscribed(clientId, filter)) {
                withdraw(filter);
            }
            changed(clientId);
        });
    }

    // ---- the writer thread

    /** Writes every filter and session of this replica again (after a write failed for good). */
    void writeAll() {
        subscriptions.localFilters().forEach(this::announce);
        locals.forEach((client, local) -> writer.send(topics.sessions(), client, ClusterRecords.write(withSubscriptions(local.record))));
    }

    /** SIGTERM, once the writer thread has stopped: the clients here are gone, and the filters of clean sessions. */
    void stopped() {
        for (Map.Entry<String, LocalConnection> local : new ArrayList<>(locals.entrySet())) {
            writer.send(topics.sessions(), local.getKey(), null);
            if (local.getValue().record.cleanSession()) {
                subscriptions.sessionGone(local.getKey()).forEach(this::withdraw);
            }
        }
        locals.clear();
    }

    private void announce(String filter) {
        writer.send(topics.subscriptions(), ClusterRecords.subscriptionKey(self, filter), new byte[] {1});
    }

    private void withdraw(String filter) {
        writer.send(topics.subscriptions(), ClusterRecords.subscriptionKey(self, filter), null);
    }

    private void changed(String clientId) {
        LocalConnection local = locals.get(clientId);
        if (local != null) {
            writer.send(topics.sessions(), clientId, ClusterRecords.write(withSubscriptions(local.record)));
        }
    }

    private ClusterRecords.Session withSubscriptions(ClusterRecords.Session record) {
        Set<String> filters = subscriptions.byClient().get(record.clientId());
        return new ClusterRecords.Session(record.clientId(), record.node(), record.nonce(), record.username(),
                record.connectedAt(), record.cleanSession(), filters == null ? List.of() : filters.stream().sorted().toList());
    }

    // ---- views (any thread)

    /** Clients connected to other live replicas. */
    Collection<ClusterRecords.Session> remote() {
        return sessions.values().stream().filter(s -> !s.node().equals(self) && members.isLive(s.node())).toList();
    }

    /** The live replica other than this one that {@code clientId} is connected to, or null. */
    String elsewhere(String clientId) {
        ClusterRecords.Session session = sessions.get(clientId);
        return session != null && !session.node().equals(self) && members.isLive(session.node()) ? session.node() : null;
    }
}
