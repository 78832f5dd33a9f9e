package io.mqttkafkabridge.cluster;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import jakarta.interceptor.Interceptor;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.mqttkafkabridge.broker.BrokerStartHook;
import io.mqttkafkabridge.broker.EmbeddedBroker;
import io.mqttkafkabridge.broker.MessageEnvelope;
import io.mqttkafkabridge.config.BridgeConfig;
import io.mqttkafkabridge.config.DownlinkChannelConfigSourceFactory;
import io.mqttkafkabridge.kafka.KafkaAdmin;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.metrics.BridgeMetrics;
import io.mqttkafkabridge.routing.KeyStrategy;
import io.mqttkafkabridge.routing.MqttPublication;
import io.mqttkafkabridge.routing.TopicFilter;
import io.mqttkafkabridge.routing.UplinkRecord;
import io.mqttkafkabridge.routing.UplinkRoute;
import io.mqttkafkabridge.uplink.UplinkForwarding;
import io.quarkus.runtime.ShutdownEvent;

/**
 * The replicas of one {@code bridge.cluster.name} on one Kafka, acting as one MQTT broker (README, Cluster). Off by
 * default ({@code bridge.cluster.enabled}); then every method is a no-op.
 * <ul>
 * <li>Before the broker starts ({@link #beforeStart}, start-up thread): the internal topics are created or checked,
 * the state topics are read to their end, the node id is checked for a second live process, and the messages reader
 * takes its position. Once it runs ({@link #started}), the loaded retained messages are applied and this replica's
 * subscriptions and sessions are reconciled with what the topics held, before the broker takes clients.</li>
 * <li>Device publishes are forwarded by the uplink ({@link UplinkForwarding}): one more record of the same journal
 * entry to {@code <name>.messages}, for the replicas with a matching subscription, and one to {@code <name>.retained}
 * for a retained publish. Other replicas' forwarded publishes are injected into the broker ({@link #deliver}).</li>
 * <li>State records (subscriptions, sessions, heartbeats) are written by one thread ("cluster-writer") in the order
 * the broker reported the changes; the broker's callbacks only queue them.</li>
 * </ul>
 */
@Singleton
public class Cluster implements BrokerStartHook, UplinkForwarding {

    /** After the broker has stopped taking clients, before the uplink drains. */
    static final int STOP_PRIORITY = Interceptor.Priority.PLATFORM_BEFORE + 100;

    private final BridgeConfig.Cluster config;
    private final boolean enabled;
    private final String self;
    private final String instance = UUID.randomUUID().toString();
    private final long startedAt = System.currentTimeMillis();
    private final ClusterTopics topics;
    private final KafkaAdmin admin;
    private final ClusterMembers members;
    private final ClusterSubscriptions subscriptions;
    private final UplinkRoute messagesRoute;
    private final UplinkRoute retainedRoute;
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    /** Every client the sessions topic says is connected somewhere, by client id (see {@link ClusterSessions}). */
    private final Map<String, ClusterRecords.Session> sessionsLoaded = new ConcurrentHashMap<>();
    /** Client ids whose session record was deleted, as far as the sessions topic still says (read at start-up). */
    private final Set<String> sessionsEnded = ConcurrentHashMap.newKeySet();
    private final long sessionExpiryMillis;
    private final Map<String, byte[]> retainedSnapshot = new HashMap<>();
    private final Map<String, Integer> retainedQos = new HashMap<>();
    private final AtomicBoolean duplicateLogged = new AtomicBoolean();
    private final Counter forwarded;
    private final Counter received;
    private final ClusterSessions.Meters sessionMeters;
    private volatile EmbeddedBroker broker;
    private volatile ClusterWriter writer;
    private volatile ClusterSessions sessions;
    private volatile ClusterStateReader stateReader;
    private volatile ClusterMessagesReader messagesReader;

    Cluster(BridgeConfig config, KafkaAdmin admin, MeterRegistry registry) {
        this.config = config.cluster();
        this.sessionExpiryMillis = config.broker().sessionExpiry().map(java.time.Duration::toMillis).orElse(0L);
        this.enabled = this.config.enabled();
        this.self = this.config.nodeId().map(String::trim).filter(s -> !s.isEmpty())
                .orElseGet(DownlinkChannelConfigSourceFactory::hostName);
        if (enabled && (self.contains(",") || self.indexOf(ClusterRecords.KEY_SEPARATOR) >= 0)) {
            throw new IllegalStateException("bridge.cluster.node-id '" + self + "' may not contain a comma");
        }
        this.topics = ClusterTopics.of(this.config.name());
        this.admin = admin;
        this.members = new ClusterMembers(self, this.config.memberTimeout().toMillis());
        this.subscriptions = new ClusterSubscriptions(self);
        this.messagesRoute = new UplinkRoute("cluster", TopicFilter.parse("#"), topics.messages(), new KeyStrategy.MqttTopic());
        this.retainedRoute = new UplinkRoute("cluster", TopicFilter.parse("#"), topics.retained(), new KeyStrategy.MqttTopic());
        this.forwarded = Counter.builder(BridgeMetrics.CLUSTER_FORWARDED)
                .description("Publishes forwarded to other replicas (records written to the cluster's messages topic)").register(registry);
        this.received = Counter.builder(BridgeMetrics.CLUSTER_RECEIVED)
                .description("Publishes other replicas forwarded that this one delivered to its clients").register(registry);
        // registered with the cluster off too (1 node, no lag), so dashboards and alerts need no special case
        Gauge.builder(BridgeMetrics.CLUSTER_NODES, members, m -> enabled ? m.liveCount() : 1)
                .description("Live replicas of the cluster, this one included").register(registry);
        this.sessionMeters = new ClusterSessions.Meters(registry);
        Gauge.builder(BridgeMetrics.CLUSTER_LAG, this, Cluster::lag)
                .description("Forwarded publishes in the cluster's messages topic this replica has not read yet").register(registry);
        if (!enabled) {
            ready.complete(null);
        }
    }

    public boolean enabled() {
        return enabled;
    }

    public String nodeId() {
        return self;
    }

    public String name() {
        return config.name();
    }

    // ------------------------------------------------------------------ start-up

    @Override
    public boolean waitsForKafka() {
        return enabled;
    }

    @Override
    public void beforeStart() {
        if (!enabled) {
            return;
        }
        long start = System.nanoTime();
        admin.ensureTopics(topics.specs(config), config.startTimeout(), BridgeLog.LOG::clusterWaiting);
        Map<String, Object> consumerConfig = admin.clientConfig(ConsumerConfig.configNames());
        ClusterStateReader reader = new ClusterStateReader(consumerConfig, topics.state(), this);
        stateReader = reader;
        reader.start();
        try {
            reader.loaded().get(config.startTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            reader.stop();
            throw new IllegalStateException("The cluster's topics " + topics.state() + " could not be read within "
                    + config.startTimeout() + " (bridge.cluster.start-timeout): " + e, e);
        }
        refuseDuplicate(reader);
        ClusterMessagesReader messages = new ClusterMessagesReader(consumerConfig, topics.messages(),
                config.name() + "." + self, self, this);
        messages.position();
        messagesReader = messages;
        writer = new ClusterWriter(admin.clientConfig(ProducerConfig.configNames()));
        int retainedCount;
        synchronized (retainedSnapshot) {
            retainedCount = retainedSnapshot.size();
        }
        BridgeLog.LOG.clusterLoaded(config.name(), self, instance, retainedCount, subscriptions.remoteSize(),
                (int) members.all().stream().filter(m -> !m.node().node().equals(self)).count(), sessionsLoaded.size(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), topics.all().toString());
    }

    /**
     * A live process heartbeating with this node id: wait two heartbeats; if it heartbeats again, it runs, and this one
     * must not (kill -9 leaves a last heartbeat behind, which does not come again).
     */
    private void refuseDuplicate(ClusterStateReader reader) {
        ClusterRecords.Node other = members.get(self);
        if (other == null || other.instance().equals(instance) || !members.isLive(self)) {
            return;
        }
        long deadline = System.nanoTime() + 2 * config.heartbeatInterval().toNanos() + TimeUnit.SECONDS.toNanos(1);
        long seen = other.heartbeatAt();
        while (System.nanoTime() - deadline < 0) {
            ClusterRecords.Node now = members.get(self);
            if (now != null && !now.instance().equals(instance) && now.heartbeatAt() > seen && "up".equals(now.state())) {
                reader.stop();
                throw new IllegalStateException("bridge.cluster.node-id '" + self + "' is taken: another process (instance "
                        + now.instance() + ", up since " + java.time.Instant.ofEpochMilli(now.startedAt())
                        + ") runs with it in cluster '" + config.name() + "' on this Kafka. Give every replica its own "
                        + "bridge.cluster.node-id (default: the host name, the pod name in a StatefulSet)");
            }
            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
        }
    }

    /** Sessions that moved to another replica while this one was away: handed over once it has caught up. */
    @Override
    public Set<String> sessionsHeldElsewhere() {
        return sessionsLoaded.values().stream().filter(s -> !s.node().equals(self)).map(ClusterRecords.Session::clientId)
                .collect(java.util.stream.Collectors.toSet());
    }

    @Override
    public void started(EmbeddedBroker running) {
        if (!enabled) {
            return;
        }
        synchronized (retainedSnapshot) {
            broker = running;
            retainedSnapshot.forEach((topic, payload) -> running.applyRetained(topic, retainedQos.getOrDefault(topic, 0), payload));
            retainedSnapshot.clear();
            retainedQos.clear();
        }
        ClusterSessions tracker = new ClusterSessions(self, topics, subscriptions, members, writer, running, sessionsLoaded,
                sessionExpiryMillis, config.handoverTimeout(), sessionMeters);
        sessions = tracker;
        tracker.reconcile(running.storedSubscriptions(), running.persistentSessions(), new HashSet<>(subscriptions.recordedOwn()),
                Set.copyOf(sessionsEnded));
        running.clients().listen(tracker);
        running.sessionArrivals(tracker);
        running.onSessionExpired(tracker::expired);
        messagesReader.caughtUp().thenRun(tracker::caughtUp);
        messagesReader.start();
        members.startLogging();
        writer.every(config.heartbeatInterval(), this::heartbeat);
        ready.complete(null);
    }

    // ------------------------------------------------------------------ state records (state reader thread)

    void stateRecord(String topic, String key, byte[] value, String qos) {
        if (key == null) {
            return;
        }
        if (topic.equals(topics.retained())) {
            retainedRecord(key, value, qos == null ? 0 : Math.max(0, Math.min(2, Integer.parseInt(qos))));
        } else if (topic.equals(topics.subscriptions())) {
            int separator = key.indexOf(ClusterRecords.KEY_SEPARATOR);
            if (separator > 0) {
                subscriptions.record(key.substring(0, separator), key.substring(separator + 1), value != null);
            }
        } else if (topic.equals(topics.sessions())) {
            ClusterRecords.Session session = value == null ? null : ClusterRecords.read(value, ClusterRecords.Session.class);
            ClusterSessions tracker = sessions;
            if (tracker != null) {
                tracker.record(key, session);
            } else if (session == null) {
                sessionsLoaded.remove(key);
                sessionsEnded.add(key);
            } else {
                sessionsLoaded.put(key, session);
                sessionsEnded.remove(key);
            }
        } else if (topic.equals(topics.nodes())) {
            ClusterRecords.Node node = value == null ? null : ClusterRecords.read(value, ClusterRecords.Node.class);
            members.update(key, node);
            if (node != null && key.equals(self) && !node.instance().equals(instance) && "up".equals(node.state())
                    && ready.isDone() && duplicateLogged.compareAndSet(false, true)) {
                BridgeLog.LOG.clusterDuplicateNode(node.instance(), self, config.name(), instance);
            }
        }
    }

    private void retainedRecord(String topic, byte[] value, int qos) {
        byte[] payload = value == null ? new byte[0] : value;
        synchronized (retainedSnapshot) {
            EmbeddedBroker running = broker;
            if (running == null) {
                retainedSnapshot.put(topic, payload);
                retainedQos.put(topic, qos);
                return;
            }
            running.applyRetained(topic, qos, payload);
        }
    }

    // ------------------------------------------------------------------ forwarding

    @Override
    public CompletionStage<Void> ready() {
        return ready;
    }

    @Override
    public List<UplinkRecord> recordsFor(MqttPublication publication) {
        if (!enabled) {
            return List.of();
        }
        Set<String> targets = withMoved(subscriptions.targets(publication.topic()), publication.topic());
        if (targets.isEmpty() && !publication.retain()) {
            return List.of();
        }
        List<UplinkRecord> records = new ArrayList<>(2);
        if (!targets.isEmpty()) {
            UplinkRecord record = messagesRoute.toRecord(publication);
            List<UplinkRecord.Header> headers = new ArrayList<>(record.headers());
            headers.add(new UplinkRecord.Header(ClusterRecords.HEADER_ORIGIN, ClusterRecords.utf8(self)));
            headers.add(new UplinkRecord.Header(ClusterRecords.HEADER_TARGETS, ClusterRecords.utf8(String.join(",", targets))));
            // the bytes the broker keeps: the MQTT 5 properties ride with the message to the other replicas
            records.add(new UplinkRecord(messagesRoute, topics.messages(), record.key(), headers,
                    MessageEnvelope.wrap(publication.payload(), publication.properties(), publication.retain(), null), null));
        }
        if (publication.retain()) {
            records.add(new UplinkRecord(retainedRoute, topics.retained(), publication.topic(),
                    List.of(new UplinkRecord.Header(UplinkRoute.HEADER_QOS, ClusterRecords.utf8(Integer.toString(publication.qos()))),
                            new UplinkRecord.Header(ClusterRecords.HEADER_ORIGIN, ClusterRecords.utf8(self))),
                    publication.payload().length == 0 ? null
                            : MessageEnvelope.wrap(publication.payload(), publication.properties(), true, null), null));
        }
        return records;
    }

    @Override
    public void sent(UplinkRecord record) {
        if (record.kafkaTopic().equals(topics.messages())) {
            forwarded.increment();
        }
    }

    /**
     * A publish made here by the bridge itself (REST API): sent to the replicas with a matching subscription, and
     * kept as the cluster's retained message. Not journaled (nobody waits for a PUBACK); the producer retries while
     * Kafka is away. Returns the replicas it was sent to.
     */
    public Set<String> forward(String topic, byte[] payload, int qos, boolean retain) {
        if (!enabled || writer == null) {
            return Set.of();
        }
        Set<String> targets = subscriptions.targets(topic);
        for (UplinkRecord record : recordsFor(new MqttPublication(topic, payload, qos, retain, "mqtt-kafka-bridge", null))) {
            ProducerRecord<String, byte[]> out = new ProducerRecord<>(record.kafkaTopic(), record.key(), record.value());
            record.headers().forEach(h -> out.headers().add(new RecordHeader(h.name(), h.value())));
            writer.send(out, (metadata, failure) -> {
                if (failure == null) {
                    sent(record);
                }
            });
        }
        return targets;
    }

    /** {@code targets} and the replicas sessions matching {@code topic} were handed over to lately. */
    private Set<String> withMoved(Set<String> targets, String topic) {
        Set<String> movedTo = subscriptions.movedTo(topic);
        if (movedTo.isEmpty()) {
            return targets;
        }
        Set<String> all = new java.util.TreeSet<>(targets);
        all.addAll(movedTo);
        return all;
    }

    /**
     * A forwarded publish that a session handed over from here lately matches, sent by a replica that did not know
     * yet where the session went ({@code targets} lacks it): passed on there (messages reader).
     */
    void relayMoved(String topic, byte[] payload, int qos, String origin, Set<String> targets) {
        Set<String> to = new java.util.TreeSet<>(subscriptions.movedTo(topic));
        to.removeAll(targets);
        to.remove(origin);
        to.remove(self);
        if (to.isEmpty() || writer == null) {
            return;
        }
        ProducerRecord<String, byte[]> out = new ProducerRecord<>(topics.messages(), topic, payload);
        out.headers().add(UplinkRoute.HEADER_QOS, ClusterRecords.utf8(Integer.toString(qos)))
                .add(ClusterRecords.HEADER_ORIGIN, ClusterRecords.utf8(self))
                .add(ClusterRecords.HEADER_TARGETS, ClusterRecords.utf8(String.join(",", to)))
                .add(ClusterRecords.HEADER_KIND, ClusterRecords.utf8(ClusterRecords.KIND_RELAYED));
        writer.send(out, null);
    }

    /** A forwarded publish for this replica's subscribers (messages reader). False when the broker no longer runs. */
    boolean deliver(String topic, byte[] payload, int qos) {
        EmbeddedBroker running = broker;
        if (running == null || !running.isRunning()) {
            return false;
        }
        try {
            running.publishKept(topic, payload, Math.max(0, Math.min(2, qos)), false);
        } catch (IllegalStateException e) {
            return false;
        }
        received.increment();
        return true;
    }

    /** A message of a persistent session another replica hands over to this one (messages reader). */
    void handoverMessage(String clientId, String topic, int qos, byte[] payload) {
        ClusterSessions tracker = sessions;
        if (tracker != null && clientId != null && topic != null) {
            tracker.handoverMessage(clientId, topic, Math.max(0, Math.min(2, qos)), payload);
        }
    }

    /** The end of a handover (messages reader). */
    void handoverEnd(String clientId, String from) {
        ClusterSessions tracker = sessions;
        if (tracker != null && clientId != null) {
            tracker.handoverEnd(clientId, from);
        }
    }

    void disconnectRequested(String clientId, String byNode) {
        EmbeddedBroker running = broker;
        if (clientId != null && running != null && running.disconnect(clientId)) {
            BridgeLog.LOG.clusterDisconnectRequested(clientId, byNode);
        }
    }

    // ------------------------------------------------------------------ operations

    /** The replicas, with their figures (this one included). */
    public List<ClusterMembers.Member> members() {
        return members.all();
    }

    /** Clients connected to other live replicas. */
    public Collection<ClusterRecords.Session> remoteClients() {
        ClusterSessions tracker = sessions;
        return tracker == null ? List.of() : tracker.remote();
    }

    /**
     * Asks the replica a client is connected to to close its connection.
     *
     * @return that replica, or empty when no live replica has the client
     */
    public Optional<String> disconnectRemote(String clientId) {
        String node = connectedTo(clientId);
        if (node == null) {
            return Optional.empty();
        }
        ProducerRecord<String, byte[]> command = new ProducerRecord<>(topics.messages(), clientId, ClusterRecords.utf8(self));
        command.headers().add(ClusterRecords.HEADER_ORIGIN, ClusterRecords.utf8(self))
                .add(ClusterRecords.HEADER_TARGETS, ClusterRecords.utf8(node))
                .add(ClusterRecords.HEADER_KIND, ClusterRecords.utf8(ClusterRecords.KIND_DISCONNECT));
        writer.send(command, null);
        return Optional.of(node);
    }

    /** Whether a client is connected to another live replica. */
    public boolean connectedElsewhere(String clientId) {
        return connectedTo(clientId) != null;
    }

    private String connectedTo(String clientId) {
        ClusterSessions tracker = sessions;
        return tracker == null ? null : tracker.elsewhere(clientId);
    }

    public long lag() {
        ClusterMessagesReader reader = messagesReader;
        return reader == null ? 0 : reader.lag();
    }

    // ------------------------------------------------------------------ writing

    private void heartbeat() {
        if (writer.takeResync()) {
            sessions.writeAll();
        }
        writer.send(topics.nodes(), self, ClusterRecords.write(node("up")));
        subscriptions.expireMoved();
        members.checkSilences();
    }

    private ClusterRecords.Node node(String state) {
        EmbeddedBroker running = broker;
        return new ClusterRecords.Node(self, instance, state, startedAt, System.currentTimeMillis(),
                running == null ? 0 : running.clients().count(), subscriptions.localSize(), (long) forwarded.count(),
                (long) received.count(), lag(), running == null ? 0 : running.port());
    }

    /**
     * SIGTERM, once the broker has closed its connections: say this replica is gone (sessions, the subscriptions of
     * clean sessions, a "stopped" heartbeat), flush, and stop reading.
     */
    void stop(@Observes @Priority(STOP_PRIORITY) ShutdownEvent event) {
        if (!enabled || writer == null) {
            return;
        }
        ClusterMessagesReader messages = messagesReader;
        if (messages != null) {
            messages.stop();
        }
        writer.stopTaking();
        if (sessions != null) {
            sessions.stopped();
        }
        writer.send(topics.nodes(), self, ClusterRecords.write(node("stopped")));
        writer.close();
        ClusterStateReader reader = stateReader;
        if (reader != null) {
            reader.stop();
        }
    }
}
