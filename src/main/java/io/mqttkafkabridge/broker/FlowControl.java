package io.mqttkafkabridge.broker;

import java.lang.reflect.Field;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.mqttkafkabridge.metrics.BridgeMetrics;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;

/**
 * When the gate stops reading from a connection, and when it reads again. Two pauses:
 * <ul>
 * <li><b>Until Moquette counts the connection as connected.</b> MQTT 3.1.4 lets a client send right after its
 * CONNECT; Moquette 0.17 sets its connected flag only once its CONNACK write has completed, and drops a connection
 * whose SUBSCRIBE it reads before. What follows a CONNECT waits until then.</li>
 * <li><b>While Moquette's session loops are behind</b> ({@link SessionQueues#congested()}): the TCP window fills
 * and the client waits, instead of Moquette dropping its publishes unacknowledged.</li>
 * <li><b>While the uplink journal's backlog is high and Kafka is taking records</b> (the uplink's
 * {@code intakePaced}): the broker side takes no more than Kafka does, instead of starving the journal reader and the
 * Kafka producer of CPU.</li>
 * </ul>
 * What the decoder still delivers during a pause is held in order ({@link GateConnection#held}) and handed on, through
 * the gate again, when it ends. Runs on the connection's event loop.
 */
final class FlowControl {

    /** Hands a held packet on through the gate, as if it had just been read. */
    interface Reader {
        void read(ChannelHandlerContext ctx, Object msg) throws Exception;
    }

    /** How often a connection paused for the uplink's backlog looks whether it may read again. */
    private static final long UPLINK_LOOK_MILLIS = 5;
    private static final AttributeKey<Object> MOQUETTE_CONNECTION = AttributeKey.valueOf("connection");
    private static final Field MOQUETTE_CONNECTED = moquetteConnectedField();

    private final SessionQueues sessionQueues;
    private final BooleanSupplier uplinkBehind;
    private final Counter paused;
    private final long connectTimeoutMillis;

    FlowControl(SessionQueues sessionQueues, BooleanSupplier uplinkBehind, long connectTimeoutMillis, MeterRegistry registry) {
        this.sessionQueues = sessionQueues;
        this.uplinkBehind = uplinkBehind;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.paused = Counter.builder(BridgeMetrics.MQTT_READS_PAUSED)
                .description("Times a publishing connection was paused until the broker caught up").register(registry);
    }

    /** A CONNECT goes on to Moquette: hold what follows until its CONNACK has been written and taken effect. */
    void connectHandedOver(ChannelHandlerContext ctx, GateConnection connection) {
        connection.awaitingConnack = true;
        hold(ctx, connection);
    }

    /**
     * Moquette writes the CONNACK: once Moquette counts the connection as connected (within connect-timeout), what
     * was held goes on. Moquette sets its flag in its own listener of the CONNACK write, which
     * it may add after the write has completed: watch the flag, not the write.
     */
    void connackWritten(ChannelHandlerContext ctx, GateConnection connection, io.netty.channel.ChannelPromise promise,
            Reader reader) {
        connection.awaitingConnack = false;
        long giveUp = System.nanoTime() + connectTimeoutMillis * 1_000_000L;
        promise.addListener(written -> releaseWhenDone(ctx, connection, reader,
                () -> !moquetteConnected(ctx) && System.nanoTime() - giveUp < 0, () -> {
                    if (moquetteConnected(ctx)) {
                        return true;
                    }
                    // refused, taken over or given up by Moquette: it has no session for what the client sent next
                    // (its handler would throw on a PUBACK without one)
                    ctx.close();
                    return false;
                }, 1));
    }

    /** A PUBLISH is about to go to Moquette: pause reading first while the session loops or the uplink are behind. */
    void beforePublish(ChannelHandlerContext ctx, GateConnection connection, Reader reader) {
        boolean congested = sessionQueues.congested();
        if (congested || uplinkBehind.getAsBoolean()) {
            hold(ctx, connection);
            if (congested) {
                paused.increment();
            }
            // the session loops catch up within milliseconds; the journal's backlog halves within a few hundred
            long interval = congested ? 1 : UPLINK_LOOK_MILLIS;
            ctx.executor().schedule(() -> releaseWhenDone(ctx, connection, reader,
                    () -> sessionQueues.stillCongested() || uplinkBehind.getAsBoolean(), () -> true, interval), interval,
                    TimeUnit.MILLISECONDS);
        }
    }

    /** True when {@code msg} was held (read paused); the caller must not hand it on. */
    static boolean holds(GateConnection connection, Object msg) {
        if (connection.held != null) {
            connection.held.add(msg);
            return true;
        }
        return false;
    }

    /** Releases what a closed connection held. */
    static void closed(GateConnection connection) {
        ArrayDeque<Object> held = connection.held;
        connection.held = null;
        if (held != null) {
            held.forEach(ReferenceCountUtil::release);
        }
    }

    /**
     * Checks {@code waiting} every {@code intervalMillis} on the connection's event loop; once it is false (or the
     * connection has closed), releases what was held if {@code mayRelease} agrees, and drops it otherwise.
     */
    private void releaseWhenDone(ChannelHandlerContext ctx, GateConnection connection, Reader reader, BooleanSupplier waiting,
            BooleanSupplier mayRelease, long intervalMillis) {
        if (ctx.channel().isActive() && waiting.getAsBoolean()) {
            ctx.executor().schedule(() -> releaseWhenDone(ctx, connection, reader, waiting, mayRelease, intervalMillis),
                    intervalMillis, TimeUnit.MILLISECONDS);
            return;
        }
        if (ctx.channel().isActive() && !mayRelease.getAsBoolean()) {
            closed(connection);
            return;
        }
        release(ctx, connection, reader);
    }

    /** Stops reading; what the decoder still delivers is held in order until {@link #release}. */
    private static void hold(ChannelHandlerContext ctx, GateConnection connection) {
        connection.held = new ArrayDeque<>();
        ctx.channel().config().setAutoRead(false);
    }

    /** Hands on what was held, in order, and reads again, unless a packet handed on holds the connection anew. */
    private static void release(ChannelHandlerContext ctx, GateConnection connection, Reader reader) {
        if (!ctx.channel().isActive()) {
            closed(connection);
            return;
        }
        ArrayDeque<Object> held = connection.held;
        connection.held = null;
        try {
            Object next;
            while ((next = held.poll()) != null) {
                reader.read(ctx, next);
                if (connection.held != null) {
                    // paused again: the rest waits behind what this pause holds
                    connection.held.addAll(held);
                    return;
                }
            }
        } catch (Exception e) {
            ctx.fireExceptionCaught(e);
        } finally {
            ctx.fireChannelReadComplete();
        }
        ctx.channel().config().setAutoRead(true);
    }

    /** {@code MQTTConnection.connected}, which Moquette 0.17 keeps on the channel under the attribute "connection". */
    private static Field moquetteConnectedField() {
        try {
            return MoquetteFields.field(Class.forName("io.moquette.broker.MQTTConnection"), "connected");
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("not Moquette 0.17's MQTTConnection: " + e, e);
        }
    }

    private static boolean moquetteConnected(ChannelHandlerContext ctx) {
        Object moquetteConnection = ctx.channel().attr(MOQUETTE_CONNECTION).get();
        try {
            return moquetteConnection != null && MOQUETTE_CONNECTED.getBoolean(moquetteConnection);
        } catch (IllegalAccessException e) {
            return true; // cannot happen (accessible since class initialization); never hold for ever
        }
    }
}
