package io.mqttkafkabridge.broker;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import io.moquette.broker.Server;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandler;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttUnsubscribeMessage;
import io.netty.util.ReferenceCountUtil;

/**
 * Every MQTT connection's first stop after the decoder, on all listeners (TCP, TLS, WebSocket): one shared Netty
 * handler placed before Moquette's own, which sees each decoded packet before Moquette does and each packet Moquette
 * writes before the encoder. It routes them to one class per concern:
 * <ul>
 * <li>{@link Admission}: who gets in (CONNECT floods and timeouts, passwords, wills, client ids, connection limit);</li>
 * <li>{@link PublishPath}: a device's PUBLISH, journaled before Moquette can acknowledge it;</li>
 * <li>{@link FlowControl}: when reading pauses (until CONNACK, while the session loops are behind);</li>
 * <li>{@link DeliveryFilter}: what a subscriber receives (read access per message, nothing after UNSUBACK,
 * RETAIN=1 on retained deliveries);</li>
 * <li>{@link InflightResends}: a persistent session's unacknowledged messages, resent at once when it reconnects
 * (MQTT-4.4.0-1), and Moquette's resend timer, run on the session loop.</li>
 * </ul>
 * Here itself: a packet the decoder could not read, a first packet other than CONNECT (MQTT-3.1.0-1), and a client
 * that reads nothing for {@code slow-reader-timeout} close the connection with one log line (MKB0011) and no stack
 * trace. Runs on the connection's Netty event loop; never blocks and never throws. Moquette's own checks stay as a
 * second line ({@link BrokerSecurity}), for connections accepted before {@link #install} ran.
 */
@ChannelHandler.Sharable
final class MqttGate extends ChannelDuplexHandler {

    /**
     * Moquette's per-packet handlers that cost CPU and serve nobody: byte and message counters nothing reads (the
     * bridge keeps its own meters) and a message logger that builds MDC strings for every packet although
     * {@code io.moquette} logs at WARN. With them, the Netty event loops took 46.6 % of the bridge's CPU samples in a
     * QoS 1 uplink burst; without them, 20.7 % (README, Benchmarks). The logger also turned a failed decode into an
     * exception; without it, such a packet reaches {@link #channelRead} as a failed message and is closed there.
     */
    private static final List<String> UNUSED_MOQUETTE_HANDLERS = List.of("bytemetrics", "metrics", "messageLogger");

    /** Moquette's handler that closes a connection silent for 1.5 keep-alives; the gate's own takes its place. */
    private static final String KEEP_ALIVE_HANDLER = "idleEventHandler";

    /** Closes a connection silent for 1.5 keep-alives (MQTT-3.1.2-24); an MQTT 5 client is told why (0x8D). */
    @ChannelHandler.Sharable
    private final class KeepAliveTimeout extends io.netty.channel.ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof io.netty.handler.timeout.IdleStateEvent idle
                    && idle.state() == io.netty.handler.timeout.IdleState.READER_IDLE) {
                GateConnection connection = GateConnection.of(ctx);
                outcomes.count("keep-alive-timeout");
                if (connection != null && connection.mqtt5 != null && connection.connected) {
                    // from the tail of the pipeline, through the encoder
                    ctx.channel().writeAndFlush(Mqtt5.disconnect(Mqtt5.KEEP_ALIVE_TIMEOUT))
                            .addListener(io.netty.channel.ChannelFutureListener.CLOSE);
                } else {
                    ctx.close();
                }
                return;
            }
            super.userEventTriggered(ctx, evt);
        }
    }

    private final KeepAliveTimeout keepAliveTimeout = new KeepAliveTimeout();

    private final Admission admission;
    private final PublishPath publishes;
    private final FlowControl flow;
    private final DeliveryFilter deliveries;
    private final InflightResends resends;
    private final GateOutcomes outcomes;
    private final long slowReaderMillis;
    private final FlowControl.Reader reader = this::channelRead;
    private final java.util.function.Consumer<io.mqttkafkabridge.routing.MqttPublication> wills;
    private final SessionArrivals arrivals;
    private final GatedClients gated;
    private final java.util.function.Function<String, java.util.concurrent.CompletionStage<?>> discard;
    private final Mqtt5 mqtt5;
    private final Mqtt5Subscriptions subscriptions;
    private final DelayedWills delayedWills;

    MqttGate(Admission admission, PublishPath publishes, FlowControl flow, DeliveryFilter deliveries,
            InflightResends resends, GateOutcomes outcomes, long slowReaderMillis,
            java.util.function.Consumer<io.mqttkafkabridge.routing.MqttPublication> wills, SessionArrivals arrivals,
            GatedClients gated, java.util.function.Function<String, java.util.concurrent.CompletionStage<?>> discard,
            Mqtt5Subscriptions subscriptions, DelayedWills delayedWills) {
        this.subscriptions = subscriptions;
        this.delayedWills = delayedWills;
        this.gated = gated;
        this.discard = discard;
        this.mqtt5 = admission.mqtt5();
        this.wills = wills;
        this.arrivals = arrivals;
        this.admission = admission;
        this.publishes = publishes;
        this.flow = flow;
        this.deliveries = deliveries;
        this.resends = resends;
        this.outcomes = outcomes;
        this.slowReaderMillis = slowReaderMillis;
    }

    /** Puts the gate into Moquette's pipeline of every new connection (its optional metrics handler slot). */
    static boolean install(Server moquette, MqttGate gate) {
        try {
            Object acceptor = MoquetteFields.field(Server.class, "acceptor").get(moquette);
            MoquetteFields.field(acceptor.getClass(), "metrics").set(acceptor, Optional.<ChannelInboundHandler>of(gate));
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        for (String name : UNUSED_MOQUETTE_HANDLERS) {
            if (ctx.pipeline().get(name) != null) {
                ctx.pipeline().remove(name);
            }
        }
        if (ctx.pipeline().get(KEEP_ALIVE_HANDLER) != null) {
            ctx.pipeline().replace(KEEP_ALIVE_HANDLER, KEEP_ALIVE_HANDLER, keepAliveTimeout);
        }
        super.handlerAdded(ctx);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        GateConnection connection = GateConnection.open(ctx, address(ctx.channel().remoteAddress()));
        super.channelActive(ctx);
        admission.opened(ctx, connection);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        GateConnection connection = GateConnection.of(ctx);
        if (connection != null) {
            if (connection.clientId != null) {
                gated.closed(connection.clientId, ctx.channel());
                if (!gated.gated(connection.clientId)) {
                    if (connection.discardOnClose) {
                        discard.apply(connection.clientId);
                    }
                    if (connection.cleanSession || connection.discardOnClose) {
                        subscriptions.forget(connection.clientId); // the session ends with the connection
                    }
                }
            }
            admission.closed(connection);
            publishes.closed(connection);
            FlowControl.closed(connection);
            if (connection.accepted && connection.will != null) {
                io.mqttkafkabridge.routing.MqttPublication will = connection.will;
                connection.will = null;
                long expiry = connection.willExpiryMillis;
                Runnable publish = () -> wills.accept(expiry == 0 ? will : new io.mqttkafkabridge.routing.MqttPublication(
                        will.topic(), will.payload(), will.qos(), will.retain(), will.clientId(), will.username(),
                        will.properties().withExpiresAt(System.currentTimeMillis() + expiry)));
                long delay = connection.mqtt5 == null || connection.cleanSession ? 0
                        : Math.min(connection.willDelayMillis, connection.mqtt5.sessionExpiry * 1000L);
                if (delay > 0 && !connection.discardOnClose) {
                    delayedWills.schedule(connection.clientId, delay, publish, ctx.executor());
                } else {
                    publish.run();
                }
            }
        }
        super.channelInactive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        GateConnection connection = GateConnection.of(ctx);
        if (!(msg instanceof MqttMessage message) || connection == null) {
            super.channelRead(ctx, msg);
            return;
        }
        if (!ctx.channel().isActive()) {
            // closed while the decoder still had packets of the last read (a CONNECT Moquette refused): Moquette has
            // no session for them
            ReferenceCountUtil.release(msg);
            return;
        }
        if (FlowControl.holds(connection, msg)) {
            return;
        }
        if (message.decoderResult().isFailure()) {
            ReferenceCountUtil.release(msg);
            Throwable cause = message.decoderResult().cause();
            if (cause instanceof io.netty.handler.codec.mqtt.MqttUnacceptableProtocolVersionException && !connection.connected) {
                // MQTT-3.1.2-2: CONNACK 1, in the form of 3.1.1 (the client's own version is unknown)
                outcomes.refuse(ctx, 1, "unsupported-protocol-version", "from " + connection.address + ": " + cause.getMessage());
                return;
            }
            outcomes.close(ctx, "malformed", cause instanceof io.netty.handler.codec.TooLongFrameException
                    ? Mqtt5.PACKET_TOO_LARGE : Mqtt5.MALFORMED_PACKET,
                    "malformed packet: " + cause.getClass().getSimpleName() + " " + cause.getMessage());
            return;
        }
        MqttMessageType type = message.fixedHeader().messageType();
        if (type == MqttMessageType.CONNECT) {
            MqttConnectMessage connect = admission.admit(ctx, connection, (MqttConnectMessage) message);
            if (connect != null) {
                if (connection.cleanSession || connection.discardSession) {
                    subscriptions.forget(connection.clientId); // a new session: no MQTT 5 options from the last one
                }
                publishes.connected(connection);
                flow.connectHandedOver(ctx, connection);
                java.util.concurrent.CompletableFuture<?> arrival = connection.cleanSession ? null
                        : arrivals.reopening(connection.clientId).toCompletableFuture();
                if (connection.discardSession) {
                    // MQTT 5 Clean Start with a Session Expiry: the session the client had (here, or arriving from
                    // another replica) ends before the new one begins
                    String clientId = connection.clientId;
                    arrival = arrival.thenCompose(done -> discard.apply(clientId)).toCompletableFuture();
                }
                if (arrival == null || arrival.isDone()) {
                    handOver(ctx, connection, connect);
                } else {
                    // the session is on its way from another replica: Moquette sees the CONNECT once it is here
                    String certificateUser = Admission.certificateUser();
                    admission.handedOver();
                    arrival.whenComplete((done, failure) -> ctx.executor().execute(() -> {
                        if (ctx.channel().isActive()) {
                            admission.resumeHandOver(certificateUser);
                            handOver(ctx, connection, connect);
                        }
                    }));
                }
            }
            return;
        }
        if (!connection.connected) {
            ReferenceCountUtil.release(msg);
            outcomes.close(ctx, "protocol-violation", type + " before CONNECT (MQTT-3.1.0-1)");
            return;
        }
        switch (type) {
            case PUBLISH -> {
                MqttPublishMessage publish = publishes.read(ctx, connection, (MqttPublishMessage) message);
                if (publish != null) {
                    flow.beforePublish(ctx, connection, reader);
                    super.channelRead(ctx, publish);
                }
            }
            case PUBREL -> {
                if (message.variableHeader() instanceof MqttMessageIdVariableHeader id) {
                    publishes.released(connection, id.messageId());
                }
                super.channelRead(ctx, msg);
            }
            case DISCONNECT -> {
                if (connection.mqtt5 != null) {
                    long expiry = Mqtt5.expiryOf(message);
                    if (expiry > 0 && connection.cleanSession) {
                        // MQTT-3.14.2-2: a session that ends with the connection cannot be given an expiry at its end
                        outcomes.close(ctx, "protocol-violation", "DISCONNECT sets a Session Expiry Interval on a session"
                                + " that had 0 (MQTT-3.14.2-2)");
                        return;
                    }
                    if (expiry == 0 && !connection.cleanSession) {
                        connection.discardOnClose = true;
                    } else if (expiry > 0) {
                        mqtt5.expiryChanged(connection.clientId, expiry); // MQTT 5, 3.14.2.2.2
                        connection.mqtt5.sessionExpiry = mqtt5.grantedExpiry(connection.clientId);
                    }
                    if (Mqtt5.reasonOf(message) == Mqtt5.DISCONNECT_WITH_WILL) {
                        // MQTT 5, 3.14.2.1: the client asks for its will; published when the connection closes
                        super.channelRead(ctx, msg);
                        return;
                    }
                }
                connection.will = null; // MQTT-3.14.4-3
                super.channelRead(ctx, msg);
            }
            case UNSUBSCRIBE -> {
                MqttUnsubscribeMessage unsubscribe = (MqttUnsubscribeMessage) message;
                deliveries.unsubscribing(connection, unsubscribe);
                if (connection.mqtt5 != null) {
                    subscriptions.unsubscribing(connection, unsubscribe.idAndPropertiesVariableHeader().messageId(),
                            unsubscribe.payload().topics());
                }
                super.channelRead(ctx, msg);
            }
            case SUBSCRIBE -> {
                if (connection.mqtt5 != null) {
                    io.netty.handler.codec.mqtt.MqttSubscribeMessage subscribe = subscriptions.subscribing(ctx, connection,
                            (io.netty.handler.codec.mqtt.MqttSubscribeMessage) message);
                    if (subscribe != null) {
                        super.channelRead(ctx, subscribe);
                    }
                } else {
                    super.channelRead(ctx, msg);
                }
            }
            default -> super.channelRead(ctx, msg);
        }
    }

    /** Hands an admitted CONNECT to Moquette (on the connection's event loop). */
    private void handOver(ChannelHandlerContext ctx, GateConnection connection, MqttConnectMessage connect) {
        gated.admitted(connection.clientId, ctx.channel());
        delayedWills.resumed(connection.clientId);
        try {
            ctx.fireChannelRead(connect);
        } finally {
            admission.handedOver();
        }
        if (!connection.cleanSession) {
            // queued on the session's loop right behind Moquette's CONNECT command, before anything the new
            // connection sends: what is in flight then is what the old connection left unacknowledged
            resends.onReconnect(connection.clientId, ctx.channel());
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        GateConnection connection = GateConnection.of(ctx);
        if (connection == null) {
            super.write(ctx, msg, promise);
            return;
        }
        if (msg instanceof MqttConnAckMessage connack && connack.variableHeader().connectReturnCode()
                == io.netty.handler.codec.mqtt.MqttConnectReturnCode.CONNECTION_ACCEPTED) {
            connection.accepted = true;
        }
        if (msg instanceof MqttConnAckMessage connack && connection.mqtt5 != null) {
            msg = mqtt5.connack(connection.mqtt5, connack);
        } else if (connection.mqtt5 != null && msg instanceof MqttMessage message) {
            PublishPath.acknowledged(connection, message);
        }
        if (msg instanceof MqttConnAckMessage && connection.awaitingConnack) {
            flow.connackWritten(ctx, connection, promise, reader);
            super.write(ctx, msg, promise);
            return;
        }
        Object out = deliveries.outbound(ctx, connection, msg, promise);
        if (out != null) {
            super.write(ctx, out, promise);
        }
    }

    /** Moquette's resend timer, which fires on this event loop: the resend runs on the session loop instead. */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        GateConnection connection = GateConnection.of(ctx);
        if (evt instanceof io.moquette.broker.InflightResender.ResendNotAckedPublishes) {
            if (connection != null && connection.clientId != null) {
                resends.onTimer(connection.clientId, ctx.channel());
            }
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (!ctx.channel().isWritable()) {
            ctx.executor().schedule(() -> {
                if (ctx.channel().isActive() && !ctx.channel().isWritable()) {
                    outcomes.close(ctx, "slow-reader", "read nothing of what it was sent for " + slowReaderMillis
                            + " ms (bridge.broker.slow-reader-timeout)");
                }
            }, slowReaderMillis, TimeUnit.MILLISECONDS);
        }
        super.channelWritabilityChanged(ctx);
    }

    /**
     * A packet the decoder could not read (a decoder that throws rather than delivering a failed message, which
     * {@link #channelRead} closes): answered here, with one log line and no stack trace; so is a write to a
     * connection already closed or reset by the client, which Moquette would log as an ERROR with a stack trace each
     * time. Any other exception closes the connection with one line (MKB0021, {@link ConnectionErrors}).
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        if (cause instanceof java.nio.channels.ClosedChannelException || cause instanceof java.io.IOException) {
            // Moquette writing to a connection that is gone (client left or reset it, slow reader closed, shutdown):
            // nothing lost, nothing to report
            ctx.close();
            return;
        }
        if (cause instanceof DecoderException) {
            Throwable reason = cause.getCause() == null ? cause : cause.getCause();
            outcomes.close(ctx, "malformed", "malformed packet: " + reason.getClass().getSimpleName() + " " + reason.getMessage());
            return;
        }
        // anything else concerns this connection only (a message that could not be encoded for it, say): Moquette
        // would log it at ERROR with a stack trace and close it; one line and the close are enough
        GateConnection connection = GateConnection.of(ctx);
        ConnectionErrors.closed(connection == null ? String.valueOf(ctx.channel().remoteAddress())
                : connection.address + (connection.clientId == null ? "" : " (client " + connection.clientId + ")"), cause);
        outcomes.count("failed");
        ctx.close();
    }

    private static String address(SocketAddress address) {
        return address instanceof InetSocketAddress inet && inet.getAddress() != null ? inet.getAddress().getHostAddress()
                : String.valueOf(address);
    }
}
