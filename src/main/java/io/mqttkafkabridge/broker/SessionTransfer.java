package io.mqttkafkabridge.broker;

import static io.mqttkafkabridge.broker.MoquetteFields.field;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import io.moquette.broker.ISessionsRepository;
import io.moquette.broker.Server;
import io.moquette.broker.SessionRegistry;
import io.moquette.broker.subscriptions.ISubscriptionsDirectory;
import io.moquette.broker.subscriptions.Subscription;
import io.moquette.broker.subscriptions.Topic;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttVersion;

/**
 * Moves persistent sessions into and out of Moquette 0.17, which has no API for it: what the cluster needs so that a
 * device finds its session on whichever replica it reaches (README, Cluster). Everything runs on the session's own
 * loop ({@link SessionLoops}), where Moquette itself changes the session, so a move never races a PUBACK or a
 * delivery to it.
 * <ul>
 * <li>{@link #take}: the session leaves this broker. Its connection (if any) is closed as Moquette closes one taken
 * over, its subscriptions, the messages in flight (in packet id order) and those queued are read, and the session is
 * removed with its subscriptions and its stored record.</li>
 * <li>{@link #place}: a session arrives. It is created offline, as Moquette reopens one from its store, when it is not
 * here yet (so the CONNECT that follows gets session present 1); messages handed over go before those queued here
 * meanwhile (they are older) through the session's own queue, so {@code bridge.broker.max-queued-messages} holds with
 * its drop-newest rule, counter and log line; then its subscriptions are added.</li>
 * </ul>
 * Field, constructor and method names are those of Moquette 0.17 (checked by {@code NativeRegistrationsTest}).
 */
public final class SessionTransfer {

    /** A subscription of a moved session. */
    public record Sub(String filter, int qos) {
    }

    /** A message of a moved session, in delivery order: in flight first, then queued. */
    public record Message(String topic, int qos, byte[] payload) {
    }

    /** What {@link #take} read of a session. */
    public record Taken(boolean cleanSession, List<Sub> subscriptions, List<Message> messages) {
    }

    private static final Class<?> SESSION;
    private static final Constructor<?> NEW_SESSION;
    private static final Field CONNECTION;
    private static final Method CLOSE_IMMEDIATELY;
    private static final Method SEND;
    private static final Method FLUSH;
    private static final Method IS_CLEAN;
    private static final Method SESSION_DATA;
    private static final Method REMOVE;
    static {
        try {
            SESSION = Class.forName("io.moquette.broker.Session");
            NEW_SESSION = SESSION.getDeclaredConstructor(ISessionsRepository.SessionData.class, boolean.class,
                    Class.forName("io.moquette.broker.SessionMessageQueue"));
            NEW_SESSION.setAccessible(true);
            CONNECTION = field(SESSION, "mqttConnection");
            CLOSE_IMMEDIATELY = method(SESSION, "closeImmediately");
            SEND = method(SESSION, "sendNotRetainedPublishOnSessionAtQos", Topic.class, MqttQoS.class, ByteBuf.class);
            FLUSH = method(SESSION, "flushAllQueuedMessages");
            IS_CLEAN = method(SESSION, "isClean");
            SESSION_DATA = method(SESSION, "getSessionData");
            REMOVE = method(SessionRegistry.class, "remove", String.class);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("not Moquette 0.17's Session: " + e, e);
        }
    }

    private final SessionLoops loops;
    private final SessionRegistry registry;
    private final Map<String, Object> pool;
    private final ISubscriptionsDirectory directory;
    private final io.moquette.broker.ISubscriptionsRepository stored;
    private final Object queueRepository;
    private final Method getOrCreateQueue;
    private final SessionExpiries expiries;
    private final int expirySeconds;

    private final java.util.function.BooleanSupplier running;
    private final java.util.concurrent.DelayQueue<ISessionsRepository.SessionData> removable;

    SessionTransfer(Server moquette, SessionLoops loops, Map<String, Object> pool, SessionExpiries expiries,
            java.util.function.BooleanSupplier running) {
        try {
            this.running = running;
            this.loops = loops;
            this.pool = pool;
            this.expiries = expiries;
            this.registry = (SessionRegistry) field(Server.class, "sessions").get(moquette);
            this.directory = MoquetteFields.subscriptions(moquette);
            this.stored = (io.moquette.broker.ISubscriptionsRepository) field(directory.getClass(), "subscriptionsRepository")
                    .get(directory);
            this.queueRepository = field(SessionRegistry.class, "queueRepository").get(registry);
            this.getOrCreateQueue = method(Class.forName("io.moquette.broker.IQueueRepository"), "getOrCreateQueue", String.class);
            this.expirySeconds = field(SessionRegistry.class, "globalExpirySeconds").getInt(registry);
            @SuppressWarnings("unchecked")
            java.util.concurrent.DelayQueue<ISessionsRepository.SessionData> tracked =
                    (java.util.concurrent.DelayQueue<ISessionsRepository.SessionData>) field(SessionRegistry.class, "removableSessions").get(registry);
            this.removable = tracked;
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalStateException("cannot move Moquette's sessions (a Moquette version other than 0.17?): " + e, e);
        }
    }

    /** The client ids of the persistent sessions this broker holds (connected or not). */
    List<String> persistentSessions() {
        List<String> ids = new ArrayList<>();
        pool.forEach((clientId, session) -> {
            try {
                if (!(boolean) IS_CLEAN.invoke(session)) {
                    ids.add(clientId);
                }
            } catch (ReflectiveOperationException e) {
                // accessible since class initialization: cannot happen
            }
        });
        return ids;
    }

    /**
     * Takes a session out of this broker (closing its connection): completes with what it held, or null when there
     * was no session for {@code clientId}.
     */
    CompletionStage<Taken> take(String clientId) {
        return onLoop(clientId, () -> {
            Object session = pool.get(clientId);
            if (session == null || !running.getAsBoolean()) {
                return null; // none here, or the broker stops: its store keeps the session, handed over after the restart
            }
            if (CONNECTION.get(session) != null) {
                CLOSE_IMMEDIATELY.invoke(session); // as Moquette closes a connection taken over: no will, no expiry
            }
            boolean clean = (boolean) IS_CLEAN.invoke(session);
            // a session reopened from the store has its subscriptions in the tree and the store, not in its own set
            java.util.Set<Subscription> held = new java.util.HashSet<>();
            for (Object s : ((java.util.Set<?>) SessionQueues.SUBSCRIPTIONS.get(session)).toArray()) {
                held.add((Subscription) s);
            }
            for (Subscription stored : stored.listAllSubscriptions()) {
                if (clientId.equals(stored.getClientId())) {
                    held.add(stored);
                }
            }
            List<Sub> subscriptions = new ArrayList<>();
            for (Subscription subscription : held) {
                subscriptions.add(new Sub(subscription.getTopicFilter().toString(), subscription.getRequestedQos().value()));
                directory.removeSubscription(subscription.getTopicFilter(), clientId);
            }
            List<Message> messages = new ArrayList<>();
            if (!clean) {
                SessionQueues.inflight(session, false).forEach(published -> messages.add(message(published)));
                for (SessionRegistry.EnqueuedMessage queued : SessionQueues.drain(queue(session))) {
                    if (queued instanceof SessionRegistry.PublishedMessage published) {
                        messages.add(message(published));
                    }
                }
            }
            ISessionsRepository.SessionData data = (ISessionsRepository.SessionData) SESSION_DATA.invoke(session);
            REMOVE.invoke(registry, clientId); // the pool (SessionQueues' removes its subscriptions too), then cleanup
            expiries.forget(data);
            return new Taken(clean, subscriptions, messages);
        });
    }

    /**
     * Places a persistent session here: created offline when absent, {@code messages} queued before what is queued
     * here already, {@code subscriptions} added. Completes once done, on the session's loop.
     */
    CompletionStage<Void> place(String clientId, List<Sub> subscriptions, List<Message> messages) {
        return onLoop(clientId, () -> {
            Object session = pool.get(clientId);
            if (session == null) {
                ISessionsRepository.SessionData data = new ISessionsRepository.SessionData(clientId, MqttVersion.MQTT_3_1_1,
                        expirySeconds, Clock.systemDefaultZone());
                session = NEW_SESSION.newInstance(data, false, getOrCreateQueue.invoke(queueRepository, clientId));
                pool.put(clientId, session); // SessionQueues' pool gives it the bridge's in-flight window
                expiries.saveSession(data);
                // offline until its device connects (Moquette stops tracking it then): it expires here as any other
                removable.add(data.withExpirationComputed());
            } else if ((boolean) IS_CLEAN.invoke(session)) {
                return null; // a clean session connected here meanwhile: what the old one held is not its
            }
            if (!messages.isEmpty()) {
                io.moquette.broker.SessionMessageQueue<SessionRegistry.EnqueuedMessage> queue = queue(session);
                List<SessionRegistry.EnqueuedMessage> newer = SessionQueues.drain(queue);
                for (Message message : messages) {
                    SEND.invoke(session, new Topic(message.topic()), MqttQoS.valueOf(message.qos()),
                            Unpooled.wrappedBuffer(message.payload()));
                }
                for (SessionRegistry.EnqueuedMessage queued : newer) {
                    queue.enqueue(queued); // over the limit: the newest are dropped, counted and logged
                }
                FLUSH.invoke(session);
            }
            List<Subscription> added = new ArrayList<>();
            for (Sub sub : subscriptions) {
                Subscription subscription = new Subscription(clientId, new Topic(sub.filter()), MqttQoS.valueOf(sub.qos()));
                directory.add(subscription);
                added.add(subscription);
            }
            @SuppressWarnings("unchecked")
            java.util.Set<Subscription> held = (java.util.Set<Subscription>) SessionQueues.SUBSCRIPTIONS.get(session);
            held.removeAll(added); // a higher or lower QoS replaces the one held (equality is client and filter)
            held.addAll(added);
            return null;
        });
    }

    private static Message message(SessionRegistry.PublishedMessage published) {
        return new Message(published.getTopic().toString(), published.getPublishingQos().value(), SessionQueues.bytes(published));
    }

    @SuppressWarnings("unchecked")
    private static io.moquette.broker.SessionMessageQueue<SessionRegistry.EnqueuedMessage> queue(Object session)
            throws IllegalAccessException {
        return (io.moquette.broker.SessionMessageQueue<SessionRegistry.EnqueuedMessage>) SessionQueues.SESSION_QUEUE.get(session);
    }

    /** A command that may throw reflection's exceptions. */
    private interface Command<T> {
        T run() throws ReflectiveOperationException;
    }

    private <T> CompletionStage<T> onLoop(String clientId, Command<T> command) {
        CompletableFuture<T> done = new CompletableFuture<>();
        Runnable task = () -> {
            try {
                done.complete(command.run());
            } catch (InvocationTargetException e) {
                done.completeExceptionally(e.getCause());
            } catch (ReflectiveOperationException | RuntimeException e) {
                done.completeExceptionally(e);
            }
        };
        if (!loops.run(clientId, task)) {
            done.completeExceptionally(new IllegalStateException("the session loop of client " + clientId + " is full"));
        }
        return done;
    }

    private static Method method(Class<?> type, String name, Class<?>... parameters) throws NoSuchMethodException {
        Method method = type.getDeclaredMethod(name, parameters);
        method.setAccessible(true);
        return method;
    }
}
