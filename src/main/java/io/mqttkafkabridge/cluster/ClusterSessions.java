package io.mqttkafkabridge.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.producer.ProducerRecord;

import io.mqttkafkabridge.broker.ClientTracker;
import io.mqttkafkabridge.broker.EmbeddedBroker;
import io.mqttkafkabridge.broker.SessionArrivals;
import io.mqttkafkabridge.broker.SessionTransfer;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.routing.UplinkRoute;

/**
 * The sessions of the cluster through {@code <name>.sessions}, and this replica's part of it. A client's record names
 * the replica that holds its session: while it is connected there, and, for a persistent session (clean session 0),
 * while it waits offline for its client, with its subscriptions and expiry.
 * <ul>
 * <li><b>One client id, one place.</b> When this replica reads, after its own record for a client, one by another
 * replica, that replica has the client now: this one takes the session out of its broker (closing the connection,
 * MQTT-3.1.4-2, cluster-wide) and, for a persistent session, hands what it held over to the new replica through
 * {@code <name>.messages}: the messages in flight and queued, in order, then an end record.</li>
 * <li><b>Arriving.</b> A CONNECT with clean session 0 whose session another replica holds waits ({@link #reopening}):
 * the session is placed here from its record (subscriptions), announced, and this replica's record written, which
 * asks the other to hand over; the handed-over messages go before anything queued here meanwhile, and the CONNECT
 * goes on (session present 1). A replica that is down, or does not answer within
 * {@code bridge.cluster.handover-timeout}, hands over when it is back: it first reads the forwarded messages it missed
 * (its consumer group's offsets), then hands over what it held for the sessions that moved meanwhile.</li>
 * <li><b>Expiry</b> happens where the session is, once: that replica deletes its record, and its filters go.</li>
 * </ul>
 * <p>Threads: the broker's callbacks run on its session loops and event loops and only queue work for the writer
 * thread, which owns the local filters and records; {@link #record} runs on the state reader, the handover records on
 * the messages reader; the views are read by REST threads.
 */
final class ClusterSessions implements ClientTracker.Listener, SessionArrivals {

    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);
    /** How long publishes for a session handed over are passed on to its new replica ({@link ClusterSubscriptions#moved}). */
    static final long MOVED_GRACE_MILLIS = 30_000;

    private final String self;
    private final ClusterTopics topics;
    private final ClusterSubscriptions subscriptions;
    private final ClusterMembers members;
    private final ClusterWriter writer;
    private final EmbeddedBroker broker;
    /** {@code bridge.broker.session-expiry} in ms, 0 for never. */
    private final long expiryMillis;
    private final Duration handoverTimeout;
    /** The newest record of every client id with a session somewhere. */
    private final Map<String, ClusterRecords.Session> sessions;
    /** This replica's records: connections, and sessions arriving, by client id. */
    private final Map<String, LocalConnection> locals = new ConcurrentHashMap<>();
    /** CONNECTs waiting for their session, by client id. */
    private final Map<String, Arrival> arrivals = new ConcurrentHashMap<>();
    /** Handovers being received, by client id (messages reader thread). */
    private final Map<String, List<SessionTransfer.Message>> incoming = new HashMap<>();
    /** Sessions this replica held at start that moved meanwhile: handed over once the missed messages are read. */
    private final Set<String> movedAway = ConcurrentHashMap.newKeySet();

    /** One record of this replica: its nonce, and whether it has come back from the sessions topic. */
    private static final class LocalConnection {
        final ClusterRecords.Session record;
        volatile boolean seen;

        LocalConnection(ClusterRecords.Session record) {
            this.record = record;
        }
    }

    /** A CONNECT waiting for its session to arrive from {@code from}. */
    private static final class Arrival {
        final String from;
        final long startedAt = System.nanoTime();
        final CompletableFuture<Void> done = new CompletableFuture<>();
        volatile String how = "no answer within bridge.cluster.handover-timeout, opened from its record";
        volatile boolean handedOver;

        Arrival(String from) {
            this.from = from;
        }
    }

    /** The session moves' meters (registered with the cluster off too, at zero). */
    record Meters(io.micrometer.core.instrument.Counter handedOver, io.micrometer.core.instrument.Counter byHandover,
            io.micrometer.core.instrument.Counter fromRecord, io.micrometer.core.instrument.Counter late,
            io.micrometer.core.instrument.Timer waited) {

        Meters(io.micrometer.core.instrument.MeterRegistry registry) {
            this(io.micrometer.core.instrument.Counter.builder(io.mqttkafkabridge.metrics.BridgeMetrics.CLUSTER_SESSIONS_HANDED_OVER)
                    .description("Persistent sessions handed over to the replica their device reconnected to").register(registry),
                    takenOver(registry, "handover"), takenOver(registry, "record"), takenOver(registry, "late"),
                    io.micrometer.core.instrument.Timer.builder(io.mqttkafkabridge.metrics.BridgeMetrics.CLUSTER_SESSION_WAIT)
                            .description("How long a CONNECT waited for its persistent session to arrive from another replica")
                            .publishPercentileHistogram().register(registry));
        }

        private static io.micrometer.core.instrument.Counter takenOver(io.micrometer.core.instrument.MeterRegistry registry, String how) {
            return io.micrometer.core.instrument.Counter.builder(io.mqttkafkabridge.metrics.BridgeMetrics.CLUSTER_SESSIONS_TAKEN_OVER)
                    .tag("how", how).description("Persistent sessions taken over from another replica: handed over before the "
                            + "CONNACK (handover), opened from their record (record), what the other replica held arriving later (late)")
                    .register(registry);
        }
    }

    private final Meters meters;

    ClusterSessions(String self, ClusterTopics topics, ClusterSubscriptions subscriptions, ClusterMembers members,
            ClusterWriter writer, EmbeddedBroker broker, Map<String, ClusterRecords.Session> loaded, long expiryMillis,
            Duration handoverTimeout, Meters meters) {
        this.meters = meters;
        this.self = self;
        this.topics = topics;
        this.subscriptions = subscriptions;
        this.members = members;
        this.writer = writer;
        this.broker = broker;
        this.sessions = loaded;
        this.expiryMillis = expiryMillis;
        this.handoverTimeout = handoverTimeout;
    }

    /**
     * At start, before the broker takes clients: this replica's stored sessions against the sessions topic.
     *
     * @param stored (client id, filter, QoS) of the sessions the broker reopened from its store
     * @param persistent the client ids of those sessions
     * @param recordedFilters this replica's filters as {@code <name>.subscriptions} held them
     * @param ended client ids whose record was deleted (expired, or ended elsewhere) as far as the topic still says
     */
    void reconcile(List<String[]> stored, List<String> persistent, Set<String> recordedFilters, Set<String> ended) {
        Map<String, ClusterRecords.Session> snapshot = Map.copyOf(sessions);
        writer.submit(() -> {
            stored.forEach(s -> subscriptions.subscribed(s[0], s[1], Integer.parseInt(s[2])));
            Set<String> here = Set.copyOf(persistent);
            for (String client : persistent) {
                ClusterRecords.Session record = snapshot.get(client);
                if (record == null && ended.contains(client)) {
                    discard(client); // expired or replaced elsewhere while this replica was away
                } else if (record == null || (record.node().equals(self) && record.connected())) {
                    // a session from before the cluster, or one whose client was connected here when the process died
                    offline(new ClusterRecords.Session(client, self, UUID.randomUUID().toString(),
                            record == null ? null : record.username(), System.currentTimeMillis(), false, Map.of(), null, 0, null));
                } else if (!record.node().equals(self)) {
                    movedAway.add(client);
                }
            }
            for (ClusterRecords.Session record : snapshot.values()) {
                if (!record.node().equals(self) || here.contains(record.clientId())) {
                    continue;
                }
                if (record.cleanSession()) {
                    writer.send(topics.sessions(), record.clientId(), null); // a connection the process lost
                } else {
                    restore(record); // the store lost it (moved aside after a crash): its record still has its subscriptions
                }
            }
            Set<String> current = Set.copyOf(subscriptions.localFilters());
            recordedFilters.stream().filter(f -> !current.contains(f)).forEach(this::withdraw);
            current.stream().filter(f -> !recordedFilters.contains(f)).forEach(this::announce);
        });
    }

    /** The forwarded messages this replica missed are read: hand over the sessions that moved while it was away. */
    void caughtUp() {
        writer.submit(() -> {
            for (String client : List.copyOf(movedAway)) {
                movedAway.remove(client);
                ClusterRecords.Session record = sessions.get(client);
                if (record == null) {
                    discard(client);
                } else if (!record.node().equals(self)) {
                    giveUp(client, record);
                }
            }
        });
    }

    // ---- the state reader

    void record(String clientId, ClusterRecords.Session record) {
        ClusterRecords.Session previous = record == null ? sessions.remove(clientId) : sessions.put(clientId, record);
        if (record == null || record.cleanSession() || !record.node().equals(self)) {
            // a session handed over from here that ended, or moved on: nothing is passed on for it any more
            subscriptions.movedClientChanged(clientId, record == null || record.cleanSession() ? null : record.node());
        }
        LocalConnection local = locals.get(clientId);
        if (record == null) {
            if (local != null && local.seen) {
                writer.submit(() -> {
                    if (locals.get(clientId) == local) {
                        writer.send(topics.sessions(), clientId, ClusterRecords.write(local.record)); // still here
                    }
                });
            }
            return;
        }
        if (record.node().equals(self)) {
            if (local != null && record.nonce().equals(local.record.nonce())) {
                local.seen = true;
            }
            return;
        }
        boolean heldHere = previous != null && previous.node().equals(self);
        if (heldHere || (local != null && local.seen)) {
            // a newer connection with this client id, on another replica: the session goes there
            if (local != null) {
                locals.remove(clientId, local);
                BridgeLog.LOG.clusterTakeover(clientId, record.node());
            }
            if (movedAway.contains(clientId)) {
                return; // handed over once the missed messages are read
            }
            writer.submit(() -> giveUp(clientId, record));
        }
    }

    // ---- sessions leaving (writer thread)

    /** Takes the session out of the broker and hands it over to the replica {@code record} names. */
    private void giveUp(String clientId, ClusterRecords.Session record) {
        broker.takeSession(clientId).whenComplete((taken, failure) -> writer.submit(() -> {
            subscriptions.sessionGone(clientId).forEach(this::withdraw);
            if (failure != null) {
                BridgeLog.LOG.clusterSessionMoveFailed(clientId, String.valueOf(failure));
            }
            boolean handOver = failure == null && taken != null && !taken.cleanSession() && !record.cleanSession();
            if (handOver) {
                subscriptions.moved(clientId, record.node(), taken.subscriptions().stream().map(SessionTransfer.Sub::filter).toList(),
                        MOVED_GRACE_MILLIS);
                handOver(clientId, record.node(), taken.messages());
                meters.handedOver().increment();
                BridgeLog.LOG.clusterSessionHandedOver(clientId, record.node(), taken.subscriptions().size(), taken.messages().size());
            } else if (self.equals(record.from())) {
                handOver(clientId, record.node(), List.of()); // nothing here: the CONNECT need not wait
            }
        }));
    }

    /** Writes {@code messages} to {@code <name>.messages} for replica {@code to}, in order, then the end record. */
    private void handOver(String clientId, String to, List<SessionTransfer.Message> messages) {
        for (SessionTransfer.Message message : messages) {
            ProducerRecord<String, byte[]> out = handoverRecord(clientId, to, ClusterRecords.KIND_HANDOVER, message.payload());
            out.headers().add(ClusterRecords.HEADER_TOPIC, ClusterRecords.utf8(message.topic()))
                    .add(UplinkRoute.HEADER_QOS, ClusterRecords.utf8(Integer.toString(message.qos())));
            writer.send(out, null);
        }
        writer.send(handoverRecord(clientId, to, ClusterRecords.KIND_HANDOVER_END, ClusterRecords.utf8(Integer.toString(messages.size()))),
                null);
    }

    private ProducerRecord<String, byte[]> handoverRecord(String clientId, String to, String kind, byte[] value) {
        ProducerRecord<String, byte[]> out = new ProducerRecord<>(topics.messages(), clientId, value);
        out.headers().add(ClusterRecords.HEADER_ORIGIN, ClusterRecords.utf8(self))
                .add(ClusterRecords.HEADER_TARGETS, ClusterRecords.utf8(to))
                .add(ClusterRecords.HEADER_KIND, ClusterRecords.utf8(kind));
        return out;
    }

    /** Drops a session this replica holds that ended elsewhere. */
    private void discard(String clientId) {
        broker.takeSession(clientId).whenComplete((taken, failure) -> writer.submit(
                () -> subscriptions.sessionGone(clientId).forEach(this::withdraw)));
    }

    // ---- sessions arriving

    /** A CONNECT with clean session 0 (event loop): waits while its session comes from another replica. */
    @Override
    public CompletionStage<Void> reopening(String clientId) {
        ClusterRecords.Session record = sessions.get(clientId);
        if (record == null || record.node().equals(self) || record.cleanSession()) {
            return DONE;
        }
        Arrival arrival = new Arrival(record.node());
        Arrival earlier = arrivals.put(clientId, arrival);
        if (earlier != null) {
            earlier.done.complete(null);
        }
        writer.submit(() -> arrive(clientId, record, arrival));
        return arrival.done.completeOnTimeout(null, handoverTimeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((v, e) -> {
            arrivals.remove(clientId, arrival);
            meters.waited().record(System.nanoTime() - arrival.startedAt, TimeUnit.NANOSECONDS);
            (arrival.handedOver ? meters.byHandover() : meters.fromRecord()).increment();
            BridgeLog.LOG.clusterSessionArrived(clientId, arrival.from, arrival.how + " after "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - arrival.startedAt) + " ms");
        });
    }

    /** Writer thread: the session placed from its record and announced, then this replica's record, which asks for it. */
    private void arrive(String clientId, ClusterRecords.Session record, Arrival arrival) {
        Map<String, Integer> filters = record.filters() == null ? Map.of() : record.filters();
        broker.placeSession(clientId, subs(filters), List.of()).whenComplete((v, failure) -> writer.submit(() -> {
            if (failure != null) {
                BridgeLog.LOG.clusterSessionMoveFailed(clientId, String.valueOf(failure));
                arrival.done.complete(null);
                return;
            }
            filters.forEach((filter, qos) -> {
                if (subscriptions.subscribed(clientId, filter, qos)) {
                    announce(filter);
                }
            });
            ClusterRecords.Session mine = new ClusterRecords.Session(clientId, self, UUID.randomUUID().toString(),
                    record.username(), System.currentTimeMillis(), false, subscriptions.of(clientId),
                    ClusterRecords.Session.OFFLINE, 0, record.node());
            locals.put(clientId, new LocalConnection(mine));
            writer.send(topics.sessions(), clientId, ClusterRecords.write(mine));
            if (!members.isLive(record.node())) {
                arrival.how = "opened from its record (node " + record.node() + " is down; it hands over what it held when it is back)";
                arrival.done.complete(null);
            }
        }));
    }

    /** A session this replica's record says it holds, which its store lost: placed from the record. */
    private void restore(ClusterRecords.Session record) {
        Map<String, Integer> filters = record.filters() == null ? Map.of() : record.filters();
        filters.forEach((filter, qos) -> subscriptions.subscribed(record.clientId(), filter, qos));
        broker.placeSession(record.clientId(), subs(filters), List.of());
        if (record.connected()) {
            offline(record);
        }
    }

    /** Messages reader: one message of a session handed over to this replica. */
    void handoverMessage(String clientId, String topic, int qos, byte[] payload) {
        incoming.computeIfAbsent(clientId, c -> new ArrayList<>()).add(new SessionTransfer.Message(topic, qos, payload));
    }

    /** Messages reader: a handover to this replica is complete. */
    void handoverEnd(String clientId, String from) {
        List<SessionTransfer.Message> messages = incoming.remove(clientId);
        List<SessionTransfer.Message> handed = messages == null ? List.of() : messages;
        Arrival arrival = arrivals.get(clientId);
        ClusterRecords.Session record = sessions.get(clientId);
        if (arrival == null && record != null && !record.node().equals(self) && !record.cleanSession()) {
            writer.submit(() -> handOver(clientId, record.node(), handed)); // the client moved on meanwhile: pass it on
            return;
        }
        if (arrival == null && (record == null || record.cleanSession())) {
            BridgeLog.LOG.clusterSessionMoveFailed(clientId, "its session ended before node " + from + " handed over "
                    + handed.size() + " messages; they are dropped");
            return;
        }
        broker.placeSession(clientId, List.of(), handed).whenComplete((v, failure) -> {
            if (failure != null) {
                BridgeLog.LOG.clusterSessionMoveFailed(clientId, String.valueOf(failure));
            }
            if (arrival != null) {
                arrival.how = "handed over with " + handed.size() + " messages";
                arrival.handedOver = true;
                arrival.done.complete(null);
            } else {
                meters.late().increment();
                BridgeLog.LOG.clusterSessionArrived(clientId, from, handed.size() + " messages it held, handed over late");
            }
        });
    }

    private static List<SessionTransfer.Sub> subs(Map<String, Integer> filters) {
        return filters.entrySet().stream().map(e -> new SessionTransfer.Sub(e.getKey(), e.getValue())).toList();
    }

    // ---- the broker's callbacks (session loops, Moquette's expiry thread)

    @Override
    public void connected(String clientId, String username, boolean cleanSession) {
        writer.submit(() -> {
            if (cleanSession) {
                subscriptions.sessionGone(clientId).forEach(this::withdraw);
            }
            ClusterRecords.Session record = new ClusterRecords.Session(clientId, self, UUID.randomUUID().toString(), username,
                    System.currentTimeMillis(), cleanSession, subscriptions.of(clientId), ClusterRecords.Session.CONNECTED, 0, null);
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
            LocalConnection local = locals.remove(clientId);
            if (local == null) {
                return; // taken over: the session is elsewhere now
            }
            if (cleanSession) {
                writer.send(topics.sessions(), clientId, null);
            } else {
                offline(local.record);
            }
        });
    }

    @Override
    public void subscribed(String clientId, String filter, int qos) {
        writer.submit(() -> {
            if (subscriptions.subscribed(clientId, filter, qos)) {
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

    /** Moquette ended a persistent session here because it expired: it is gone from the cluster. */
    void expired(String clientId) {
        writer.submit(() -> {
            subscriptions.sessionGone(clientId).forEach(this::withdraw);
            ClusterRecords.Session record = sessions.get(clientId);
            LocalConnection local = locals.get(clientId);
            if (record != null && record.node().equals(self) && (local == null || !local.record.connected())) {
                locals.remove(clientId); // a session that arrived for a CONNECT that never went on
                writer.send(topics.sessions(), clientId, null);
                BridgeLog.LOG.clusterSessionExpired(clientId);
            }
        });
    }

    // ---- the writer thread

    /** Writes every filter and session of this replica again (after a write failed for good). */
    void writeAll() {
        subscriptions.localFilters().forEach(this::announce);
        locals.forEach((client, local) -> writer.send(topics.sessions(), client,
                ClusterRecords.write(local.record.with(local.record.state(), local.record.expiresAt(), subscriptions.of(client)))));
    }

    /**
     * SIGTERM, once the writer thread has stopped: the clients here are gone; clean sessions with their filters,
     * persistent ones stay here, offline, until their clients come back (to any replica).
     */
    void stopped() {
        for (Map.Entry<String, LocalConnection> local : new ArrayList<>(locals.entrySet())) {
            if (local.getValue().record.cleanSession()) {
                writer.send(topics.sessions(), local.getKey(), null);
                subscriptions.sessionGone(local.getKey()).forEach(this::withdraw);
            } else {
                offline(local.getValue().record);
            }
        }
        locals.clear();
    }

    /** Writes {@code record} as an offline persistent session of this replica, expiring {@code session-expiry} from now. */
    private void offline(ClusterRecords.Session record) {
        long expiresAt = expiryMillis == 0 ? 0 : System.currentTimeMillis() + expiryMillis;
        writer.send(topics.sessions(), record.clientId(), ClusterRecords.write(
                record.with(ClusterRecords.Session.OFFLINE, expiresAt, subscriptions.of(record.clientId()))));
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
            writer.send(topics.sessions(), clientId, ClusterRecords.write(
                    local.record.with(local.record.state(), local.record.expiresAt(), subscriptions.of(clientId))));
        }
    }

    // ---- views (any thread)

    /** Clients connected to other live replicas. */
    Collection<ClusterRecords.Session> remote() {
        return sessions.values().stream().filter(s -> !s.node().equals(self) && s.connected() && members.isLive(s.node())).toList();
    }

    /** The live replica other than this one that {@code clientId} is connected to, or null. */
    String elsewhere(String clientId) {
        ClusterRecords.Session session = sessions.get(clientId);
        return session != null && !session.node().equals(self) && session.connected() && members.isLive(session.node())
                ? session.node() : null;
    }
}
