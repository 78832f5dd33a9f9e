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
    private volatile Listener listener = new Listener() {
    };
    /** The broker's own: persistent sessions' expiry instants in the session store. */
    private volatile SessionExpiries expiries;

    /**
     * Told of connections and subscriptions as Moquette reports them, on the client's session loop: must return at
     * once (hand the work to a thread of its own) and never throw.
     */
    public interface Listener {
        default void connected(String clientId, String username, boolean cleanSession) {
        }

        /** The connection ended (DISCONNECT, lost, taken over); {@code cleanSession}: its subscriptions are gone. */
        default void disconnected(String clientId, boolean cleanSession) {
        }

        default void subscribed(String clientId, String filter, int qos) {
        }

        default void unsubscribed(String clientId, String filter) {
        }
    }

    /** A connected client. */
    public record Client(String id, String username, Instant connectedSince, Set<String> subscriptions, boolean cleanSession) {
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

    private volatile GatedClients gated;
    private volatile java.util.function.Consumer<String> dropUngated = clientId -> {
    };

    /** The gate's connections; a connection that bypassed it is handed to {@code drop} (to be closed), not tracked. */
    void gate(GatedClients gated, java.util.function.Consumer<String> drop) {
        this.gated = gated;
        this.dropUngated = drop;
    }

    @Override
    public void onConnect(InterceptConnectMessage msg) {
        GatedClients gate = gated;
        if (gate != null && !gate.gated(msg.getClientID())) {
            BridgeLog.LOG.ungatedConnection(msg.getClientID());
            dropUngated.accept(msg.getClientID());
            return;
        }
        clients.put(msg.getClientID(), new Client(msg.getClientID(), msg.getUsername(), Instant.now(),
                ConcurrentHashMap.newKeySet(), msg.isCleanSession()));
        onConnect.run();
        SessionExpiries store = expiries;
        if (store != null) {
            store.connected(msg.getClientID(), msg.isCleanSession());
        }
        listener.connected(msg.getClientID(), msg.getUsername(), msg.isCleanSession());
    }

    @Override
    public void onDisconnect(InterceptDisconnectMessage msg) {
        ended(msg.getClientID());
    }

    @Override
    public void onConnectionLost(InterceptConnectionLostMessage msg) {
        ended(msg.getClientID());
    }

    private void ended(String clientId) {
        Client client = clients.remove(clientId);
        if (client != null) {
            SessionExpiries store = expiries;
            if (store != null) {
                store.disconnected(clientId, client.cleanSession());
            }
            listener.disconnected(clientId, client.cleanSession());
        }
    }

    @Override
    public void onSubscribe(InterceptSubscribeMessage msg) {
        Client client = clients.get(msg.getClientID());
        if (client != null) {
            client.subscriptions().add(msg.getTopicFilter());
        }
        listener.subscribed(msg.getClientID(), msg.getTopicFilter(), msg.getRequestedQos().value());
    }

    @Override
    public void onUnsubscribe(InterceptUnsubscribeMessage msg) {
        Client client = clients.get(msg.getClientID());
        if (client != null) {
            client.subscriptions().remove(msg.getTopicFilter());
        }
        listener.unsubscribed(msg.getClientID(), msg.getTopicFilter());
    }

    void expiries(SessionExpiries store) {
        this.expiries = store;
    }

    /** Sets the one listener (the cluster's). */
    public void listen(Listener listener) {
        this.listener = listener;
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
