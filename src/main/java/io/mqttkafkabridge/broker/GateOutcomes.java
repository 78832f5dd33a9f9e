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
        refuse(ctx, returnCode, 0, outcome, detail);
    }

    /**
     * CONNACK {@code returnCode} to a 3.1/3.1.1 client, {@code reason} (0: the one {@link Mqtt5#reasonForReturnCode}
     * gives) to an MQTT 5 client, then close.
     */
    void refuse(ChannelHandlerContext ctx, int returnCode, int reason, String outcome, String detail) {
        count(outcome);
        GateConnection connection = GateConnection.of(ctx);
        Mqtt5.State mqtt5 = connection == null ? null : connection.mqtt5;
        MqttConnAckMessage connack;
        if (mqtt5 != null) {
            mqtt5.refusal = reason != 0 ? reason : Mqtt5.reasonForReturnCode(returnCode);
            BridgeLog.LOG.connectionRefused(outcome, mqtt5.refusal, detail);
            connack = Mqtt5.refusal(mqtt5.refusal);
        } else {
            BridgeLog.LOG.connectionRefused(outcome, returnCode, detail);
            connack = MqttMessageBuilders.connAck().returnCode(MqttConnectReturnCode.valueOf((byte) returnCode))
                    .sessionPresent(false).build();
        }
        // written from the gate's place in the pipeline: the gate's own write does not see it
        ctx.writeAndFlush(connack).addListener(ChannelFutureListener.CLOSE);
    }

    /** Closes the connection; {@code reason} null: counted, not logged (a flood is logged once per address). */
    void close(ChannelHandlerContext ctx, String outcome, String reason) {
        close(ctx, outcome, reasonCode(outcome), reason);
    }

    /**
     * Closes the connection; an MQTT 5 client past its CONNECT is told why first (DISCONNECT {@code reasonCode}); a
     * 3.1.1 client is closed (its protocol has no server DISCONNECT).
     */
    void close(ChannelHandlerContext ctx, String outcome, int reasonCode, String reason) {
        count(outcome);
        GateConnection connection = GateConnection.of(ctx);
        if (reason != null) {
            BridgeLog.LOG.connectionClosed(connection == null ? "?" : connection.clientId == null ? connection.address
                    : connection.address + " (client " + connection.clientId + ")", reason);
        }
        if (connection != null && connection.mqtt5 != null && connection.connected && ctx.channel().isActive()) {
            Mqtt5.disconnectAndClose(ctx, reasonCode);
        } else {
            ctx.close();
        }
    }

    /** The DISCONNECT reason code an MQTT 5 client gets for a close {@code outcome}. */
    private static int reasonCode(String outcome) {
        return switch (outcome) {
            case "malformed" -> Mqtt5.MALFORMED_PACKET;
            case "protocol-violation" -> Mqtt5.PROTOCOL_ERROR;
            case "slow-reader" -> Mqtt5.SERVER_BUSY;
            default -> Mqtt5.UNSPECIFIED_ERROR;
        };
    }

    void count(String outcome) {
        Counter.builder(BridgeMetrics.MQTT_CONNECTIONS).tag("outcome", outcome).description("MQTT connections, by outcome")
                .register(registry).increment();
    }
}
