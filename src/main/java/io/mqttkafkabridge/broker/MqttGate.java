package io.mqttkafkabridge.broker;

import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.moquette.broker.Server;
import io.mqttkafkabridge.config.BridgeConfig;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.metrics.BridgeMetrics;
import io.mqttkafkabridge.security.MqttAccess;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandler;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;

/**
 * Every MQTT connection's first stop after the decoder, on all listeners (TCP, TLS, WebSocket): one shared Netty
 * handler that Moquette calls for each decoded packet before its own handler. It answers what Moquette 0.17 answers
 * badly or not at all:
 * <ul>
 * <li>CONNECT: the password check with the right CONNACK (4 wrong password, 5 unknown user or anonymous not allowed),
 * a will that must not be published (CONNACK 5), a will QoS of 3 (closed: it would kill a Moquette session thread),
 * {@code bridge.broker.max-connections} (CONNACK 3), a second CONNECT (closed, MQTT-3.1.0-2);</li>
 * <li>PUBLISH that the topic policy denies ($-topics, the ACL file): acknowledged as Mosquitto does, dropped, counted
 * and logged once per connection;</li>
 * <li>hostile connections: undecodable packets, more CONNECTs per second from one address than
 * {@code bridge.broker.connect-rate-per-address}, no CONNECT within {@code connect-timeout}, a client that reads
 * nothing for {@code slow-reader-timeout}: closed,
 * counted and logged (MKB0011, MKB0014), without a stack trace and without touching other clients.</li>
 * </ul>
 * Runs on the connection's Netty event loop; never blocks and never throws. Moquette's own checks stay as a second
 * line ({@link BrokerSecurity}), for connections accepted before {@link #install} ran.
 */
@ChannelHandler.Sharable
final class MqttGate extends ChannelDuplexHandler {

    private static final AttributeKey<Connection> CONNECTION = AttributeKey.valueOf("mqtt-kafka-bridge.connection");

    private final MqttAccess access;
    private final int maxConnections;
    private final int connectRate;
    private final long connectTimeoutMillis;
    private final long slowReaderMillis;
    private final boolean cnAsUsername;
    private final MeterRegistry registry;
    private final SessionQueues sessionQueues;
    private final Counter paused;
    /** Set while a CONNECT authenticated by its client certificate is handed to Moquette (same thread, synchronous). */
    private static final ThreadLocal<String> CERTIFICATE_USER = new ThreadLocal<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final Map<String, Window> connectsByAddress = new ConcurrentHashMap<>();

    /** What the gate knows about one connection. */
    private static final class Connection {
        String address;
        boolean connected;
        boolean counted;
        boolean publishDenialLogged;
        String clientId;
        String username;
        ScheduledFuture<?> deadline;
        /**
         * While reading is paused (broker behind, or CONNACK not yet written): what was decoded after the pause, in
         * order, for Moquette once the pause ends.
         */
        java.util.ArrayDeque<Object> held;
        /** The CONNECT went on to Moquette; its CONNACK has not been written yet. */
        boolean awaitingConnack;
    }

    /** CONNECTs of one address in the current second. */
    private static final class Window {
        long second;
        int count;
        boolean logged;
    }

    MqttGate(MqttAccess access, BridgeConfig.Broker config, MeterRegistry registry, SessionQueues sessionQueues) {
        this.access = access;
        this.maxConnections = config.maxConnections();
        this.connectRate = config.connectRatePerAddress();
        this.connectTimeoutMillis = config.connectTimeout().toMillis();
        this.slowReaderMillis = config.slowReaderTimeout().toMillis();
        this.cnAsUsername = config.tlsCnAsUsername();
        this.registry = registry;
        this.sessionQueues = sessionQueues;
        this.paused = Counter.builder(BridgeMetrics.MQTT_READS_PAUSED)
                .description("Times a publishing connection was paused until the broker caught up").register(registry);
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

    /**
     * Moquette's per-packet handlers that cost CPU and serve nobody: byte and message counters nothing reads (the
     * bridge keeps its own meters) and a message logger that builds MDC strings for every packet although
     * {@code io.moquette} logs at WARN. With them, the Netty event loops took 46.6 % of the bridge's CPU samples in a
     * QoS 1 uplink burst; without them, 20.7 % (README, Benchmarks). The logger also turned a failed decode into an
     * exception; without it, such a packet reaches {@link #channelRead} as a failed message and is closed there.
     */
    private static final java.util.List<String> UNUSED_MOQUETTE_HANDLERS = java.util.List.of("bytemetrics", "metrics", "messageLogger");

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        for (String name : UNUSED_MOQUETTE_HANDLERS) {
            if (ctx.pipeline().get(name) != null) {
                ctx.pipeline().remove(name);
            }
        }
        super.handlerAdded(ctx);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        Connection connection = new Connection();
        connection.address = address(ctx.channel().remoteAddress());
        ctx.channel().attr(CONNECTION).set(connection);
        super.channelActive(ctx);
        if (!admitConnect(connection.address)) {
            close(ctx, "connect-flood", null);
            return;
        }
        connection.deadline = ctx.executor().schedule(() -> {
            if (!connection.connected) {
                close(ctx, "connect-timeout", "no CONNECT within " + connectTimeoutMillis + " ms (bridge.broker.connect-timeout)");
            }
        }, connectTimeoutMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        Connection connection = ctx.channel().attr(CONNECTION).get();
        if (connection != null) {
            if (connection.counted) {
                connection.counted = false;
                connections.decrementAndGet();
            }
            if (connection.deadline != null) {
                connection.deadline.cancel(false);
            }
            releaseHeld(connection);
        }
        super.channelInactive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        Connection connection = ctx.channel().attr(CONNECTION).get();
        if (!(msg instanceof MqttMessage message) || connection == null) {
            super.channelRead(ctx, msg);
            return;
        }
        if (connection.held != null) {
            connection.held.add(msg);
            return;
        }
        if (message.decoderResult().isFailure()) {
            ReferenceCountUtil.release(msg);
            Throwable cause = message.decoderResult().cause();
            close(ctx, "malformed", "malformed packet: " + cause.getClass().getSimpleName() + " " + cause.getMessage());
            return;
        }
        MqttFixedHeader header = message.fixedHeader();
        if (header.messageType() == MqttMessageType.CONNECT) {
            MqttConnectMessage connect = (MqttConnectMessage) message;
            String certificateUser = cnAsUsername ? certificateCommonName(ctx) : null;
            if (certificateUser != null) {
                connect = withUserName(connect, certificateUser);
            }
            if (connect.payload().clientIdentifier().isEmpty() && connect.variableHeader().isCleanSession()) {
                // MQTT-3.1.3-6: the server assigns the id. Assigned here rather than by Moquette, which reports the
                // empty id on connect and its own on disconnect: the client would stay listed as connected for ever
                connect = withClientId(connect, java.util.UUID.randomUUID().toString().replace("-", ""));
            }
            if (connect(ctx, connection, connect, certificateUser)) {
                // MQTT 3.1.4: a client may send packets right after CONNECT. Moquette 0.17 counts the connection as
                // connected only once its CONNACK write has completed and drops one whose SUBSCRIBE it reads before:
                // what follows the CONNECT waits here until then (see write)
                connection.awaitingConnack = true;
                hold(ctx, connection);
                CERTIFICATE_USER.set(certificateUser);
                try {
                    super.channelRead(ctx, connect);
                } finally {
                    CERTIFICATE_USER.remove();
                }
            }
            return;
        }
        if (header.messageType() == MqttMessageType.PUBLISH) {
            MqttPublishMessage publish = (MqttPublishMessage) message;
            if (denied(ctx, connection, publish)) {
                return;
            }
            if (sessionQueues.congested()) {
                pause(ctx, connection);
            }
            super.channelRead(ctx, onHeap(publish));
            return;
        }
        super.channelRead(ctx, msg);
    }

    /**
     * The publish with its payload copied out of the connection's read buffer. The decoder hands out a slice of that
     * (pooled, direct) buffer; a message that waits in a session queue would keep the whole buffer, 64 KiB, alive:
     * queued messages then exhaust direct memory long before the heap. A copy the size of the payload does not.
     */
    private static MqttPublishMessage onHeap(MqttPublishMessage publish) {
        io.netty.buffer.ByteBuf payload = publish.payload();
        byte[] bytes = new byte[payload.readableBytes()];
        payload.getBytes(payload.readerIndex(), bytes);
        MqttPublishMessage copy = publish.replace(io.netty.buffer.Unpooled.wrappedBuffer(bytes));
        publish.release();
        return copy;
    }

    /**
     * Stops reading from a connection while Moquette's session loops are behind ({@link SessionQueues#congested()}):
     * the TCP window fills and the client waits, instead of Moquette dropping its publishes unacknowledged. What the
     * decoder still delivers from the current read is held, in order, and handed on when the loops have caught up.
     */
    private void pause(ChannelHandlerContext ctx, Connection connection) {
        hold(ctx, connection);
        paused.increment();
        ctx.executor().schedule(() -> releaseWhenDone(ctx, connection, sessionQueues::stillCongested), 1, TimeUnit.MILLISECONDS);
    }

    /**
     * Checks {@code waiting} every millisecond on the connection's event loop, and {@linkplain #release releases} what
     * was held once it is false (or the connection has closed).
     */
    private void releaseWhenDone(ChannelHandlerContext ctx, Connection connection, java.util.function.BooleanSupplier waiting) {
        if (ctx.channel().isActive() && waiting.getAsBoolean()) {
            ctx.executor().schedule(() -> releaseWhenDone(ctx, connection, waiting), 1, TimeUnit.MILLISECONDS);
            return;
        }
        release(ctx, connection);
    }

    /** Stops reading; what the decoder still delivers is held in order until {@link #release}. */
    private static void hold(ChannelHandlerContext ctx, Connection connection) {
        connection.held = new java.util.ArrayDeque<>();
        ctx.channel().config().setAutoRead(false);
    }

    /** Hands on what was held, in order, and reads again, unless a packet handed on holds the connection anew. */
    private void release(ChannelHandlerContext ctx, Connection connection) {
        if (!ctx.channel().isActive()) {
            releaseHeld(connection);
            return;
        }
        java.util.ArrayDeque<Object> held = connection.held;
        connection.held = null;
        try {
            Object next;
            while ((next = held.poll()) != null) {
                channelRead(ctx, next);
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

    private static void releaseHeld(Connection connection) {
        java.util.ArrayDeque<Object> held = connection.held;
        connection.held = null;
        if (held != null) {
            held.forEach(ReferenceCountUtil::release);
        }
    }

    /** True when the CONNECT goes on to Moquette. */
    private boolean connect(ChannelHandlerContext ctx, Connection connection, MqttConnectMessage connect, String certificateUser) {
        if (connection.connected) {
            close(ctx, "protocol-violation", "a second CONNECT on the same connection (MQTT-3.1.0-2)");
            return false;
        }
        var variable = connect.variableHeader();
        var payload = connect.payload();
        if (variable.isWillFlag() && variable.willQos() > 2) {
            close(ctx, "malformed", "will QoS " + variable.willQos() + " (MQTT-3.1.2-14)");
            return false;
        }
        String username = variable.hasUserName() ? payload.userName() : null;
        byte[] password = variable.hasPassword() ? payload.passwordInBytes() : null;
        MqttAccess.Login login = certificateUser != null ? MqttAccess.Login.ACCEPTED : access.login(username, password);
        String who = "client " + payload.clientIdentifier() + (username == null ? " (anonymous)" : " (user " + username + ")")
                + " from " + connection.address;
        if (login != MqttAccess.Login.ACCEPTED) {
            refuse(ctx, login.returnCode, login.outcome, who);
            return false;
        }
        if (variable.isWillFlag()) {
            Optional<String> willDenial = access.publishDenial(payload.willTopic(), username, payload.clientIdentifier());
            if (willDenial.isPresent()) {
                refuse(ctx, 5, "not-authorized", who + ": will topic '" + payload.willTopic() + "' not allowed (" + willDenial.get() + ")");
                return false;
            }
        }
        if (maxConnections >= 0) {
            if (connections.incrementAndGet() > maxConnections) {
                connections.decrementAndGet();
                refuse(ctx, 3, "server-unavailable", who + ": " + maxConnections
                        + " connections already (bridge.broker.max-connections)");
                return false;
            }
            connection.counted = true;
        }
        connection.connected = true;
        connection.clientId = payload.clientIdentifier();
        connection.username = username;
        if (connection.deadline != null) {
            connection.deadline.cancel(false);
        }
        return true;
    }

    /** The user name Moquette is handing to the authenticator right now, when a client certificate vouched for it. */
    static String certificateUser() {
        return CERTIFICATE_USER.get();
    }

    /** The CN of the client certificate of a TLS connection, or null (no TLS, no certificate, no CN). */
    private static String certificateCommonName(ChannelHandlerContext ctx) {
        io.netty.handler.ssl.SslHandler ssl = ctx.pipeline().get(io.netty.handler.ssl.SslHandler.class);
        if (ssl == null) {
            return null;
        }
        try {
            java.security.cert.Certificate[] peer = ssl.engine().getSession().getPeerCertificates();
            if (peer.length == 0 || !(peer[0] instanceof java.security.cert.X509Certificate certificate)) {
                return null;
            }
            javax.naming.ldap.LdapName name = new javax.naming.ldap.LdapName(certificate.getSubjectX500Principal().getName());
            for (javax.naming.ldap.Rdn rdn : name.getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return rdn.getValue().toString();
                }
            }
            return null;
        } catch (javax.net.ssl.SSLPeerUnverifiedException | javax.naming.InvalidNameException e) {
            return null;
        }
    }

    private static MqttConnectMessage withUserName(MqttConnectMessage connect, String userName) {
        var v = connect.variableHeader();
        var p = connect.payload();
        // with a password field (empty if the client sent none): Moquette refuses a user name without one before it
        // asks the authenticator, which lets the certificate's user in (certificateUser())
        return new MqttConnectMessage(connect.fixedHeader(),
                new io.netty.handler.codec.mqtt.MqttConnectVariableHeader(v.name(), v.version(), true, true,
                        v.isWillRetain(), v.willQos(), v.isWillFlag(), v.isCleanSession(), v.keepAliveTimeSeconds()),
                new io.netty.handler.codec.mqtt.MqttConnectPayload(p.clientIdentifier(), p.willProperties(), p.willTopic(),
                        p.willMessageInBytes(), userName, v.hasPassword() ? p.passwordInBytes() : new byte[0]));
    }

    private static MqttConnectMessage withClientId(MqttConnectMessage connect, String clientId) {
        var p = connect.payload();
        return new MqttConnectMessage(connect.fixedHeader(), connect.variableHeader(),
                new io.netty.handler.codec.mqtt.MqttConnectPayload(clientId, p.willProperties(), p.willTopic(),
                        p.willMessageInBytes(), p.userName(), p.passwordInBytes()));
    }

    /** True when the PUBLISH was denied (acknowledged, dropped, counted) and must not reach Moquette. */
    private boolean denied(ChannelHandlerContext ctx, Connection connection, MqttPublishMessage publish) {
        String topic = publish.variableHeader().topicName();
        Optional<String> denial = access.publishDenial(topic, connection.username, connection.clientId);
        if (denial.isEmpty()) {
            return false;
        }
        int packetId = publish.variableHeader().packetId();
        MqttQoS qos = publish.fixedHeader().qosLevel();
        ReferenceCountUtil.release(publish);
        Counter.builder(BridgeMetrics.MQTT_PUBLISH_DENIED).tag("reason", denial.get())
                .description("PUBLISH packets dropped by the topic policy").register(registry).increment();
        if (!connection.publishDenialLogged) {
            connection.publishDenialLogged = true;
            BridgeLog.LOG.publishDenied(connection.clientId, String.valueOf(connection.username), topic, denial.get());
        }
        // MQTT 3.1.1 has no negative PUBACK: acknowledge so the client does not resend it for ever (as Mosquitto does)
        if (qos == MqttQoS.AT_LEAST_ONCE) {
            ctx.writeAndFlush(new MqttMessage(new MqttFixedHeader(MqttMessageType.PUBACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
                    MqttMessageIdVariableHeader.from(packetId)));
        } else if (qos == MqttQoS.EXACTLY_ONCE) {
            ctx.writeAndFlush(new MqttMessage(new MqttFixedHeader(MqttMessageType.PUBREC, false, MqttQoS.AT_MOST_ONCE, false, 0),
                    MqttMessageIdVariableHeader.from(packetId)));
        }
        return true;
    }

    /** A CONNACK that Moquette writes: once Moquette counts the connection as connected, what was held goes on. */
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, io.netty.channel.ChannelPromise promise) throws Exception {
        Connection connection = ctx.channel().attr(CONNECTION).get();
        if (msg instanceof MqttConnAckMessage && connection != null && connection.awaitingConnack) {
            connection.awaitingConnack = false;
            // Moquette sets its connected flag in its own listener of the CONNACK write, which it may add after the
            // write has completed: watch the flag (within connect-timeout), not the write
            long giveUp = System.nanoTime() + connectTimeoutMillis * 1_000_000L;
            promise.addListener(written -> releaseWhenDone(ctx, connection,
                    () -> !moquetteConnected(ctx) && System.nanoTime() - giveUp < 0));
        }
        super.write(ctx, msg, promise);
    }

    private static final AttributeKey<Object> MOQUETTE_CONNECTION = AttributeKey.valueOf("connection");
    private static final Field MOQUETTE_CONNECTED = moquetteConnectedField();

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

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (!ctx.channel().isWritable()) {
            ctx.executor().schedule(() -> {
                if (ctx.channel().isActive() && !ctx.channel().isWritable()) {
                    close(ctx, "slow-reader", "read nothing of what it was sent for " + slowReaderMillis
                            + " ms (bridge.broker.slow-reader-timeout)");
                }
            }, slowReaderMillis, TimeUnit.MILLISECONDS);
        }
        super.channelWritabilityChanged(ctx);
    }

    /**
     * A packet the decoder could not read (a decoder that throws rather than delivering a failed message, which
     * {@link #channelRead} closes): answered here, with one log line and no stack trace; so is a write to a
     * connection already closed, which Moquette would log as an ERROR each time. Anything else goes on to Moquette.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        if (cause instanceof java.nio.channels.ClosedChannelException) {
            // Moquette writing to a connection that is gone (client left, slow reader closed, shutdown): nothing lost
            ctx.close();
            return;
        }
        if (cause instanceof io.netty.handler.codec.DecoderException) {
            Throwable reason = cause.getCause() == null ? cause : cause.getCause();
            close(ctx, "malformed", "malformed packet: " + reason.getClass().getSimpleName() + " " + reason.getMessage());
            return;
        }
        super.exceptionCaught(ctx, cause);
    }

    private boolean admitConnect(String address) {
        long second = System.nanoTime() / 1_000_000_000L;
        Window window = connectsByAddress.computeIfAbsent(address, a -> new Window());
        synchronized (window) {
            if (window.second != second) {
                window.second = second;
                window.count = 0;
                window.logged = false;
            }
            if (++window.count <= connectRate) {
                return true;
            }
            if (!window.logged) {
                window.logged = true;
                BridgeLog.LOG.connectFlood(address, connectRate);
            }
        }
        if (connectsByAddress.size() > 10_000) {
            connectsByAddress.entrySet().removeIf(entry -> entry.getValue().second < second - 1);
        }
        return false;
    }

    private void refuse(ChannelHandlerContext ctx, int returnCode, String outcome, String detail) {
        count(outcome);
        BridgeLog.LOG.connectionRefused(outcome, returnCode, detail);
        MqttConnAckMessage connack = MqttMessageBuilders.connAck().returnCode(MqttConnectReturnCode.valueOf((byte) returnCode))
                .sessionPresent(false).build();
        ctx.writeAndFlush(connack).addListener(ChannelFutureListener.CLOSE);
    }

    private void close(ChannelHandlerContext ctx, String outcome, String reason) {
        count(outcome);
        if (reason != null) {
            Connection connection = ctx.channel().attr(CONNECTION).get();
            BridgeLog.LOG.connectionClosed(connection == null ? "?" : connection.address, reason);
        }
        ctx.close();
    }

    private void count(String outcome) {
        Counter.builder(BridgeMetrics.MQTT_CONNECTIONS).tag("outcome", outcome).description("MQTT connections, by outcome")
                .register(registry).increment();
    }

    private static String address(SocketAddress address) {
        return address instanceof InetSocketAddress inet && inet.getAddress() != null ? inet.getAddress().getHostAddress()
                : String.valueOf(address);
    }
}
