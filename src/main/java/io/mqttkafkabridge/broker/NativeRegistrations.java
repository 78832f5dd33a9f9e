package io.mqttkafkabridge.broker;

import io.moquette.broker.RetainedMessage;
import io.moquette.broker.Server;
import io.moquette.broker.subscriptions.Subscription;
import io.moquette.broker.subscriptions.Topic;
import io.moquette.interception.BrokerInterceptor;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * What the native executable must know about Moquette 0.17 that GraalVM's static analysis cannot find by itself.
 * Nothing here changes the JVM build. Found by reading the bytecode of Moquette and its dependencies (H2 MVStore 2.1,
 * commons-codec, netty-codec-mqtt) and of our own code; see also {@link MoquetteSubstitutions}.
 * <ul>
 * <li><b>Reflection, {@link InlineInterceptors}</b>: it reads the private field {@code Server.interceptor} and replaces
 * the private final field {@code BrokerInterceptor.executor}. Both classes' fields are registered. Registering the
 * written field also tells the analysis that it can hold an executor other than Moquette's own thread pool, so calls
 * through it are not bound to that pool's class.</li>
 * <li><b>Reflection, {@link SessionQueues}, {@link SessionLoops}, {@link RetainedStore}</b>: the private fields they read
 * and replace in Moquette's post office (session loops, retained repository, subscription tree and the store under it, read by
 * {@link MoquetteFields#storedSubscriptions} for the cluster), the session registry's sessions repository and expiry
 * queue ({@link SessionExpiries}), session loops
 * (threads and command queues), session registry (pool, queue repository), sessions (queue, in-flight window,
 * subscriptions) and h2 queues ({@link SessionQueuesFields}).</li>
 * <li><b>Reflection, {@link SessionTransfer}</b>: Moquette's session constructor and methods, the registry's
 * {@code remove} and {@code globalExpirySeconds} ({@link SessionTransferMethods}).</li>
 * <li><b>Reflection, {@link FlowControl} and {@link InflightResends}</b>: Moquette's private
 * {@code MQTTConnection.connected} flag, {@code lastPacketId} and its resend method ({@link GateFields}).</li>
 * <li><b>Serialization, the {@code h2} session store</b>: Moquette opens the subscriptions map
 * ({@code String → Subscription}) and the retained-messages map ({@code Topic → RetainedMessage}) without a data type,
 * so MVStore's {@code ObjectDataType} writes and reads them with Java serialization. Registered: those classes and what
 * their serialized fields hold ({@code MqttQoS}, {@code byte[]}; {@code String} needs nothing). Sessions and queued
 * messages use Moquette's own MVStore data types, and String and Long keys are written natively: nothing to register.</li>
 * </ul>
 * Checked and not needed:
 * <ul>
 * <li>Resources: Moquette 0.17's jar holds none and reads class-path resources only for a password file, ACL file or
 * key store named in its configuration; the bridge passes its own authenticator and authorizer instances and
 * configures no TLS. No {@code quarkus.native.resources.includes}.</li>
 * <li>Classes loaded by name: only {@code authenticator_class}, {@code authorizator_class} and {@code intercept.handler}
 * (configuration or system property), which the bridge never sets; no ServiceLoader.</li>
 * <li>Run-time initialization: no static initializer in Moquette, MVStore or commons-codec starts a thread or event loop
 * or keeps a Random (Moquette creates its event loops, session loops and executors in {@code startServer}, at run
 * time; Netty's own classes are handled by Quarkus's Netty extension). H2's {@code FilePath} registers its file
 * systems with {@code Class.forName} in its static initializer, which Quarkus runs at image build time (Quarkus
 * initializes every class at build time unless told otherwise), so no reflection is left for run time. Build-time
 * values baked in: {@code BrokerConstants.DEFAULT_PERSISTENT_PATH} (the build's {@code user.dir}; unused, the bridge
 * sets {@code data_path}) and the debug switches {@code -Dmoquette.session_loop.debug} and {@code -Dmoquette.queue.debug},
 * which are read once at build time in the native executable. No {@code --initialize-at-run-time} flag.</li>
 * </ul>
 */
final class NativeRegistrations {

    private NativeRegistrations() {
    }

    /** The two fields {@link InlineInterceptors} reads and writes. */
    @RegisterForReflection(targets = { Server.class, BrokerInterceptor.class }, fields = true, methods = false)
    static final class InlineInterceptorsFields {
    }

    /**
     * The classes whose private fields {@link SessionQueues} reads and writes: the session loops' command queues, the
     * session registry's queue repository and pool, each session's queue and in-flight window, the h2 queue's indexes.
     */
    static final String[] SESSION_QUEUES_CLASSES = { "io.moquette.broker.PostOffice", "io.moquette.broker.SessionEventLoopGroup",
            "io.moquette.broker.SessionRegistry", "io.moquette.broker.Session", "io.moquette.persistence.H2PersistentQueue",
            "io.moquette.broker.subscriptions.CTrieSubscriptionDirectory" };

    /** See {@link #SESSION_QUEUES_CLASSES} (the annotation needs the names spelled out). */
    @RegisterForReflection(classNames = { "io.moquette.broker.PostOffice", "io.moquette.broker.SessionEventLoopGroup",
            "io.moquette.broker.SessionRegistry", "io.moquette.broker.Session", "io.moquette.persistence.H2PersistentQueue",
            "io.moquette.broker.subscriptions.CTrieSubscriptionDirectory" }, fields = true, methods = false)
    static final class SessionQueuesFields {
    }

    /**
     * {@code MQTTConnection.connected}, {@code lastPacketId} and {@code resendNotAckedPublishes()}: see
     * {@link FlowControl}, {@link InflightResends}.
     */
    @RegisterForReflection(classNames = "io.moquette.broker.MQTTConnection", fields = true, methods = true)
    static final class GateFields {
    }

    /**
     * What {@link SessionTransfer} calls to move persistent sessions between replicas: {@code Session}'s constructor and
     * methods, {@code SessionRegistry.remove} and {@code IQueueRepository.getOrCreateQueue} (its fields are registered
     * above).
     */
    @RegisterForReflection(classNames = { "io.moquette.broker.Session", "io.moquette.broker.SessionRegistry",
            "io.moquette.broker.IQueueRepository" }, fields = false, methods = true)
    static final class SessionTransferMethods {
    }

    /** What MVStore's ObjectDataType serializes for Moquette's h2 store. */
    @RegisterForReflection(targets = { Subscription.class, Topic.class, RetainedMessage.class, MqttQoS.class,
            byte[].class }, serialization = true)
    static final class SessionStoreSerialization {
    }
}
