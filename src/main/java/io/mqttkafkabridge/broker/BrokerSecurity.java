package io.mqttkafkabridge.broker;

import java.util.function.BooleanSupplier;

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
 * <li>{@link #canRead}: SUBSCRIBE, once per filter; false gives SUBACK 0x80 for that filter. Moquette checks
 * subscriptions only (not each delivery), so the decision covers the whole filter.</li>
 * <li>{@link #canWrite}: PUBLISH. Topics the policy denies are normally dropped by the gate before this; here they are
 * refused too. Publishing is also refused while the uplink journal is full: Moquette then sends no PUBACK, so the
 * device keeps the message and sends it again.</li>
 * </ul>
 */
final class BrokerSecurity implements IAuthenticator, IAuthorizatorPolicy {

    private final BooleanSupplier acceptingPublishes;
    private final MqttAccess access;
    private final Counter subscribeDenied;

    BrokerSecurity(BooleanSupplier acceptingPublishes, MqttAccess access, MeterRegistry registry) {
        this.acceptingPublishes = acceptingPublishes;
        this.access = access;
        this.subscribeDenied = Counter.builder(BridgeMetrics.MQTT_SUBSCRIBE_DENIED)
                .description("SUBSCRIBE filters refused by the topic policy (SUBACK 0x80)").register(registry);
    }

    @Override
    public boolean checkValid(String clientId, String username, byte[] password) {
        try {
            return username != null && username.equals(MqttGate.certificateUser())
                    || access.login(username, password) == MqttAccess.Login.ACCEPTED;
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public boolean canWrite(Topic topic, String user, String client) {
        try {
            return topic.isValid() && access.publishDenial(topic.toString(), user, client).isEmpty()
                    && acceptingPublishes.getAsBoolean();
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public boolean canRead(Topic topic, String user, String client) {
        try {
            if (topic.isValid() && access.maySubscribe(topic.toString(), user, client)) {
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
