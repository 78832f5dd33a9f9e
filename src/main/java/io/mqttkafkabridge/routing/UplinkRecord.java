package io.mqttkafkabridge.routing;

import java.util.List;

/**
 * What one uplink route makes of one publication: the Kafka record to send, without any Kafka types.
 *
 * @param timestamp epoch milliseconds; null: the producer's clock when it is sent
 */
public record UplinkRecord(UplinkRoute route, String kafkaTopic, String key, List<Header> headers, byte[] value, Long timestamp) {

    /** A Kafka record header. */
    public record Header(String name, byte[] value) {
    }
}
