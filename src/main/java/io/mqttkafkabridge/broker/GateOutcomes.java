package io.mqttkafkabridge.broker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.metrics.BridgeMetrics;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;

/**
 * How the gate ends a connection it will not serve: refused with a CONNACK return code, or closed, each counted in
 * {@code mqtt_connections_total{outcome}} and logged once (MKB0010, MKB0011).
 */
final class GateOutcomes {

    private final MeterRegistry registry;

    GateOutcomes(MeterRegistry registry) {
        this.registry = registry;
    }

    /** CONNACK {@code returnCode}, then close. */
    void refuse(ChannelHandlerContext ctx, int returnCode, String outcome, String detail) {
        count(outcome);
        BridgeLog.LOG.connectionRefused(outcome, returnCode, detail);
        MqttConnAckMessage connack = MqttMessageBuilders.connAck().returnCode(MqttConnectReturnCode.valueOf((byte) returnCode))
                .sessionPresent(false).build();
        ctx.writeAndFlush(connack).addListener(ChannelFutureListener.CLOSE);
    }

    /** Closes the connection; {@code reason} null: counted, not logged (a flood is logged once per address). */
    void close(ChannelHandlerContext ctx, String outcome, String reason) {
        count(outcome);
        if (reason != null) {
            GateConnection connection = GateConnection.of(ctx);
            BridgeLog.LOG.connectionClosed(connection == null ? "?" : connection.clientId == null ? connection.address
                    : connection.address + " (client " + connection.clientId + ")", reason);
        }
        ctx.close();
    }

    void count(String outcome) {
        Counter.builder(BridgeMetrics.MQTT_CONNECTIONS).tag("outcome", outcome).description("MQTT connections, by outcome")
                .register(registry).increment();
    }
}
