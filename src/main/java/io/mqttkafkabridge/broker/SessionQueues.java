package io.mqttkafkabridge.broker;

import static io.mqttkafkabridge.broker.MoquetteFields.field;

import java.lang.reflect.Field;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.moquette.broker.IQueueRepository;
import io.moquette.broker.Server;
import io.moquette.broker.SessionMessageQueue;
import io.moquette.broker.SessionRegistry;
import io.moquette.broker.subscriptions.ISubscriptionsDirectory;
import io.moquette.broker.subscriptions.Subscription;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.metrics.BridgeMetrics;

/**
 * What Moquette 0.17 leaves unbounded between a publisher and a subscriber, bounded:
 * <ul>
 * <li><b>The session loops' command queues.</b> Every PUBLISH becomes a command on the publisher's session loop and
 * one on each subscriber's loop, in bounded queues ({@code bridge.broker.session-loop-queue-size}). When a queue is full, Moquette drops
 * the command: the publisher gets no PUBACK and stalls (its in-flight window fills), the message reaches neither the
 * subscriber nor Kafka. {@link #congested()} tells {@link MqttGate} to stop reading from publishing connections
 * until the loops have caught up, so the queues never fill: back-pressure to the TCP connection, as Mosquitto and
 * HiveMQ do.</li>
 * <li><b>Each session's message queue</b> (QoS 1/2 messages beyond the in-flight window of 10: an offline persistent
 * session, or a subscriber slower than its publishers). Moquette has no limit. Beyond
 * {@code bridge.broker.max-queued-messages}, new messages for that session are dropped (released), counted and
 * logged once until the session catches up (MKB0015/MKB0016), like Mosquitto's {@code max_queued_messages}.</li>
 * <li><b>Each session's in-flight window</b>, keyed by packet id. A persistent session that reconnects gets a new
 * connection whose packet ids start at 1 again, while the window still holds the messages the old connection never
 * saw acknowledged; Moquette puts a new message under a reused id and releases the old one: it is lost (measured: 1
 * of 500,000 in {@code SessionLoadIT}). {@link InflightWindow} puts the displaced message back into the session's
 * queue instead, so it is delivered again, later than its original order.</li>
 * <li><b>Each session's maps by packet id</b> (in-flight window, QoS 2 messages being received) are owned from the
 * session's creation on ({@link SessionPool}) and hand out nothing once Moquette has cleaned the session up
 * ({@link Purgeable}).</li>
 * <li><b>An expired session's subscriptions</b> leave the subscription tree with it ({@link SessionPool}).</li>
 * </ul>
 * Installed by reflection into a started {@link Server} (field names checked against Moquette 0.17 by
 * {@code NativeRegistrationsTest}). Queue operations run on the owning session's loop thread; only counters are shared.
 */
final class SessionQueues {


    /** {@code Session.sessionQueue}, also read by {@link SessionTransfer}. */
    static final Field SESSION_QUEUE;
    /** {@code Session.inflightWindow}, also read by {@link InflightResends} and {@link SessionTransfer}. */
    static final Field INFLIGHT_WINDOW;
    /** {@code Session.subscriptions}, also read by {@link SessionTransfer}. */
    static final Field SUBSCRIPTIONS;
    private static final Field QOS2_RECEIVING;
    static {
        try {
            Class<?> session = Class.forName("io.moquette.broker.Session");
            SESSION_QUEUE = field(session, "sessionQueue");
            INFLIGHT_WINDOW = field(session, "inflightWindow");
            SUBSCRIPTIONS = field(session, "subscriptions");
            QOS2_RECEIVING = field(session, "qos2Receiving");
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("not Moquette 0.17's Session: " + e, e);
        }
    }

    private final BlockingQueue<?>[] commandQueues;
    /** {@code bridge.broker.session-loop-queue-size}: the capacity of each loop's command queue. */
    private final int commandQueueSize;
    private final int limit;
    private final Counter dropped;
    private final AtomicLong queued = new AtomicLong();
    private final ConcurrentMap<String, Object> pool;

    private final SessionLoops loops;

    private SessionQueues(SessionLoops loops, ConcurrentMap<String, Object> pool, int limit, MeterRegistry registry) {
        this.loops = loops;
        this.commandQueues = loops.queues();
        this.commandQueueSize = commandQueues.length == 0 ? 0 : commandQueues[0].remainingCapacity() + commandQueues[0].size();
        this.pool = pool;
        this.limit = limit;
        this.dropped = Counter.builder(BridgeMetrics.MQTT_QUEUE_DROPPED)
                .description("QoS 1/2 messages not queued for a session that held bridge.broker.max-queued-messages")
                .register(registry);
        Gauge.builder(BridgeMetrics.MQTT_QUEUED_MESSAGES, queued, AtomicLong::get)
                .description("QoS 1/2 messages waiting in sessions' queues (offline or slow subscribers)").register(registry);
    }

    /**
     * Bounds the queues of a started broker: the sessions it reopened from its store and every session it creates
     * from now on.
     *
     * @param limit most messages one session may hold queued; 0 for no limit
     * @throws IllegalStateException when Moquette's internals are not those of 0.17
     */
    static SessionQueues install(Server moquette, SessionLoops loops, int limit, MeterRegistry registry) {
        try {
            ISubscriptionsDirectory directory = MoquetteFields.subscriptions(moquette);
            SessionRegistry sessions = (SessionRegistry) field(Server.class, "sessions").get(moquette);
            Field poolField = field(SessionRegistry.class, "pool");
            @SuppressWarnings("unchecked")
            ConcurrentMap<String, Object> current = (ConcurrentMap<String, Object>) poolField.get(sessions);
            SessionPool pool = current instanceof SessionPool installed ? installed : new SessionPool(current, directory);
            poolField.set(sessions, pool);
            SessionQueues queues = new SessionQueues(loops, pool, limit, registry);

            Field repositoryField = field(SessionRegistry.class, "queueRepository");
            IQueueRepository repository = (IQueueRepository) repositoryField.get(sessions);
            repositoryField.set(sessions, queues.new Repository(repository));

            for (var session : pool.entrySet()) {
                @SuppressWarnings("unchecked")
                SessionMessageQueue<SessionRegistry.EnqueuedMessage> queue =
                        (SessionMessageQueue<SessionRegistry.EnqueuedMessage>) SESSION_QUEUE.get(session.getValue());
                if (!(queue instanceof Bounded)) {
                    Bounded bounded = queues.new Bounded(String.valueOf(session.getKey()), queue);
                    SESSION_QUEUE.set(session.getValue(), bounded);
                    bounded.own(session.getValue());
                }
            }
            return queues;
        } catch (ReflectiveOperationException | ClassCastException | ExceptionInInitializerError e) {
            throw new IllegalStateException("cannot bound Moquette's session queues (a Moquette version other than 0.17?): " + e, e);
        }
    }

    /** Moquette's sessions by client id (its session registry's pool). */
    java.util.Map<String, Object> sessions() {
        return pool;
    }

    /**
     * True while some session loop has less than half of its command queue free: {@link MqttGate} then pauses
     * reading from publishing connections (each goes on with the packet it is reading, at most one more per
     * connection). The other half leaves room for those.
     */
    boolean congested() {
        return anyBelow(commandQueueSize / 2);
    }

    /** True until the loops have worked their queues down to three quarters free (paused connections resume then). */
    boolean stillCongested() {
        return anyBelow(commandQueueSize * 3 / 4);
    }

    private boolean anyBelow(int free) {
        for (BlockingQueue<?> queue : commandQueues) {
            if (queue.remainingCapacity() < free) {
                return true;
            }
        }
        return false;
    }

    /**
     * Moquette's session registry pool. A new session gets the bridge's in-flight window and QoS 2 receiving map
     * ({@link Bounded#own}); a removed one also leaves the subscription tree: Moquette 0.17 removes the session only, and its filters keep matching (and costing) for ever. Sessions
     * are removed from the pool only when they expire or are purged (a clean session, which Moquette unsubscribes
     * first; doing it twice changes nothing). Runs on Moquette's expiry thread; an offline session's subscriptions do
     * not change meanwhile.
     */
    private static final class SessionPool extends java.util.concurrent.ConcurrentHashMap<String, Object> {
        private static final long serialVersionUID = 1L;
        private final transient ISubscriptionsDirectory directory;

        SessionPool(java.util.Map<String, Object> current, ISubscriptionsDirectory directory) {
            super(current);
            this.directory = directory;
        }

        /** A session Moquette creates (on its loop, before it is used): its maps become the bridge's. */
        @Override
        public Object put(String clientId, Object session) {
            try {
                if (SESSION_QUEUE.get(session) instanceof Bounded bounded) {
                    bounded.own(session);
                }
            } catch (IllegalAccessException e) {
                // accessible since class initialization: cannot happen
            }
            return super.put(clientId, session);
        }

        @Override
        public Object remove(Object clientId) {
            Object session = super.remove(clientId);
            if (session != null) {
                try {
                    for (Object subscription : ((java.util.Set<?>) SUBSCRIPTIONS.get(session)).toArray()) {
                        directory.removeSubscription(((Subscription) subscription).getTopicFilter(), (String) clientId);
                    }
                } catch (IllegalAccessException | RuntimeException e) {
                    // the session's own cleanup goes on; at worst its filters stay, as in Moquette alone
                }
            }
            return session;
        }
    }

    /** Moquette's queue repository, handing out bounded queues. */
    private final class Repository implements IQueueRepository {
        private final IQueueRepository delegate;

        Repository(IQueueRepository delegate) {
            this.delegate = delegate;
        }

        @Override
        public Set<String> listQueueNames() {
            return delegate.listQueueNames();
        }

        @Override
        public boolean containsQueue(String clientId) {
            return delegate.containsQueue(clientId);
        }

        @Override
        public SessionMessageQueue<SessionRegistry.EnqueuedMessage> getOrCreateQueue(String clientId) {
            SessionMessageQueue<SessionRegistry.EnqueuedMessage> queue = delegate.getOrCreateQueue(clientId);
            return queue instanceof Bounded ? queue : new Bounded(clientId, queue);
        }

        /** Moquette closes the store when it stops, after its listeners: persistent sessions' in-flight messages go in first. */
        @Override
        public void close() {
            requeueInflight();
            delegate.close();
        }
    }

    /**
     * On a clean stop, each persistent session's messages in flight (sent, not acknowledged) go back to the head of its
     * queue, in packet id order, so that the store keeps them: Moquette 0.17 keeps the in-flight window in memory only,
     * and a restart lost them (a rolling restart under load, measured in ClusterSessionsIT). Runs on each session's loop;
     * waits 3 s at most.
     */
    private void requeueInflight() {
        List<java.util.concurrent.CompletableFuture<Void>> done = new java.util.ArrayList<>();
        pool.forEach((clientId, session) -> {
            java.util.concurrent.CompletableFuture<Void> requeued = new java.util.concurrent.CompletableFuture<>();
            if (loops.run(clientId, () -> {
                try {
                    requeueInflight(session);
                } catch (IllegalAccessException | RuntimeException e) {
                    // the session keeps what it had; Moquette's store closes as before
                } finally {
                    requeued.complete(null);
                }
            })) {
                done.add(requeued);
            }
        });
        try {
            java.util.concurrent.CompletableFuture.allOf(done.toArray(java.util.concurrent.CompletableFuture[]::new))
                    .get(3, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            // a loop that does not answer keeps its sessions' in-flight messages in memory, as Moquette alone does
        }
    }

    private static void requeueInflight(Object session) throws IllegalAccessException {
        if (!(SESSION_QUEUE.get(session) instanceof Bounded queue)) {
            return; // a clean session (Moquette's own in-memory queue): nothing outlives the process
        }
        List<SessionRegistry.PublishedMessage> inflight = inflight(session, true);
        if (inflight.isEmpty()) {
            return;
        }
        List<SessionRegistry.EnqueuedMessage> queued = drain(queue);
        inflight.forEach(queue::requeue);
        queued.forEach(queue::requeue);
    }

    /** A session's published messages in flight, in packet id order; {@code remove}: taken out of its window too. */
    static List<SessionRegistry.PublishedMessage> inflight(Object session, boolean remove) throws IllegalAccessException {
        @SuppressWarnings("unchecked")
        java.util.Map<Integer, SessionRegistry.EnqueuedMessage> window =
                (java.util.Map<Integer, SessionRegistry.EnqueuedMessage>) INFLIGHT_WINDOW.get(session);
        List<SessionRegistry.PublishedMessage> inflight = new java.util.ArrayList<>();
        for (Integer packetId : new java.util.TreeMap<>(window).keySet()) {
            if (window.get(packetId) instanceof SessionRegistry.PublishedMessage published) {
                inflight.add(published);
                if (remove) {
                    window.remove(packetId);
                }
            }
        }
        return inflight;
    }

    /** Dequeues everything {@code queue} holds, in order (on its session's loop). */
    static List<SessionRegistry.EnqueuedMessage> drain(SessionMessageQueue<SessionRegistry.EnqueuedMessage> queue) {
        List<SessionRegistry.EnqueuedMessage> drained = new java.util.ArrayList<>();
        while (!queue.isEmpty()) {
            SessionRegistry.EnqueuedMessage message = queue.dequeue();
            if (message == null) {
                break;
            }
            drained.add(message);
        }
        return drained;
    }

    /**
     * One session's queue with a limit on published messages (QoS 2 release markers always pass). Used by the
     * session's loop thread only.
     */
    private final class Bounded implements SessionMessageQueue<SessionRegistry.EnqueuedMessage> {
        private final String clientId;
        private final SessionMessageQueue<SessionRegistry.EnqueuedMessage> delegate;
        private long size;
        private long droppedHere;
        /** The in-flight window and QoS 2 receiving map of the session this queue belongs to, once owned. */
        private InflightWindow window;
        private Purgeable<Object> qos2Receiving;

        Bounded(String clientId, SessionMessageQueue<SessionRegistry.EnqueuedMessage> delegate) {
            this.clientId = clientId;
            this.delegate = delegate;
            this.size = storedSize(delegate);
            queued.addAndGet(size);
        }

        @Override
        public void enqueue(SessionRegistry.EnqueuedMessage message) {
            if (message instanceof SessionRegistry.PublishedMessage && limit > 0 && size >= limit) {
                // Session retained the payload for the queue; the queue does not take it
                message.release();
                dropped.increment();
                if (droppedHere++ == 0) {
                    BridgeLog.LOG.sessionQueueFull(clientId, limit);
                }
                return;
            }
            delegate.enqueue(storable(message));
            size++;
            queued.incrementAndGet();
        }

        /** A message displaced from the in-flight window: it was accepted once, so no limit applies. */
        void requeue(SessionRegistry.EnqueuedMessage message) {
            delegate.enqueue(storable(message));
            size++;
            queued.incrementAndGet();
        }

        /**
         * Gives the session this queue belongs to an {@link InflightWindow} and a {@link Purgeable} QoS 2 receiving
         * map, on its loop thread (or at install, before any client is connected).
         */
        void own(Object session) {
            try {
                @SuppressWarnings("unchecked")
                java.util.Map<Integer, SessionRegistry.EnqueuedMessage> current =
                        (java.util.Map<Integer, SessionRegistry.EnqueuedMessage>) INFLIGHT_WINDOW.get(session);
                window = current instanceof InflightWindow owned ? owned : new InflightWindow(this, current);
                INFLIGHT_WINDOW.set(session, window);
                @SuppressWarnings("unchecked")
                java.util.Map<Integer, Object> receiving = (java.util.Map<Integer, Object>) QOS2_RECEIVING.get(session);
                qos2Receiving = receiving instanceof Purgeable<Object> owned ? owned : new Purgeable<>(receiving);
                QOS2_RECEIVING.set(session, qos2Receiving);
            } catch (IllegalAccessException e) {
                // accessible since class initialization: cannot happen
            }
        }

        @Override
        public SessionRegistry.EnqueuedMessage dequeue() {
            SessionRegistry.EnqueuedMessage message = delegate.dequeue();
            if (message instanceof SessionRegistry.PublishedMessage published && !(message instanceof Storable)) {
                // read back from the store's file: the object may still be in a page a save is writing right now, so
                // it is neither handed out nor released; a storable copy goes on
                message = new Storable(published, bytes(published));
            }
            if (message != null && size > 0) {
                size--;
                queued.decrementAndGet();
                if (droppedHere > 0 && size < limit * 9L / 10) {
                    BridgeLog.LOG.sessionQueueRoom(clientId, droppedHere);
                    droppedHere = 0;
                }
            }
            return message;
        }

        @Override
        public boolean isEmpty() {
            return delegate.isEmpty();
        }

        @Override
        public void closeAndPurge() {
            queued.addAndGet(-size);
            size = 0;
            delegate.closeAndPurge();
            if (window != null) {
                window.purged = true;
            }
            if (qos2Receiving != null) {
                qos2Receiving.purged = true;
            }
        }
    }

    /**
     * The message as Moquette's h2 queue may keep it: with a payload of its own that no release can invalidate. The h2
     * queue keeps the message object itself in its map and serializes it only when the store saves, on Moquette's
     * scheduler thread, while the session loop goes on: a message dequeued, sent and acknowledged meanwhile had its
     * payload released (it shares the publisher's reference count), the save failed with
     * {@code IllegalReferenceCountException}, and MVStore closed the whole store for good ("This store is closed",
     * every persistent session lost; measured in BrokerLoadIT). The copy is on the heap and freed by the garbage
     * collector; the message Moquette retained for the queue is released here. What the store reads back from its file
     * is copied the same way when it is dequeued ({@link Bounded#dequeue}).
     */
    private static SessionRegistry.EnqueuedMessage storable(SessionRegistry.EnqueuedMessage message) {
        if (!(message instanceof SessionRegistry.PublishedMessage published) || message instanceof Storable) {
            return message;
        }
        Storable storable = new Storable(published, bytes(published));
        message.release();
        return storable;
    }

    /** A copy of the message's payload. */
    static byte[] bytes(SessionRegistry.PublishedMessage message) {
        io.netty.buffer.ByteBuf payload = message.getPayload();
        byte[] bytes = new byte[payload.readableBytes()];
        payload.getBytes(payload.readerIndex(), bytes);
        return bytes;
    }

    /** A published message whose payload is a heap copy that release() leaves valid. */
    private static final class Storable extends SessionRegistry.PublishedMessage {
        Storable(SessionRegistry.PublishedMessage original, byte[] payload) {
            super(original.getTopic(), original.getPublishingQos(),
                    io.netty.buffer.Unpooled.unreleasableBuffer(io.netty.buffer.Unpooled.wrappedBuffer(payload)), false);
        }
    }

    /**
     * A session's in-flight window (packet id → message) that never lets a reused packet id drop a message: the
     * displaced message goes back into the session's queue, and Moquette is handed a release marker (nothing to
     * release) so that it frees the in-flight slot the displaced message held.
     */
    private static final class InflightWindow extends Purgeable<SessionRegistry.EnqueuedMessage> {
        private static final long serialVersionUID = 1L;
        private final transient Bounded queue;

        InflightWindow(Bounded queue, java.util.Map<Integer, SessionRegistry.EnqueuedMessage> current) {
            super(current);
            this.queue = queue;
        }

        @Override
        public SessionRegistry.EnqueuedMessage put(Integer packetId, SessionRegistry.EnqueuedMessage message) {
            SessionRegistry.EnqueuedMessage displaced = super.put(packetId, message);
            if (displaced instanceof SessionRegistry.PublishedMessage && displaced != message) {
                queue.requeue(displaced);
                return new SessionRegistry.PubRelMarker();
            }
            return displaced;
        }
    }

    /**
     * A session map by packet id (in-flight window, QoS 2 messages being received) that hands out nothing once the
     * session is cleaned up. Moquette's cleanup releases every message in such a map but leaves them in it; a PUBACK,
     * PUBREC, PUBCOMP or PUBREL of the old connection still queued on the loop (a client id taken over), or the
     * resend timer, would then release or send one again (found by ProtocolFuzzIT: IllegalReferenceCountException in
     * {@code processPubComp}, which killed the loop before the loops were contained).
     */
    private static class Purgeable<V> extends java.util.HashMap<Integer, V> {
        private static final long serialVersionUID = 1L;
        transient boolean purged;

        Purgeable(java.util.Map<Integer, V> current) {
            super(current);
        }

        @Override
        public V remove(Object packetId) {
            V removed = super.remove(packetId);
            return purged || released(removed) ? null : removed;
        }

        @Override
        public V get(Object packetId) {
            V message = super.get(packetId);
            return purged || released(message) ? null : message;
        }

        /**
         * A message whose payload Moquette has released already while it was still in the map. ProtocolFuzzIT still
         * finds this about once in 10,000 hostile sequences after the causes above were removed (a PUBACK for it then
         * threw in {@code pubAckReceived}); the remaining cause inside Moquette is not isolated. Such an entry is
         * treated as gone, as Moquette treats an unknown packet id.
         */
        private static boolean released(Object message) {
            return message instanceof SessionRegistry.PublishedMessage published && published.getPayload().refCnt() == 0;
        }
    }

    /**
     * How many entries a queue the store reopened holds: the h2 queue keeps head and tail indexes; an in-memory queue
     * never survives a restart.
     */
    private static long storedSize(SessionMessageQueue<?> queue) {
        try {
            Object head = field(queue.getClass(), "head").get(queue);
            Object tail = field(queue.getClass(), "tail").get(queue);
            return Math.max(0, ((AtomicLong) head).get() - ((AtomicLong) tail).get());
        } catch (ReflectiveOperationException | ClassCastException e) {
            return 0;
        }
    }
}
