package io.mqttkafkabridge.broker;

import java.util.Optional;

import com.oracle.svm.core.annotate.Alias;
import com.oracle.svm.core.annotate.Substitute;
import com.oracle.svm.core.annotate.TargetClass;

import io.moquette.BrokerConstants;
import io.moquette.broker.ISslContextCreator;
import io.moquette.broker.NewNettyMQTTHandler;
import io.moquette.broker.config.IConfig;
import io.netty.channel.ChannelInboundHandler;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;

/**
 * GraalVM substitution for the native executable; the JVM never loads these classes.
 * <p>
 * Quarkus builds native images with {@code --link-at-build-time}: every type that reachable code names must be on the
 * class path. Moquette 0.17's {@code NewNettyAcceptor.initialize} names three optional features whose jars the bridge
 * excludes (pom.xml): the Netty epoll transport ({@code EpollEventLoopGroup}, {@code EpollServerSocketChannel};
 * {@code netty.epoll=true}), Dropwizard/Librato metrics ({@code DropWizardMetricsHandler}; {@code use_metrics=true})
 * and Bugsnag ({@code BugSnagErrorsHandler}; {@code use_bugsnag=true}). These are the only unresolved references in
 * Moquette's reachable code (checked with {@code jdeps} against the runtime class path; {@code DBAuthenticator}'s
 * HikariCP is also absent, but nothing names that class). The bridge sets none of the three switches
 * ({@link MoquetteSettings}), and on the JVM turning one on fails with NoClassDefFoundError anyway.
 * <p>
 * The substitute does what {@code initialize} does on the JVM with those switches off: read the {@code netty.*}
 * settings with Moquette's defaults, use NIO event loops, no metrics handler, no error catcher, then open the TCP,
 * WebSocket and (when configured) TLS listeners with Moquette's own private methods. {@code netty.epoll=true} falls
 * back to NIO with a warning; {@code use_metrics} or {@code use_bugsnag} fail start-up with a message.
 */
final class MoquetteSubstitutions {

    private MoquetteSubstitutions() {
    }

    static IllegalStateException unsupported(String property) {
        return new IllegalStateException("Moquette's " + property + "=true needs a library the bridge does not ship "
                + "(and the native executable cannot load); leave " + property + " unset");
    }
}

@TargetClass(className = "io.moquette.broker.NewNettyAcceptor")
final class Target_io_moquette_broker_NewNettyAcceptor {

    @Alias
    private static org.slf4j.Logger LOG;

    @Alias
    private EventLoopGroup bossGroup;

    @Alias
    private EventLoopGroup workerGroup;

    @Alias
    private Optional<? extends ChannelInboundHandler> metrics;

    @Alias
    private Optional<? extends ChannelInboundHandler> errorsCather;

    @Alias
    private int nettySoBacklog;

    @Alias
    private boolean nettySoReuseaddr;

    @Alias
    private boolean nettyTcpNodelay;

    @Alias
    private boolean nettySoKeepalive;

    @Alias
    private int nettyChannelTimeoutSeconds;

    @Alias
    private int maxBytesInMessage;

    @Alias
    private Class<? extends ServerSocketChannel> channelClass;

    @Substitute
    public void initialize(NewNettyMQTTHandler mqttHandler, IConfig props, ISslContextCreator sslCtxCreator,
            Target_io_moquette_broker_BrokerConfiguration brokerConfiguration) {
        nettySoBacklog = props.intProp(BrokerConstants.NETTY_SO_BACKLOG_PROPERTY_NAME, 128);
        nettySoReuseaddr = props.boolProp(BrokerConstants.NETTY_SO_REUSEADDR_PROPERTY_NAME, true);
        nettyTcpNodelay = props.boolProp(BrokerConstants.NETTY_TCP_NODELAY_PROPERTY_NAME, true);
        nettySoKeepalive = props.boolProp(BrokerConstants.NETTY_SO_KEEPALIVE_PROPERTY_NAME, true);
        nettyChannelTimeoutSeconds = props.intProp(BrokerConstants.NETTY_CHANNEL_TIMEOUT_SECONDS_PROPERTY_NAME, 10);
        maxBytesInMessage = props.intProp(BrokerConstants.NETTY_MAX_BYTES_PROPERTY_NAME,
                BrokerConstants.DEFAULT_NETTY_MAX_BYTES_IN_MESSAGE);
        if (props.boolProp(BrokerConstants.NETTY_EPOLL_PROPERTY_NAME, false)) {
            LOG.warn("{}=true is ignored in the native executable (no epoll transport): Netty uses NIO",
                    BrokerConstants.NETTY_EPOLL_PROPERTY_NAME);
        }
        if (props.boolProp(BrokerConstants.METRICS_ENABLE_PROPERTY_NAME, false)) {
            throw MoquetteSubstitutions.unsupported(BrokerConstants.METRICS_ENABLE_PROPERTY_NAME);
        }
        if (props.boolProp(BrokerConstants.BUGSNAG_ENABLE_PROPERTY_NAME, false)) {
            throw MoquetteSubstitutions.unsupported(BrokerConstants.BUGSNAG_ENABLE_PROPERTY_NAME);
        }
        bossGroup = new NioEventLoopGroup();
        workerGroup = new NioEventLoopGroup();
        channelClass = NioServerSocketChannel.class;
        metrics = Optional.empty();
        errorsCather = Optional.empty();

        initializePlainTCPTransport(mqttHandler, props, brokerConfiguration);
        initializeWebSocketTransport(mqttHandler, props, brokerConfiguration);
        if (securityPortsConfigured(props)) {
            SslContext sslContext = sslCtxCreator.initSSLContext();
            if (sslContext == null) {
                LOG.error("The MQTT TLS listeners are not started: no SSL context could be created from the key store settings");
                return;
            }
            initializeSSLTCPTransport(mqttHandler, props, sslContext, brokerConfiguration);
            initializeWSSTransport(mqttHandler, props, sslContext, brokerConfiguration);
        }
    }

    @Alias
    private native void initializePlainTCPTransport(NewNettyMQTTHandler mqttHandler, IConfig props,
            Target_io_moquette_broker_BrokerConfiguration brokerConfiguration);

    @Alias
    private native void initializeWebSocketTransport(NewNettyMQTTHandler mqttHandler, IConfig props,
            Target_io_moquette_broker_BrokerConfiguration brokerConfiguration);

    @Alias
    private native boolean securityPortsConfigured(IConfig props);

    @Alias
    private native void initializeSSLTCPTransport(NewNettyMQTTHandler mqttHandler, IConfig props, SslContext sslContext,
            Target_io_moquette_broker_BrokerConfiguration brokerConfiguration);

    @Alias
    private native void initializeWSSTransport(NewNettyMQTTHandler mqttHandler, IConfig props, SslContext sslContext,
            Target_io_moquette_broker_BrokerConfiguration brokerConfiguration);
}

/** Moquette's package-private {@code BrokerConfiguration}, named in the signatures above. */
@TargetClass(className = "io.moquette.broker.BrokerConfiguration")
final class Target_io_moquette_broker_BrokerConfiguration {
}
