package io.mqttkafkabridge.broker;

import java.nio.file.Path;
import java.util.Properties;

import io.moquette.BrokerConstants;
import io.moquette.broker.config.IConfig;
import io.moquette.broker.config.MemoryConfig;
import io.mqttkafkabridge.config.BridgeConfig;

/**
 * Translates {@code bridge.broker.*} into Moquette's own configuration: the only place Moquette's snake_case keys
 * appear. Settings a user must not change (telemetry, interceptor threads) are fixed here.
 */
final class MoquetteSettings {

    /** How often Moquette's h2 store saves what changed (Moquette's default: 30). */
    static final int STORE_SAVE_SECONDS = 2;

    /** The file Moquette's h2 store keeps sessions, subscriptions, queues and retained messages in. */
    static final String STORE_FILE = "moquette_store.h2";

    private MoquetteSettings() {
    }

    static IConfig of(BridgeConfig.Broker broker, Path dataPath, boolean allowAnonymous) {
        Properties p = new Properties();
        p.setProperty(IConfig.HOST_PROPERTY_NAME, broker.host());
        p.setProperty(IConfig.PORT_PROPERTY_NAME, Integer.toString(broker.port()));
        if (broker.websocketPort() >= 0) {
            p.setProperty(IConfig.WEB_SOCKET_PORT_PROPERTY_NAME, Integer.toString(broker.websocketPort()));
            p.setProperty(IConfig.WEB_SOCKET_PATH_PROPERTY_NAME, "/mqtt");
            p.setProperty("websocket_max_frame_size", Integer.toString(broker.maxMessageSize() + 16));
        }
        if (broker.tlsCertFile().isPresent()) {
            // TlsContext builds the SSL context from PEM files; Moquette's own key store settings stay unset
            p.setProperty("ssl_port", Integer.toString(broker.tlsPort()));
            if (broker.websocketTlsPort() >= 0) {
                p.setProperty("secure_websocket_port", Integer.toString(broker.websocketTlsPort()));
            }
        }
        broker.sessionExpiry().ifPresent(expiry -> p.setProperty("persistent_client_expiration", expiration(expiry)));
        p.setProperty(IConfig.NETTY_MAX_BYTES_PROPERTY_NAME, Integer.toString(broker.maxMessageSize()));
        // Moquette calls out to the internet at start-up unless this is off.
        p.setProperty(IConfig.ENABLE_TELEMETRY_NAME, "false");
        boolean h2 = broker.persistence() == BridgeConfig.Persistence.H2;
        p.setProperty(IConfig.PERSISTENCE_ENABLED_PROPERTY_NAME, Boolean.toString(h2));
        p.setProperty(IConfig.DATA_PATH_PROPERTY_NAME, dataPath.toString());
        // The h2 store keeps everything changed since its last save in the heap: at Moquette's default of 30 s, a
        // QoS 1 burst through a persistent session's queue (500,000 messages in BrokerLoadIT) filled a 160 MiB heap and
        // the save itself failed, closing the store for good ("This store is closed"). Every 2 s bounds that, and puts
        // sessions and queued messages on disk sooner.
        p.setProperty(BrokerConstants.AUTOSAVE_INTERVAL_PROPERTY_NAME, Integer.toString(STORE_SAVE_SECONDS));
        // Only the h2 queues keep every offline session's messages across a clean restart; segmented keeps one.
        p.setProperty(IConfig.PERSISTENT_QUEUE_TYPE_PROPERTY_NAME, "h2");
        // One interceptor thread keeps each client's publishes in order, should the pool stay (see InlineInterceptors).
        p.setProperty("intercept.thread_pool.size", "1");
        // Moquette drops a command (a publish: no PUBACK, no delivery) when its session loop's queue is full; the
        // gate pauses publishers when a queue is half full (SessionQueues)
        if (broker.sessionLoopQueueSize() < 1024) {
            throw new IllegalStateException("bridge.broker.session-loop-queue-size must be at least 1024, not "
                    + broker.sessionLoopQueueSize());
        }
        p.setProperty(IConfig.SESSION_QUEUE_SIZE, Integer.toString(broker.sessionLoopQueueSize()));
        // MQTT 3.1.1 lets a clean-session client connect with an empty client id; the broker assigns one.
        p.setProperty("allow_zero_byte_client_id", "true");
        // MqttGate answers anonymous CONNECTs (CONNACK 5); Moquette never asks the authenticator about clients without a
        // user name, so its own flag must agree for connections the gate has not seen.
        p.setProperty(IConfig.ALLOW_ANONYMOUS_PROPERTY_NAME, Boolean.toString(allowAnonymous));
        return new MemoryConfig(p);
    }

    /** Moquette's {@code <n><s|m|h|d>} form; its int-millisecond arithmetic overflows beyond 24 days. */
    static String expiration(java.time.Duration expiry) {
        long seconds = expiry.toSeconds();
        if (seconds < 1 || seconds > java.time.Duration.ofDays(24).toSeconds()) {
            throw new IllegalStateException("bridge.broker.session-expiry=" + expiry + " is out of range: between 1s and "
                    + "24d (Moquette 0.17 overflows beyond 24 days); leave it unset to keep offline sessions until they "
                    + "come back");
        }
        return seconds + "s";
    }
}
