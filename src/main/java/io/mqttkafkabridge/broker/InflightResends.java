package io.mqttkafkabridge.broker;

import static io.mqttkafkabridge.broker.MoquetteFields.field;

import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.moquette.broker.SessionRegistry;
import io.netty.channel.Channel;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.util.AttributeKey;

/**
 * When a session's unacknowledged messages are sent again, and on which thread. Moquette 0.17 resends them from a
 * 5 s timer on the connection's Netty event loop, reading the in-flight window the session loop changes meanwhile;
 * MQTT-4.4.0-1 (and Mosquitto) resend at once when a persistent session reconnects. Both resends here run on the
 * session's loop ({@link SessionLoops#run}), called by {@link MqttGate}.
 */
final class InflightResends {

    /** Moquette 0.17 keeps its {@code MQTTConnection} on the channel under this attribute. */
    private static final AttributeKey<Object> MOQUETTE_CONNECTION = AttributeKey.valueOf("connection");
    private static final Field LAST_PACKET_ID;
    private static final Method RESEND_NOT_ACKED;
    static {
        try {
            Class<?> connection = Class.forName("io.moquette.broker.MQTTConnection");
            LAST_PACKET_ID = field(connection, "lastPacketId");
            RESEND_NOT_ACKED = connection.getDeclaredMethod("resendNotAckedPublishes");
            RESEND_NOT_ACKED.setAccessible(true);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("not Moquette 0.17's MQTTConnection: " + e, e);
        }
    }

    private final SessionLoops loops;
    private final Map<String, Object> sessions;

    InflightResends(SessionLoops loops, Map<String, Object> sessions) {
        this.loops = loops;
        this.sessions = sessions;
    }

    /**
     * Sends a reconnected persistent session's unacknowledged messages again at once, with DUP=1 and their packet ids
     * (PUBREL for QoS 2 messages the client has PUBREC'd). The new connection's packet ids then continue above the
     * ones in flight, so that a new message does not reuse one. Queued on the session's loop right behind Moquette's
     * CONNECT command (which bound the session to {@code channel}, the new connection, and wrote the CONNACK), so it
     * runs before anything the new connection sends: the window holds only what the old connection left unacknowledged.
     */
    void onReconnect(String clientId, Channel channel) {
        loops.run(clientId, () -> {
            Object session = sessions.get(clientId);
            Object connection = channel.attr(MOQUETTE_CONNECTION).get();
            if (session == null || connection == null || !channel.isActive()) {
                return;
            }
            try {
                @SuppressWarnings("unchecked")
                Map<Integer, SessionRegistry.EnqueuedMessage> window =
                        (Map<Integer, SessionRegistry.EnqueuedMessage>) SessionQueues.INFLIGHT_WINDOW.get(session);
                if (window.isEmpty()) {
                    return;
                }
                int highest = window.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
                ((AtomicInteger) LAST_PACKET_ID.get(connection)).accumulateAndGet(highest, Math::max);
                for (var entry : new TreeMap<>(window).entrySet()) {
                    if (entry.getValue() instanceof SessionRegistry.PublishedMessage message) {
                        channel.write(new MqttPublishMessage(new MqttFixedHeader(MqttMessageType.PUBLISH, true,
                                message.getPublishingQos(), false, 0), new MqttPublishVariableHeader(
                                message.getTopic().toString(), entry.getKey()), message.getPayload().retainedDuplicate()));
                    } else if (entry.getValue() instanceof SessionRegistry.PubRelMarker) {
                        channel.write(PublishPath.ack(MqttMessageType.PUBREL, entry.getKey()));
                    }
                }
                channel.flush();
            } catch (IllegalAccessException e) {
                // accessible since class initialization: cannot happen; Moquette's timer resends them
            }
        });
    }

    /**
     * Moquette's 5 s resend timer fired for {@code channel} ({@code MQTTConnection.resendNotAckedPublishes}): run on
     * the session's loop, where the in-flight window it reads is changed, rather than on the event loop. On the event
     * loop, a message acknowledged meanwhile was sent after its release (IllegalReferenceCountException, found by
     * ProtocolFuzzIT).
     */
    void onTimer(String clientId, Channel channel) {
        loops.run(clientId, () -> {
            Object connection = channel.attr(MOQUETTE_CONNECTION).get();
            if (connection == null || !channel.isActive()) {
                return;
            }
            try {
                RESEND_NOT_ACKED.invoke(connection);
            } catch (IllegalAccessException e) {
                // accessible since class initialization: cannot happen
            } catch (InvocationTargetException e) {
                throw new IllegalStateException("Moquette's resend of unacknowledged messages failed", e.getCause());
            }
        });
    }
}
