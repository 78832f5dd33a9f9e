package io.mqttkafkabridge.broker;

import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.moquette.interception.AbstractInterceptHandler;
import io.moquette.interception.messages.InterceptConnectMessage;
import io.moquette.interception.messages.InterceptConnectionLostMessage;
import io.moquette.interception.messages.InterceptDisconnectMessage;
import io.moquette.interception.messages.InterceptSubscribeMessage;
import io.moquette.interception.messages.InterceptUnsubscribeMessage;
import io.mqttkafkabridge.metrics.BridgeLog;

/**
 * Keeps the connected clients and their subscriptions, which Moquette 0.17 cannot list. Called by Moquette on the
 * client's session thread; read by the REST API on any thread.
 */
public final class ClientTracker extends AbstractInterceptHandler {

    private static final Class<?>[] TYPES = {InterceptConnectMessage.class, InterceptDisconnectMessage.class,
            InterceptConnectionLostMessage.class, InterceptSubscribeMessage.class, InterceptUnsubscribeMessage.class};

    private final Map<String, Client> clients = new ConcurrentHashMap<>();
    private final Runnable onConnect;

    /** A connected client. */
    public record Client(String id, String username, Instant connectedSince, Set<String> subscriptions) {
    }

    ClientTracker(Runnable onConnect) {
        this.onConnect = onConnect;
    }

    @Override
    public String getID() {
        return "mqtt-kafka-bridge-clients";
    }

    @Override
    public Class<?>[] getInterceptedMessageTypes() {
        return TYPES;
    }

    @Override
    public void onConnect(InterceptConnectMessage msg) {
        clients.put(msg.getClientID(), new Client(msg.getClientID(), msg.getUsername(), Instant.now(),
                ConcurrentHashMap.newKeySet()));
        onConnect.run();
    }

    @Override
    public void onDisconnect(InterceptDisconnectMessage msg) {
        clients.remove(msg.getClientID());
    }

    @Override
    public void onConnectionLost(InterceptConnectionLostMessage msg) {
        clients.remove(msg.getClientID());
    }

    @Override
    public void onSubscribe(InterceptSubscribeMessage msg) {
        Client client = clients.get(msg.getClientID());
        if (client != null) {
            client.subscriptions().add(msg.getTopicFilter());
        }
    }

    @Override
    public void onUnsubscribe(InterceptUnsubscribeMessage msg) {
        Client client = clients.get(msg.getClientID());
        if (client != null) {
            client.subscriptions().remove(msg.getTopicFilter());
        }
    }

    @Override
    public void onSessionLoopError(Throwable error) {
        BridgeLog.LOG.sessionLoopError(error);
    }

    public Collection<Client> clients() {
        return clients.values();
    }

    public Client client(String id) {
        return clients.get(id);
    }

    public int count() {
        return clients.size();
    }
}
