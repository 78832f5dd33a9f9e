package io.mqttkafkabridge.broker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.moquette.broker.security.IAuthenticator;
import io.moquette.broker.security.IAuthorizatorPolicy;
import io.moquette.broker.subscriptions.Topic;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.metrics.BridgeMetrics;
import io.mqttkafkabridge.security.MqttAccess;

/**
 * The authenticator and topic policy handed to Moquette as instances (never by class name: a class that fails to
 * load makes Moquette allow everything). Called on Moquette's Netty and session threads; must never throw (an
 * exception there kills a session loop).
 * <ul>
 * <li>{@link #checkValid}: the password file ({@link MqttAccess}). {@link MqttGate} has normally answered the
 * CONNECT already, with the precise CONNACK; this is the second line.</li>
 * <li>{@link #canRead}: SUBSCRIBE, once per filter; false gives SUBACK 0x80 for that filter: a filter deeper than
 * {@code bridge.broker.max-topic-levels}, or one that can match no topic the client may read. Each message is checked
 * again at delivery ({@link DeliveryFilter}).</li>
 * <li>{@link #canWrite}: PUBLISH. Topics the policy denies are dropped by the gate before this ({@link PublishPath},
 * which also journals the publish and refuses it while the journal is full); here they are refused too.</li>
 * </ul>
 */
final class BrokerSecurity implements IAuthenticator, IAuthorizatorPolicy {

    private final MqttAccess access;
    private final int maxTopicLevels;
    private final Counter subscribeDenied;

    private final GatedClients gated;

    BrokerSecurity(MqttAccess access, int maxTopicLevels, MeterRegistry registry, GatedClients gated) {
        this.gated = gated;
        this.access = access;
        this.maxTopicLevels = maxTopicLevels;
        this.subscribeDenied = Counter.builder(BridgeMetrics.MQTT_SUBSCRIBE_DENIED)
                .description("SUBSCRIBE filters refused by the topic policy (SUBACK 0x80)").register(registry);
    }

    @Override
    public boolean checkValid(String clientId, String username, byte[] password) {
        try {
            return username != null && username.equals(Admission.certificateUser())
                    || access.login(username, password) == MqttAccess.Login.ACCEPTED;
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public boolean canWrite(Topic topic, String user, String client) {
        try {
            // a connection that bypassed the gate (accepted during start-up) would not be journaled: no PUBACK
            return gated.gated(client) && topic.isValid() && access.publishDenial(topic.toString(), user, client).isEmpty();
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public boolean canRead(Topic topic, String user, String client) {
        try {
            if (!gated.gated(client)) {
                return false; // accepted before the gate was installed: closed, it reconnects through the gate
            }
            if (topic.isValid() && (maxTopicLevels <= 0 || topic.getTokens().size() <= maxTopicLevels)
                    && access.maySubscribe(topic.toString(), user, client)) {
                return true;
            }
            subscribeDenied.increment();
            BridgeLog.LOG.subscribeDenied(client, String.valueOf(user), topic.toString());
            return false;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
