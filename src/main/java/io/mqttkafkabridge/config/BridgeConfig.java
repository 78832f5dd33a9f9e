package io.mqttkafkabridge.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * The bridge's own settings, everything under {@code bridge.*}. Kafka client settings are not here: they pass
 * through unchanged under {@code kafka.*} and {@code mp.messaging.*}, as in any Quarkus Kafka application.
 */
@ConfigMapping(prefix = "bridge")
public interface BridgeConfig {

    Broker broker();

    Uplink uplink();

    Downlink downlink();

    DevKafka devKafka();

    Journal journal();

    Shutdown shutdown();

    Api api();

    Security security();

    Cluster cluster();

    /** Replicas that act as one MQTT broker, through Kafka. */
    interface Cluster {
        /** Off: every replica is a broker of its own (devices on different replicas do not see each other). */
        @WithDefault("false")
        boolean enabled();

        /** Replicas with the same name on the same Kafka form one cluster; the prefix of its internal topics. */
        @WithDefault("mqtt-kafka-bridge")
        String name();

        /** This replica's id in the cluster; default: the host name (the pod name in the StatefulSet). */
        Optional<String> nodeId();

        /** Partitions of {@code <name>.messages}, the forwarded publishes (key: MQTT topic). */
        @WithDefault("6")
        int messagesPartitions();

        /** How long forwarded publishes stay in {@code <name>.messages}: what a replica down for longer misses. */
        @WithDefault("1d")
        Duration messagesRetention();

        /** Replication factor of the internal topics when the bridge creates them; default: the brokers' default. */
        Optional<Short> replicationFactor();

        /** How often a replica says it is alive, with its figures, in {@code <name>.nodes}. */
        @WithDefault("2s")
        Duration heartbeatInterval();

        /** A replica not heard of for this long is shown as down; its clients are no longer listed. */
        @WithDefault("10s")
        Duration memberTimeout();

        /** How long start-up waits for Kafka to create, check and load the cluster's topics before it fails. */
        @WithDefault("5m")
        Duration startTimeout();

        /**
         * How long a CONNECT with clean session 0 waits for its persistent session to be handed over by the live
         * replica that holds it; then the session is opened from its record (subscriptions), and what the other replica
         * held follows when it hands it over.
         */
        @WithDefault("5s")
        Duration handoverTimeout();
    }

    /** The embedded MQTT broker. */
    interface Broker {
        /** Address the MQTT listener binds to. */
        @WithDefault("0.0.0.0")
        String host();

        /** MQTT over TCP port; 0 picks a free port (logged at start-up). */
        @WithDefault("1883")
        int port();

        /** MQTT over WebSocket at /mqtt (browsers, Paho JavaScript); -1 turns it off. */
        @WithDefault("8083")
        int websocketPort();

        /** Largest MQTT packet accepted, in bytes; a larger one closes that client's connection. */
        @WithDefault("262144")
        int maxMessageSize();

        /** Folder for the broker's session store (and, later, the uplink journal). */
        @WithDefault("data")
        Path dataPath();

        /** {@code h2}: sessions and queued messages kept on disk under data-path; {@code memory}: lost on restart. */
        @WithDefault("h2")
        Persistence persistence();

        /**
         * An offline persistent session (clean-session=false) is dropped, with its queued messages, after this long;
         * unset: kept until the client comes back. At most 24 days (Moquette 0.17 computes it in int milliseconds).
         */
        Optional<Duration> sessionExpiry();

        /**
         * QoS 1/2 messages one session may hold beyond its in-flight window (an offline persistent session, or a
         * subscriber slower than its publishers). Beyond it, new messages for that session are dropped and counted
         * ({@code mqtt_queue_dropped_total}, MKB0015), as Mosquitto's {@code max_queued_messages} does. 0: no limit.
         */
        @WithDefault("1000000")
        int maxQueuedMessages();

        /** Most MQTT connections at once; more are refused with CONNACK 3 (server unavailable). -1: no limit. */
        @WithDefault("-1")
        int maxConnections();

        /** CONNECTs per second one IP address may open; beyond, its new connections are closed at once. */
        @WithDefault("50")
        int connectRatePerAddress();

        /** A connection that has not sent its CONNECT after this long is closed. */
        @WithDefault("20s")
        Duration connectTimeout();

        /**
         * The longest keep-alive a client may ask for; an MQTT 5 client asking for more (or for none) is told this one
         * in CONNACK (Server Keep Alive), a 3.1.1 client is held to it silently. Unset: the client's own.
         */
        Optional<Duration> maxKeepAlive();

        /** Topic aliases an MQTT 5 client may use towards the broker (CONNACK Topic Alias Maximum); 0: none. */
        @WithDefault("64")
        int topicAliasMaximum();

        /**
         * QoS 1 and 2 publishes an MQTT 5 client may have unacknowledged towards the broker at once (CONNACK Receive
         * Maximum); one more is a protocol error (DISCONNECT 0x93).
         */
        @WithDefault("1024")
        int receiveMaximum();

        /** A client that reads nothing of what it is sent for this long is disconnected. */
        @WithDefault("30s")
        Duration slowReaderTimeout();

        /**
         * Commands each session loop of the broker may hold waiting (a publish is one on its publisher's loop and one
         * on each loop with a subscriber to it). The gate stops reading from publishing connections while any loop's
         * queue is half full, until it is three quarters free. At least 1024 (Moquette's own size).
         */
        @WithDefault("65536")
        int sessionLoopQueueSize();

        /**
         * A session loop of the broker that runs one command for longer than this, or has ended, turns liveness DOWN
         * (MKB0018) so that Kubernetes restarts the pod.
         */
        @WithDefault("5s")
        Duration sessionLoopStallTimeout();

        /** Most levels a topic name or filter may have (a deeper PUBLISH closes the connection, a deeper SUBSCRIBE filter gets 0x80), as Mosquitto's limit of 200; 0: no limit. */
        @WithDefault("200")
        int maxTopicLevels();

        /** MQTT over TLS; listens only when {@link #tlsCertFile()} is set. 0 picks a free port. */
        @WithDefault("8883")
        int tlsPort();

        /** MQTT over WebSocket over TLS (wss://host:port/mqtt); listens only when a certificate is set; -1: off. */
        @WithDefault("8084")
        int websocketTlsPort();

        /** PEM certificate chain of the broker (Kubernetes TLS Secret: tls.crt). Setting it turns TLS on. */
        Optional<Path> tlsCertFile();

        /** PEM private key (PKCS#8, or PKCS#1 RSA) of the certificate (tls.key). */
        Optional<Path> tlsKeyFile();

        /** Client certificates: none, optional or required; checked against {@link #tlsClientCaFile()}. */
        @WithDefault("none")
        TlsClientAuth tlsClientAuth();

        /** PEM certificate(s) of the CA that signs client certificates (ca.crt). */
        Optional<Path> tlsClientCaFile();

        /** A client certificate's CN is the user name (no password needed), as Mosquitto's use_identity_as_username. */
        @WithDefault("false")
        boolean tlsCnAsUsername();
    }

    /** Who may connect, publish and subscribe (Mosquitto's password and ACL file formats). */
    interface Security {
        /** Clients without a user name may connect (CONNACK 5 otherwise). */
        @WithDefault("false")
        boolean allowAnonymous();

        /** Mosquitto password file (mosquitto_passwd); without it, clients with a user name are not verified. */
        Optional<Path> passwordFile();

        /** Mosquitto ACL file; without it, every client may publish and subscribe to every topic but $-topics. */
        Optional<Path> aclFile();

        /** How often the password and ACL files are checked for changes (a mounted Secret changes in place). */
        @WithDefault("5s")
        Duration reloadInterval();
    }

    /** Whether TLS clients present a certificate. */
    enum TlsClientAuth {
        NONE,
        OPTIONAL,
        REQUIRED
    }

    /** Where the broker keeps persistent sessions. */
    enum Persistence {
        H2,
        MEMORY
    }

    /** Device to Kafka. */
    interface Uplink {
        /** Routes by name. */
        Map<String, UplinkRoute> routes();

        /** Where records Kafka rejects for good go (too large, not authorized...); without it they are dropped. */
        Optional<String> deadLetterTopic();
    }

    /** The uplink journal: every acknowledged publish, on disk, until Kafka has it. */
    interface Journal {
        /** Its folder; default: {@code <bridge.broker.data-path>/journal}. */
        Optional<Path> path();

        /** Disk space it may take; when full, publishes are refused (no PUBACK) until Kafka catches up. */
        @WithDefault("1G")
        MemorySize maxBytes();

        /** When writes are forced to the device: always | interval | never. */
        @WithDefault("interval")
        io.mqttkafkabridge.journal.FsyncPolicy fsync();

        /** With fsync=interval: how often. */
        @WithDefault("1s")
        Duration fsyncInterval();

        /**
         * Entries waiting for Kafka above which the broker stops reading from publishing connections while Kafka is
         * taking records, until the backlog has halved (each pause at most 1 s); 0: never.
         */
        @WithDefault("50000")
        long maxBacklog();
    }

    /** The REST API under /api/v1. */
    interface Api {
        /**
         * none, or token: every request needs {@code Authorization: Bearer} {@link #token()}, or HTTP basic with a user
         * of the password file.
         */
        @WithDefault("token")
        ApiAuth auth();

        /** The bearer token of the API; who holds it is an admin. */
        Optional<String> token();

        /**
         * Users of the password file ({@code bridge.security.password-file}, HTTP basic) who may change things: routes,
         * disconnects, publishes. Every other user who signs in may read.
         */
        Optional<java.util.List<String>> admins();
    }

    /** How the REST API authenticates. */
    enum ApiAuth {
        NONE,
        TOKEN
    }

    /** Graceful shutdown. */
    interface Shutdown {
        /** How long SIGTERM waits for the journal to drain to Kafka (Kubernetes' grace period is 30 s). */
        @WithDefault("20s")
        Duration drainTimeout();
    }

    /** {@code bridge.uplink.routes.<name>.*}; every field is checked at start-up by the route table. */
    interface UplinkRoute {
        Optional<String> mqttFilter();

        Optional<String> kafkaTopic();

        Optional<String> key();

        /** {@code broker} (the time the bridge received the publish) or {@code json:<pointer>}. */
        Optional<String> timestamp();
    }

    /** Kafka to devices. */
    interface Downlink {
        /** Routes by name. */
        Map<String, DownlinkRoute> routes();

        /**
         * Kafka consumer group of this instance. Every replica must see every record, so the default is per replica:
         * {@code mqtt-kafka-bridge-<bridge.cluster.node-id>}, and without a node id {@code mqtt-kafka-bridge-<host name>}
         * (the pod name in Kubernetes).
         */
        Optional<String> groupId();
    }

    /** {@code bridge.downlink.routes.<name>.*}; every field is checked at start-up by the route table. */
    interface DownlinkRoute {
        Optional<String> kafkaTopic();

        Optional<String> mqttTopic();

        Optional<Integer> qos();

        Optional<Boolean> retain();

        /** The record's headers become User Properties for MQTT 5 subscribers (default true). */
        Optional<Boolean> userProperties();

        /** Messages expire this long after the record's timestamp (MQTT 5 Message Expiry); default: never. */
        Optional<String> messageExpiry();
    }

    /** The local Kafka broker {@code quarkus:dev} starts; ignored outside dev mode. */
    interface DevKafka {
        /** Start a local Kafka broker in dev mode; set to false to use the one {@code kafka.bootstrap.servers} names. */
        @WithDefault("true")
        boolean enabled();

        /** Its client port on 127.0.0.1. */
        @WithDefault("9092")
        int port();

        /** Its data folder, kept across restarts. */
        @WithDefault("target/dev-kafka")
        Path dataPath();
    }
}
