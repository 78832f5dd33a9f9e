package io.mqttkafkabridge.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.PreDestroy;
import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import jakarta.interceptor.Interceptor;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Gauge;
import io.moquette.broker.ClientDescriptor;
import io.moquette.broker.Server;
import io.mqttkafkabridge.config.BridgeConfig;
import io.mqttkafkabridge.config.DataFolder;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.metrics.BridgeMetrics;
import io.mqttkafkabridge.routes.Routes;
import io.mqttkafkabridge.security.MqttAccess;
import io.mqttkafkabridge.uplink.UplinkJournal;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;

/**
 * The embedded Moquette broker. Lifecycle: started on {@link StartupEvent} right after SmallRye Reactive Messaging
 * has wired the channels (the uplink emitter exists only from then on; the downlink waits for {@link #started()}
 * before it publishes), with the cluster on from a thread started then, and stopped in {@link PreDestroy}, which Quarkus runs after the channels have been shut
 * down, so the uplink and downlink drain first.
 */
@Singleton
public class EmbeddedBroker {

    /** MQTT 5 wills waiting for their Will Delay Interval. */
    private final DelayedWills delayedWills = new DelayedWills();

    /** The connections the gate handed to Moquette (set when the broker starts). */
    private volatile GatedClients gated = new GatedClients();

    /** Stops first on shutdown, before the uplink drains. */
    static final int STOP_PRIORITY = Interceptor.Priority.PLATFORM_BEFORE;
    /** After SmallRye Reactive Messaging has started the channels (it observes at LIBRARY_BEFORE). */
    static final int START_PRIORITY = Interceptor.Priority.LIBRARY_BEFORE + 10;

    private static final String INTERNAL_CLIENT_ID = "mqtt-kafka-bridge";

    private final BridgeConfig.Broker config;
    private final Routes routes;
    private final UplinkJournal uplink;
    private final Counter quarantined;
    private final Counter accepted;
    private final ClientTracker clients;
    private final MeterRegistry registry;
    private final MqttAccess access;
    private final boolean allowAnonymous;
    private final Counter[] sent = new Counter[3];
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    private volatile Server server;
    /** Set by {@link #stop()}: a start still waiting for its hooks must not start Moquette after it. */
    private boolean stopped;
    private volatile int port;
    private volatile SessionLoops loops;
    private volatile SessionQueues sessionQueues;
    private volatile RetainedStore retained;
    private volatile SessionTransfer transfer;
    private final java.util.Set<String> heldElsewhere = new java.util.HashSet<>();
    private volatile SessionArrivals arrivals = SessionArrivals.NONE;
    private volatile java.util.function.Consumer<String> expiredListener = clientId -> {
    };

    private final jakarta.enterprise.inject.Instance<BrokerStartHook> hooks;
    private volatile Admission admission;

    EmbeddedBroker(BridgeConfig config, Routes routes, UplinkJournal uplink, MeterRegistry registry, MqttAccess access,
            jakarta.enterprise.inject.Instance<BrokerStartHook> hooks) {
        this.hooks = hooks;
        this.config = config.broker();
        this.access = access;
        this.allowAnonymous = config.security().allowAnonymous();
        this.routes = routes;
        this.uplink = uplink;
        this.registry = registry;
        this.quarantined = Counter.builder(BridgeMetrics.STORE_QUARANTINED)
                .description("Broker session stores that could not be opened and were moved aside").register(registry);
        this.accepted = Counter.builder(BridgeMetrics.MQTT_CONNECTIONS).tag("outcome", "accepted")
                .description("MQTT connections, by outcome").register(registry);
        for (int qos = 0; qos < sent.length; qos++) {
            sent[qos] = Counter.builder(BridgeMetrics.MQTT_MESSAGES_SENT).tag("qos", Integer.toString(qos))
                    .description("Messages the bridge published into the broker (downlink, REST)").register(registry);
        }
        this.clients = new ClientTracker(accepted::increment);
        ConnectionRefusals.install(registry);
        ConnectionErrors.install();
        Gauge.builder(BridgeMetrics.MQTT_CLIENTS_CONNECTED, clients, ClientTracker::count)
                .description("MQTT clients connected now").register(registry);
        for (String version : List.of("3.1", "3.1.1", "5")) {
            Gauge.builder(BridgeMetrics.MQTT_CLIENTS_BY_PROTOCOL, this, broker -> broker.gated.connectedWith(version))
                    .tag("protocol", version).description("MQTT clients connected now, by MQTT version").register(registry);
        }
    }

    /**
     * Starts the broker after its {@link BrokerStartHook}s. When one of them waits for Kafka (the cluster loads its
     * state), on a thread of its own: the HTTP server only listens once the start-up event is over, and health must
     * answer meanwhile (readiness DOWN while loading, and why: Kafka refusing the bridge's credentials, MKB0502, is
     * otherwise invisible, and a startup probe would restart the pod into the same refusal). A start that fails
     * there ends the process (MKB0008), as a failed start-up event does.
     */
    void start(@Observes @Priority(START_PRIORITY) StartupEvent event) {
        logRoutes();
        Path dataPath = DataFolder.writable(config.dataPath(), "bridge.broker.data-path");
        // before anything waits: a TLS file that cannot be read fails the start (Moquette would run without TLS)
        TlsContext tls = TlsContext.of(config);
        if (hooks.stream().noneMatch(BrokerStartHook::waitsForKafka)) {
            start(dataPath, tls);
            return;
        }
        Thread starter = new Thread(() -> {
            try {
                start(dataPath, tls);
            } catch (RuntimeException e) {
                BridgeLog.LOG.startFailed(String.valueOf(e.getMessage()), e);
                Quarkus.asyncExit(1);
            }
        }, "broker-start");
        starter.setDaemon(true);
        starter.start();
    }

    private void start(Path dataPath, TlsContext tls) {
        Server moquette;
        try {
            for (BrokerStartHook hook : hooks) {
                hook.beforeStart();
                heldElsewhere.addAll(hook.sessionsHeldElsewhere());
            }
            synchronized (this) {
                if (stopped) {
                    return; // shut down while the hooks waited
                }
                moquette = startWithQuarantine(dataPath, tls);
                server = moquette;
            }
            port = awaitBoundPort(moquette);
            for (BrokerStartHook hook : hooks) {
                hook.started(this);
            }
        } catch (RuntimeException e) {
            started.completeExceptionally(e);
            throw e;
        }
        admission.accepting = true;
        started.complete(null);
        BridgeLog.LOG.brokerStarted(config.host(), port,
                config.persistence() == BridgeConfig.Persistence.H2 ? dataPath.toString() : "memory");
    }

    private Server startWithQuarantine(Path dataPath, TlsContext tls) {
        try {
            return startMoquette(dataPath, tls);
        } catch (IllegalStateException e) {
            if (config.persistence() != BridgeConfig.Persistence.H2 || causedBy(e, BindException.class)) {
                throw e;
            }
            // Moquette 0.17 can fail to reopen its store after a crash; never crash-loop on it
            quarantineStore(dataPath, e);
            return startMoquette(dataPath, tls);
        }
    }

    private Server startMoquette(Path dataPath, TlsContext tls) {
        Server moquette = new Server();
        GatedClients gated = new GatedClients();
        this.gated = gated;
        clients.gate(gated, clientId -> CompletableFuture.runAsync(() -> {
            try {
                moquette.disconnectClient(clientId);
            } catch (RuntimeException e) {
                // gone already
            }
        }, CompletableFuture.delayedExecutor(20, TimeUnit.MILLISECONDS)));
        BrokerSecurity security = new BrokerSecurity(access, config.maxTopicLevels(), registry, gated);
        try {
            moquette.startServer(MoquetteSettings.of(config, dataPath, allowAnonymous), List.of(clients), tls, security,
                    security);
            SessionLoops sessionLoops = SessionLoops.install(moquette, config.sessionLoopStallTimeout().toMillis(), registry);
            loops = sessionLoops;
            SessionQueues sessionQueues = SessionQueues.install(moquette, sessionLoops, config.maxQueuedMessages(), registry);
            this.sessionQueues = sessionQueues;
            RetainedStore retainedStore = RetainedStore.install(moquette);
            SessionExpiries expiries = SessionExpiries.install(moquette, config.sessionExpiry()
                    .map(expiry -> (int) Math.min(SessionExpiries.NEVER, expiry.toSeconds())).orElse(SessionExpiries.NEVER),
                    heldElsewhere);
            clients.expiries(expiries);
            expiries.onExpired(clientId -> expiredListener.accept(clientId));
            transfer = new SessionTransfer(moquette, sessionLoops, sessionQueues.sessions(), expiries, this::isRunning);
            retained = retainedStore;
            GateOutcomes outcomes = new GateOutcomes(registry);
            Admission admission = new Admission(access, config, outcomes);
            admission.accepting = !hooks.iterator().hasNext();
            this.admission = admission;
            Mqtt5 mqtt5 = admission.mqtt5();
            expiries.perSession(mqtt5::grantedExpiry, clientId -> takeSession(clientId).whenComplete((taken, failure) -> {
                if (failure == null && taken != null) {
                    mqtt5.ended(clientId);
                    BridgeLog.LOG.sessionExpiredEarly(clientId);
                    expiredListener.accept(clientId);
                }
            }));
            Mqtt5Subscriptions mqtt5Subscriptions = new Mqtt5Subscriptions(config.maxTopicLevels(), (clientId, filter) -> {
                ClientTracker.Client client = clients.client(clientId);
                return client != null && client.subscriptions().contains(filter);
            });
            MqttGate gate = new MqttGate(admission,
                    new PublishPath(access, uplink::append, uplink::acceptingPublishes, retainedStore, outcomes,
                            config.maxTopicLevels(), mqtt5Subscriptions, registry),
                    new FlowControl(sessionQueues, uplink::intakePaced, admission.connectTimeoutMillis(), registry),
                    new DeliveryFilter(access, retainedStore, MoquetteFields.subscriptions(moquette), mqtt5Subscriptions,
                            registry),
                    new InflightResends(sessionLoops, sessionQueues.sessions()), outcomes, config.slowReaderTimeout().toMillis(),
                    this::will, clientId -> arrivals.reopening(clientId), gated, this::takeSession, mqtt5Subscriptions,
                    delayedWills);
            if (!MqttGate.install(moquette, gate)) {
                throw new IllegalStateException("cannot install the connection gate into Moquette's pipeline "
                        + "(a Moquette version other than 0.17?)");
            }
            if (!InlineInterceptors.install(moquette)) {
                BridgeLog.LOG.interceptorsNotInline();
            }
            return moquette;
        } catch (IOException | RuntimeException e) {
            stopQuietly(moquette);
            if (causedBy(e, BindException.class)) {
                throw portInUse(e, tls != null);
            }
            throw new IllegalStateException("The MQTT broker failed to start: " + e.getMessage(), e);
        }
    }

    /** One MQTT listener, for the message when its port is taken. */
    private record Listener(String what, int port, String key, String hint) {
    }

    /** Names the listener whose port is taken (Moquette's BindException ends with ": <port>") and its key. */
    private IllegalStateException portInUse(Exception bindFailure, boolean tls) {
        String message = String.valueOf(bindFailure.getMessage());
        List<Listener> listeners = new java.util.ArrayList<>(List.of(new Listener("MQTT WebSocket port",
                config.websocketPort(), "bridge.broker.websocket-port", " (-1 turns the WebSocket listener off)")));
        if (tls) {
            listeners.add(new Listener("MQTT TLS port", config.tlsPort(), "bridge.broker.tls-port", " (0 picks one)"));
            listeners.add(new Listener("MQTT WebSocket TLS port", config.websocketTlsPort(), "bridge.broker.websocket-tls-port",
                    " (-1 turns the WebSocket TLS listener off)"));
        }
        Listener taken = listeners.stream().filter(l -> l.port() > 0 && message.endsWith(": " + l.port())).findFirst()
                .orElse(new Listener("MQTT port", config.port(), "bridge.broker.port", " (0 picks one)"));
        return new IllegalStateException(taken.what() + " " + taken.port() + " on " + config.host() + " is already in use ("
                + taken.key() + "): stop what holds it, or set " + taken.key() + " to a free port" + taken.hint(), bindFailure);
    }

    private void quarantineStore(Path dataPath, Exception failure) {
        Path store = dataPath.resolve(MoquetteSettings.STORE_FILE);
        if (!Files.exists(store)) {
            throw new IllegalStateException(failure.getMessage(), failure);
        }
        Path aside = dataPath.resolve(MoquetteSettings.STORE_FILE + ".broken-" + System.currentTimeMillis());
        try {
            Files.move(store, aside);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot move the broken broker store " + store + " aside", e);
        }
        quarantined.increment();
        BridgeLog.LOG.storeQuarantined(store.toString(), String.valueOf(rootCause(failure).getMessage()), aside.toString());
    }

    private void logRoutes() {
        if (routes.table().uplinkRoutes().isEmpty()) {
            BridgeLog.LOG.noUplinkRoute();
        }
        if (routes.table().downlinkRoutes().isEmpty()) {
            BridgeLog.LOG.noDownlinkRoute();
        }
        BridgeLog.LOG.routes(
                routes.table().uplinkRoutes().stream().map(r -> r.name() + ": " + r.filter() + " -> " + r.kafkaTopic()).toList().toString(),
                routes.table().downlinkRoutes().stream().map(r -> r.name() + ": " + r.kafkaTopic() + " -> " + r.mqttTopic()).toList().toString());
    }

    /**
     * The port the broker listens on. A configured port is known; for port 0 Moquette records the bound port from
     * a Netty listener a moment after startServer returns, in a plain HashMap that {@code getPort()} reads with
     * {@code computeIfAbsent}: poll gently and try again when the two collide.
     */
    private int awaitBoundPort(Server moquette) {
        if (config.port() > 0) {
            return config.port();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            try {
                int bound = moquette.getPort();
                if (bound != 0) {
                    return bound;
                }
            } catch (java.util.ConcurrentModificationException e) {
                // Moquette's listener thread was writing the port at that moment
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        throw new IllegalStateException("The MQTT broker did not report its listening port within 5 s");
    }

    /**
     * On SIGTERM, first of all: close the MQTT listeners and every connection, and let the interceptor finish, so
     * every publish the broker acknowledged is in the journal before it drains to Kafka.
     */
    void stopAccepting(@Observes @Priority(STOP_PRIORITY) ShutdownEvent event) {
        stop();
    }

    /** Whether the broker runs (false before start-up and from the start of shutdown on). */
    public boolean isRunning() {
        return server != null;
    }

    @PreDestroy
    synchronized void stop() {
        stopped = true;
        Server moquette = server;
        server = null;
        if (moquette != null) {
            // MQTT 5 clients learn why (0x8B) and reconnect, to another replica behind the Service
            gated.tellEveryone(Mqtt5.SERVER_SHUTTING_DOWN);
            loops.close();
            moquette.stopServer();
            BridgeLog.LOG.brokerStopped();
        }
    }

    /** The session loops of the running broker (null before it starts); for the watchdog's own test. */
    SessionLoops sessionLoops() {
        return loops;
    }

    /**
     * What keeps the broker from serving every client, for liveness: a session loop that has ended or is stuck in
     * one command ({@code bridge.broker.session-loop-stall-timeout}); empty while all serve.
     */
    public java.util.Optional<String> sessionLoopProblem() {
        SessionLoops current = loops;
        return current == null ? java.util.Optional.empty() : current.problem();
    }

    /** The clients connected now, with their subscriptions. */
    public ClientTracker clients() {
        return clients;
    }

    /** The MQTT version ({@code 3.1}, {@code 3.1.1}, {@code 5}) a client is connected with here, or null. */
    public String protocolVersion(String clientId) {
        return gated.protocolVersion(clientId);
    }

    /** The address ({@code host:port}) of each connected client, by client id. */
    public Map<String, String> addresses() {
        Server moquette = server;
        Map<String, String> addresses = new HashMap<>();
        if (moquette != null) {
            for (ClientDescriptor client : moquette.listConnectedClients()) {
                addresses.put(client.getClientID(), client.getAddress() + ":" + client.getPort());
            }
        }
        return addresses;
    }

    /**
     * Closes a connected client's connection.
     *
     * @return false when no client with that id is connected (Moquette itself throws for offline sessions)
     */
    public boolean disconnect(String clientId) {
        Server moquette = server;
        if (moquette == null || clients.client(clientId) == null) {
            return false;
        }
        gated.tell(clientId, Mqtt5.ADMINISTRATIVE_ACTION);
        try {
            return moquette.disconnectClient(clientId);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The WebSocket port, or -1 when the WebSocket listener is off. */
    public int websocketPort() {
        return config.websocketPort();
    }

    /**
     * True while some session loop has less than half of its command queue free (what pauses MQTT publishers,
     * {@link FlowControl}): a caller of {@link #publish} that can wait should, until {@link #caughtUp()}, or Moquette
     * drops the commands of what it publishes once a queue is full.
     */
    public boolean behind() {
        SessionQueues queues = sessionQueues;
        return queues != null && queues.congested();
    }

    /** True once every session loop has three quarters of its command queue free again (or the broker stopped). */
    public boolean caughtUp() {
        SessionQueues queues = sessionQueues;
        return queues == null || server == null || !queues.stillCongested();
    }

    /** Completes once the broker accepts connections and {@link #publish} works. */
    public CompletionStage<Void> started() {
        return started;
    }

    /** The MQTT port the broker listens on: the configured one, or the one picked when bridge.broker.port=0. */
    public int port() {
        return port;
    }

    /**
     * Publishes into the broker as the bridge itself: subscribed devices receive it; the uplink does not see it. A
     * retained message is kept at any QoS ({@link RetainedStore}).

     * @throws IllegalStateException when the broker is not running
     */
    public void publish(String topic, byte[] payload, int qos, boolean retain) {
        publish(topic, payload, io.mqttkafkabridge.routing.MessageProperties.NONE, qos, retain);
    }

    /**
     * Publishes {@code payload} with MQTT 5 {@code properties} to the broker's subscribers (MQTT 5 subscribers get the
     * properties, 3.1.1 subscribers the payload alone).
     */
    public void publish(String topic, byte[] payload, io.mqttkafkabridge.routing.MessageProperties properties, int qos,
            boolean retain) {
        if (retain && payload.length == 0) {
            // clears what is retained (MQTT-3.3.1-10): bare, or its envelope would be retained instead
            publishKept(topic, payload, qos, true);
            return;
        }
        publishKept(topic, MessageEnvelope.wrap(payload, properties, retain, null), qos, retain);
    }

    /**
     * Publishes what another replica's broker keeps for a message ({@link MessageEnvelope}: payload and properties):
     * the cluster's forwarded messages.
     */
    public void publishKept(String topic, byte[] payload, int qos, boolean retain) {
        Server moquette = server;
        if (moquette == null) {
            throw new IllegalStateException("The MQTT broker is not running");
        }
        if (retain) {
            retained.set(topic, qos, payload);
        }
        MqttFixedHeader fixed = new MqttFixedHeader(MqttMessageType.PUBLISH, false, MqttQoS.valueOf(qos), retain, 0);
        MqttPublishVariableHeader variable = new MqttPublishVariableHeader(topic, 0);
        moquette.internalPublish(new MqttPublishMessage(fixed, variable, Unpooled.wrappedBuffer(payload)), INTERNAL_CLIENT_ID);
        sent[qos].increment();
    }

    /**
     * A will, when its connection ended without DISCONNECT (the gate calls this on the connection's event loop):
     * journaled as a publish of its client (so the uplink routes and the cluster see it as one), and delivered here.
     * The will is published even when the journal cannot take it: there is no device to refuse. Not while the broker
     * stops (a rolling restart is no reason to tell the world that every device is gone).
     */
    private void will(io.mqttkafkabridge.routing.MqttPublication will) {
        if (server == null) {
            return; // the broker is stopping: its clients will reconnect elsewhere, they are not gone
        }
        if (!uplink.acceptingPublishes() || !uplink.append(will)) {
            BridgeLog.LOG.willNotJournaled(will.clientId(), will.topic());
        }
        publish(will.topic(), will.payload(), will.properties(), will.qos(), will.retain());
    }

    /**
     * Sets what is retained for {@code topic} (an empty payload clears it) without delivering anything: the cluster's
     * retained messages, as other replicas kept them.
     */
    public void applyRetained(String topic, int qos, byte[] payload) {
        RetainedStore store = retained;
        if (store == null) {
            throw new IllegalStateException("The MQTT broker is not running");
        }
        store.set(topic, qos, payload);
    }

    // ---- persistent sessions moving between replicas (the cluster)

    /** Sets who brings a persistent session here before Moquette sees the CONNECT that reopens it. */
    public void sessionArrivals(SessionArrivals arrivals) {
        this.arrivals = arrivals;
    }

    /** Sets who is told of each persistent session that expired here (on Moquette's expiry thread; must not throw). */
    public void onSessionExpired(java.util.function.Consumer<String> listener) {
        this.expiredListener = listener;
    }

    /** The client ids of the persistent sessions held here, connected or offline. */
    public List<String> persistentSessions() {
        SessionTransfer current = transfer;
        return current == null ? List.of() : current.persistentSessions();
    }

    /**
     * Takes a session out of this broker, closing its connection: completes with its subscriptions and the messages
     * in flight and queued for it, in order, or with null when none is here ({@link SessionTransfer#take}).
     */
    public CompletionStage<SessionTransfer.Taken> takeSession(String clientId) {
        SessionTransfer current = transfer;
        if (current == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("The MQTT broker is not running"));
        }
        GatedClients handedOver = gated;
        handedOver.takenOver(clientId);
        delayedWills.resumed(clientId); // the session goes on elsewhere: its will waits no more
        return current.take(clientId);
    }

    /** Places a persistent session here, or adds to it: {@code messages} go before what is queued here ({@link SessionTransfer#place}). */
    public CompletionStage<Void> placeSession(String clientId, List<SessionTransfer.Sub> subscriptions,
            List<SessionTransfer.Message> messages) {
        SessionTransfer current = transfer;
        return current == null ? CompletableFuture.failedFuture(new IllegalStateException("The MQTT broker is not running"))
                : current.place(clientId, subscriptions, messages);
    }

    /** Every (client id, topic filter, QoS) the broker holds now, including those of offline persistent sessions. */
    public List<String[]> storedSubscriptions() {
        Server moquette = server;
        return moquette == null ? List.of() : MoquetteFields.storedSubscriptions(moquette);
    }

    private static void stopQuietly(Server moquette) {
        try {
            moquette.stopServer();
        } catch (RuntimeException ignored) {
            // the start failure is what the user needs to see
        }
    }

    private static Throwable rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }
}
