package io.mqttkafkabridge.broker;

import java.util.function.Consumer;

import io.moquette.interception.AbstractInterceptHandler;
import io.moquette.interception.messages.InterceptPublishMessage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.metrics.BridgeMetrics;
import io.mqttkafkabridge.routing.MqttPublication;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

/**
 * Copies every PUBLISH that devices send into an {@link MqttPublication} and hands it to the uplink. Moquette calls
 * {@link #onPublish} right after it queued the PUBACK, on the session-loop thread of the publishing client (see
 * {@link InlineInterceptors}), so each client's publishes arrive in order. Messages the bridge injects with
 * {@code internalPublish} never come here.
 */
final class UplinkInterceptor extends AbstractInterceptHandler {

    private static final Class<?>[] TYPES = {InterceptPublishMessage.class};

    private final Consumer<MqttPublication> uplink;
    private final Counter[] received = new Counter[3];

    UplinkInterceptor(Consumer<MqttPublication> uplink, MeterRegistry registry) {
        this.uplink = uplink;
        for (int qos = 0; qos < received.length; qos++) {
            received[qos] = Counter.builder(BridgeMetrics.MQTT_MESSAGES_RECEIVED).tag("qos", Integer.toString(qos))
                    .description("PUBLISH packets devices sent that the broker accepted").register(registry);
        }
    }

    @Override
    public String getID() {
        return "mqtt-kafka-bridge-uplink";
    }

    @Override
    public Class<?>[] getInterceptedMessageTypes() {
        return TYPES;
    }

    @Override
    public void onPublish(InterceptPublishMessage msg) {
        try {
            received[Math.min(2, Math.max(0, msg.getQos().value()))].increment();
            ByteBuf payload = msg.getPayload();
            byte[] bytes = ByteBufUtil.getBytes(payload, payload.readerIndex(), payload.readableBytes(), false);
            uplink.accept(new MqttPublication(msg.getTopicName(), bytes, msg.getQos().value(), msg.isRetainFlag(),
                    msg.getClientID(), msg.getUsername()));
        } catch (RuntimeException e) {
            BridgeLog.LOG.uplinkQueueFailed(msg.getTopicName(), e.toString());
        } finally {
            super.onPublish(msg); // releases the retained payload
        }
    }

    @Override
    public void onSessionLoopError(Throwable error) {
        BridgeLog.LOG.sessionLoopError(error);
    }
}
