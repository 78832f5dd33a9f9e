package io.mqttkafkabridge.broker;

import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;

import io.mqttkafkabridge.config.BridgeConfig;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.security.MqttAccess;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttConnectPayload;
import io.netty.handler.codec.mqtt.MqttConnectVariableHeader;
import io.netty.handler.ssl.SslHandler;

/**
 * Who gets in: the gate's answer to a new connection and its CONNECT, before Moquette sees it.
 * <ul>
 * <li>A new connection: more than {@code bridge.broker.connect-rate-per-address} per second from one address are
 * closed at once (MKB0014); one that sends no CONNECT within {@code connect-timeout} is closed.</li>
 * <li>CONNECT: a second one on the same connection is closed (MQTT-3.1.0-2); a will QoS of 3 is closed
 * (MQTT-3.1.2-14; it would kill a Moquette session loop); the password check with the right CONNACK (4 wrong password,
 * 5 unknown user or anonymous not allowed); a will whose topic the client may not publish to gets CONNACK 5 (Moquette
 * 0.18.1's fix); a client id ending in {@code _meta} gets CONNACK 2 (its h2 queue would be another client's queue
 * index, upstream #964); over {@code bridge.broker.max-connections}, CONNACK 3.</li>
 * <li>A CONNECT with an empty client id and clean session gets an id assigned here (MQTT-3.1.3-6); over TLS with
 * {@code tls-cn-as-username}, the certificate's CN becomes the user name.</li>
 * </ul>
 * Called on the connection's event loop; never blocks.
 */
final class Admission {

    /** Moquette 0.17's h2 store keeps a client's queue index under "{@code <client id>_meta}". */
    private static final String RESERVED_SUFFIX = "_meta";

    private final MqttAccess access;
    private final GateOutcomes outcomes;
    private final int maxConnections;
    private final int connectRate;
    private final int maxTopicLevels;
    private final long connectTimeoutMillis;
    private final boolean cnAsUsername;
    private final Mqtt5 mqtt5;
    private final AtomicInteger connections = new AtomicInteger();
    private final Map<String, Window> connectsByAddress = new ConcurrentHashMap<>();
    /** Set while a CONNECT authenticated by its client certificate is handed to Moquette (same thread, synchronous). */
    private static final ThreadLocal<String> CERTIFICATE_USER = new ThreadLocal<>();

    /** CONNECTs of one address in the current second. */
    private static final class Window {
        long second;
        int count;
        boolean logged;
    }

    Admission(MqttAccess access, BridgeConfig.Broker config, GateOutcomes outcomes) {
        this.access = access;
        this.outcomes = outcomes;
        this.maxConnections = config.maxConnections();
        this.connectRate = config.connectRatePerAddress();
        this.maxTopicLevels = config.maxTopicLevels();
        this.connectTimeoutMillis = config.connectTimeout().toMillis();
        this.cnAsUsername = config.tlsCnAsUsername();
        this.mqtt5 = new Mqtt5(config);
    }

    Mqtt5 mqtt5() {
        return mqtt5;
    }

    long connectTimeoutMillis() {
        return connectTimeoutMillis;
    }

    /** A new connection: closed at once in a CONNECT flood, otherwise given {@code connect-timeout} to send its CONNECT. */
    void opened(ChannelHandlerContext ctx, GateConnection connection) {
        if (!admitConnect(connection.address)) {
            outcomes.close(ctx, "connect-flood", null);
            return;
        }
        connection.deadline = ctx.executor().schedule(() -> {
            if (!connection.connected) {
                outcomes.close(ctx, "connect-timeout", "no CONNECT within " + connectTimeoutMillis
                        + " ms (bridge.broker.connect-timeout)");
            }
        }, connectTimeoutMillis, TimeUnit.MILLISECONDS);
    }

    void closed(GateConnection connection) {
        if (connection.counted) {
            connection.counted = false;
            connections.decrementAndGet();
        }
        if (connection.deadline != null) {
            connection.deadline.cancel(false);
        }
    }

    /**
     * The CONNECT as Moquette should see it (client id assigned, certificate user as user name), or null when the
     * connection was refused or closed.
     */
    /** False while the broker must not take clients yet (the cluster's state is being applied). */
    volatile boolean accepting = true;

    MqttConnectMessage admit(ChannelHandlerContext ctx, GateConnection connection, MqttConnectMessage received) {
        if (connection.connected) {
            outcomes.close(ctx, "protocol-violation", "a second CONNECT on the same connection (MQTT-3.1.0-2)");
            return null;
        }
        MqttConnectMessage connect = received;
        connection.protocolLevel = received.variableHeader().version();
        boolean v5 = Mqtt5.isMqtt5(received);
        if (v5) {
            int reason = mqtt5.connect(connection, received);
            if (reason != Mqtt5.SUCCESS) {
                outcomes.refuse(ctx, 5, reason, reason == Mqtt5.BAD_AUTHENTICATION_METHOD ? "bad-authentication-method"
                        : "protocol-violation", "client " + received.payload().clientIdentifier() + " from " + connection.address
                        + (reason == Mqtt5.BAD_AUTHENTICATION_METHOD ? ": enhanced authentication (AUTH) is not offered"
                                : ": a CONNECT property of 0 (Receive Maximum or Maximum Packet Size)"));
                return null;
            }
        }
        String certificateUser = cnAsUsername ? certificateCommonName(ctx) : null;
        if (certificateUser != null) {
            connect = withUserName(connect, certificateUser);
        }
        if (connect.payload().clientIdentifier().isEmpty() && (v5 || connect.variableHeader().isCleanSession())) {
            // MQTT-3.1.3-6: the server assigns the id. Assigned here rather than by Moquette, which reports the
            // empty id on connect and its own on disconnect: the client would stay listed as connected for ever.
            // MQTT 5 assigns one whatever Clean Start says, and tells it (Assigned Client Identifier)
            String assigned = UUID.randomUUID().toString().replace("-", "");
            connect = withClientId(connect, assigned);
            if (v5) {
                connection.mqtt5.assignedClientId = assigned;
            }
        }
        var variable = connect.variableHeader();
        var payload = connect.payload();
        if (variable.isWillFlag() && variable.willQos() > 2) {
            outcomes.close(ctx, "malformed", "will QoS " + variable.willQos() + " (MQTT-3.1.2-14)");
            return null;
        }
        String clientId = payload.clientIdentifier();
        String username = variable.hasUserName() ? payload.userName() : null;
        String who = "client " + clientId + (username == null ? " (anonymous)" : " (user " + username + ")")
                + " from " + connection.address;
        if (clientId.endsWith(RESERVED_SUFFIX)) {
            outcomes.refuse(ctx, 2, "identifier-rejected", who + ": client ids ending in '" + RESERVED_SUFFIX
                    + "' are reserved (the session store keeps its indexes under such names)");
            return null;
        }
        byte[] password = variable.hasPassword() ? payload.passwordInBytes() : null;
        MqttAccess.Login login = certificateUser != null ? MqttAccess.Login.ACCEPTED : access.login(username, password);
        if (login != MqttAccess.Login.ACCEPTED) {
            // MQTT 5: a user name or password that is wrong is 0x86; no user name where one is needed, 0x87
            outcomes.refuse(ctx, login.returnCode, username == null ? Mqtt5.NOT_AUTHORIZED : Mqtt5.BAD_USER_NAME_OR_PASSWORD,
                    login.outcome, who);
            return null;
        }
        if (variable.isWillFlag()) {
            Optional<String> willDenial = willDenial(payload.willTopic(), username, clientId);
            if (willDenial.isPresent()) {
                outcomes.refuse(ctx, 5, Mqtt5.NOT_AUTHORIZED, "not-authorized", who + ": will topic '" + payload.willTopic() + "' not allowed ("
                        + willDenial.get() + ")");
                return null;
            }
        }
        if (maxConnections >= 0) {
            if (connections.incrementAndGet() > maxConnections) {
                connections.decrementAndGet();
                outcomes.refuse(ctx, 3, Mqtt5.QUOTA_EXCEEDED, "server-unavailable", who + ": " + maxConnections
                        + " connections already (bridge.broker.max-connections)");
                return null;
            }
            connection.counted = true;
        }
        if (!accepting) {
            outcomes.refuse(ctx, 3, "server-unavailable", who + ": the bridge is still loading the cluster's state");
            return null;
        }
        if (variable.isWillFlag()) {
            connection.will = new io.mqttkafkabridge.routing.MqttPublication(payload.willTopic(),
                    payload.willMessageInBytes() == null ? new byte[0] : payload.willMessageInBytes(), variable.willQos(),
                    variable.isWillRetain(), clientId, username,
                    v5 ? Mqtt5.messageProperties(payload.willProperties(), 0) : null);
            if (v5) {
                // the will's expiry counts from when it is published, its delay from when the connection ends
                connection.willExpiryMillis = connection.will.properties().expiresAt();
                connection.willDelayMillis = Mqtt5.willDelaySeconds(payload.willProperties()) * 1000L;
            }
            connect = withoutWill(connect);
        }
        connection.connected = true;
        connection.clientId = clientId;
        connection.username = username;
        connect = v5 ? Mqtt5.asMqtt311(connect, connection.mqtt5) : mqtt5.cappedKeepAlive(connect);
        connection.cleanSession = connect.variableHeader().isCleanSession();
        connection.discardSession = v5 && variable.isCleanSession() && !connection.cleanSession;
        mqtt5.expiryGranted(clientId, v5 ? connection.mqtt5.sessionExpiry : -1);
        if (connection.deadline != null) {
            connection.deadline.cancel(false);
        }
        CERTIFICATE_USER.set(certificateUser);
        return connect;
    }

    /** A CONNECT held back ({@link SessionArrivals}) is handed to Moquette now, on the connection's event loop. */
    void resumeHandOver(String certificateUser) {
        CERTIFICATE_USER.set(certificateUser);
    }

    /** After Moquette has read the CONNECT admitted last on this thread. */
    void handedOver() {
        CERTIFICATE_USER.remove();
    }

    /** The user name Moquette is handing to the authenticator right now, when a client certificate vouched for it. */
    static String certificateUser() {
        return CERTIFICATE_USER.get();
    }

    private Optional<String> willDenial(String topic, String username, String clientId) {
        String invalid = PublishPath.invalidTopic(topic, maxTopicLevels);
        return invalid != null ? Optional.of(invalid) : access.publishDenial(topic, username, clientId);
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

    /** The CN of the client certificate of a TLS connection, or null (no TLS, no certificate, no CN). */
    private static String certificateCommonName(ChannelHandlerContext ctx) {
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        if (ssl == null) {
            return null;
        }
        try {
            java.security.cert.Certificate[] peer = ssl.engine().getSession().getPeerCertificates();
            if (peer.length == 0 || !(peer[0] instanceof java.security.cert.X509Certificate certificate)) {
                return null;
            }
            LdapName name = new LdapName(certificate.getSubjectX500Principal().getName());
            for (Rdn rdn : name.getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return rdn.getValue().toString();
                }
            }
            return null;
        } catch (SSLPeerUnverifiedException | InvalidNameException e) {
            return null;
        }
    }

    private static MqttConnectMessage withUserName(MqttConnectMessage connect, String userName) {
        var v = connect.variableHeader();
        var p = connect.payload();
        // with a password field (empty if the client sent none): Moquette refuses a user name without one before it
        // asks the authenticator, which lets the certificate's user in (certificateUser())
        return new MqttConnectMessage(connect.fixedHeader(),
                new MqttConnectVariableHeader(v.name(), v.version(), true, true, v.isWillRetain(), v.willQos(),
                        v.isWillFlag(), v.isCleanSession(), v.keepAliveTimeSeconds()),
                new MqttConnectPayload(p.clientIdentifier(), p.willProperties(), p.willTopic(), p.willMessageInBytes(),
                        userName, v.hasPassword() ? p.passwordInBytes() : new byte[0]));
    }

    private static MqttConnectMessage withoutWill(MqttConnectMessage connect) {
        var v = connect.variableHeader();
        var p = connect.payload();
        return new MqttConnectMessage(connect.fixedHeader(),
                new MqttConnectVariableHeader(v.name(), v.version(), v.hasUserName(), v.hasPassword(), false, 0, false,
                        v.isCleanSession(), v.keepAliveTimeSeconds()),
                new MqttConnectPayload(p.clientIdentifier(), p.willProperties(), null, (byte[]) null, p.userName(),
                        p.passwordInBytes()));
    }

    private static MqttConnectMessage withClientId(MqttConnectMessage connect, String clientId) {
        var p = connect.payload();
        return new MqttConnectMessage(connect.fixedHeader(), connect.variableHeader(),
                new MqttConnectPayload(clientId, p.willProperties(), p.willTopic(), p.willMessageInBytes(), p.userName(),
                        p.passwordInBytes()));
    }
}
