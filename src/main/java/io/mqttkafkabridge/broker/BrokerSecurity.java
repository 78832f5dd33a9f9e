package io.mqttkafkabridge.broker;

import io.moquette.broker.security.IAuthenticator;
import io.moquette.broker.security.IAuthorizatorPolicy;
import io.moquette.broker.subscriptions.Topic;

/**
 * The authenticator and topic policy handed to Moquette as instances (never by class name: a class that fails to
 * load makes Moquette allow everything). Called on Moquette's Netty and session threads; must never throw.
 * This first version admits every client and topic; password and ACL files plug in here.
 */
final class BrokerSecurity implements IAuthenticator, IAuthorizatorPolicy {

    @Override
    public boolean checkValid(String clientId, String username, byte[] password) {
        return true;
    }

    @Override
    public boolean canWrite(Topic topic, String user, String client) {
        return true;
    }

    @Override
    public boolean canRead(Topic topic, String user, String client) {
        return true;
    }
}
