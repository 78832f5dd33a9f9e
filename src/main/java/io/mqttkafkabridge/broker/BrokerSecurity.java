package io.mqttkafkabridge.broker;

import java.util.function.BooleanSupplier;

import io.moquette.broker.security.IAuthenticator;
import io.moquette.broker.security.IAuthorizatorPolicy;
import io.moquette.broker.subscriptions.Topic;

/**
 * The authenticator and topic policy handed to Moquette as instances (never by class name: a class that fails to
 * load makes Moquette allow everything). Called on Moquette's Netty and session threads; must never throw.
 * This version admits every client; password and ACL files plug in here. Publishing is refused while the uplink
 * journal is full: Moquette then sends no PUBACK, so the device keeps the message and sends it again.
 */
final class BrokerSecurity implements IAuthenticator, IAuthorizatorPolicy {

    private final BooleanSupplier acceptingPublishes;

    BrokerSecurity(BooleanSupplier acceptingPublishes) {
        this.acceptingPublishes = acceptingPublishes;
    }

    @Override
    public boolean checkValid(String clientId, String username, byte[] password) {
        return true;
    }

    @Override
    public boolean canWrite(Topic topic, String user, String client) {
        try {
            return acceptingPublishes.getAsBoolean();
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public boolean canRead(Topic topic, String user, String client) {
        return true;
    }
}
