package io.mqttkafkabridge.broker;

import static io.mqttkafkabridge.broker.MoquetteFields.field;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;

import io.moquette.broker.IRetainedRepository;
import io.moquette.broker.RetainedMessage;
import io.moquette.broker.Server;
import io.moquette.broker.subscriptions.Topic;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.handler.codec.mqtt.MqttQoS;

/**
 * The broker's retained messages, kept as Mosquitto keeps them. Moquette 0.17 stores a retained publish only at QoS
 * 1/2 (a QoS 0 one clears the topic instead) and sends retained messages to new subscriptions with RETAIN=0. This
 * store takes the place of Moquette's retained repository (the h2 or in-memory one stays underneath, so retained
 * messages still survive a restart with {@code persistence=h2}):
 * <ul>
 * <li>writes come only from the bridge: {@link PublishPath} for device publishes ({@link #keep}, {@link #clear}, at
 * any QoS, once the publish is journaled) and {@link EmbeddedBroker#publish} for the downlink and the REST API;
 * Moquette's own calls to {@code retain} and {@code cleanRetained} are ignored;</li>
 * <li>Moquette reads it when a subscription is made; each payload it hands out is a fresh array remembered here, so
 * that {@link DeliveryFilter} recognises those deliveries on the wire and sets RETAIN=1 (MQTT-3.3.1-8).</li>
 * </ul>
 * Thread-safe: written on Netty event loops, read on Moquette's session loops.
 */
final class RetainedStore implements IRetainedRepository {

    private final IRetainedRepository stored;
    /** Payload arrays handed to Moquette for a retained delivery, by identity, until the delivery is written. */
    private final Set<byte[]> handedOut = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));
    private volatile boolean anyHandedOut;

    private RetainedStore(IRetainedRepository stored) {
        this.stored = stored;
    }

    /** Replaces the retained repository of a started broker's post office. */
    static RetainedStore install(Server moquette) {
        try {
            Object postOffice = MoquetteFields.postOffice(moquette);
            Field repository = field(postOffice.getClass(), "retainedRepository");
            IRetainedRepository current = (IRetainedRepository) repository.get(postOffice);
            if (current instanceof RetainedStore store) {
                return store;
            }
            RetainedStore store = new RetainedStore(current);
            repository.set(postOffice, store);
            return store;
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalStateException("cannot take over Moquette's retained messages (a Moquette version other than 0.17?): " + e, e);
        }
    }

    /** Retains {@code payload} (not empty) for {@code topic}, replacing what was retained there. */
    void keep(String topic, int qos, byte[] payload) {
        MqttPublishMessage message = new MqttPublishMessage(new MqttFixedHeader(MqttMessageType.PUBLISH, false,
                MqttQoS.valueOf(qos), true, 0), new MqttPublishVariableHeader(topic, 0), Unpooled.wrappedBuffer(payload));
        stored.retain(new Topic(topic), message);
    }

    /** Retains {@code payload} for {@code topic}, or, when it is empty, removes what is retained there (MQTT-3.3.1-10). */
    void set(String topic, int qos, byte[] payload) {
        if (payload.length == 0) {
            clear(topic);
        } else {
            keep(topic, qos, payload);
        }
    }

    /** Removes what is retained for {@code topic} (a retained publish with an empty payload, MQTT-3.3.1-10). */
    void clear(String topic) {
        stored.cleanRetained(new Topic(topic));
    }

    /**
     * True, once, when {@code payload} is the payload of a retained message handed to Moquette for a new
     * subscription: the PUBLISH that carries it must have RETAIN=1.
     */
    boolean isRetainedDelivery(ByteBuf payload) {
        if (!anyHandedOut || payload.refCnt() == 0 || !payload.hasArray()) {
            return false;
        }
        boolean retained = handedOut.remove(payload.array());
        if (retained) {
            anyHandedOut = !handedOut.isEmpty();
        }
        return retained;
    }

    @Override
    public void cleanRetained(Topic topic) {
        // Moquette's own call for a QoS 0 or empty retained publish: the bridge decided already (PublishPath)
    }

    @Override
    public void retain(Topic topic, MqttPublishMessage msg) {
        // Moquette's own call for a QoS 1/2 retained publish: the bridge stored it already (PublishPath)
    }

    @Override
    public boolean isEmpty() {
        return stored.isEmpty();
    }

    @Override
    public List<RetainedMessage> retainedOnTopic(String filter) {
        List<RetainedMessage> matching = stored.retainedOnTopic(filter);
        if (matching.isEmpty()) {
            return matching;
        }
        List<RetainedMessage> copies = new ArrayList<>(matching.size());
        for (RetainedMessage message : matching) {
            byte[] payload = message.getPayload().clone();
            handedOut.add(payload);
            copies.add(new RetainedMessage(message.getTopic(), message.qosLevel(), payload));
        }
        anyHandedOut = true;
        return copies;
    }
}
