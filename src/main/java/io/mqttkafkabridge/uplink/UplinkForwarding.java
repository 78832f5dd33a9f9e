package io.mqttkafkabridge.uplink;

import java.util.List;
import java.util.concurrent.CompletionStage;

import io.mqttkafkabridge.routing.MqttPublication;
import io.mqttkafkabridge.routing.UplinkRecord;

/**
 * Records the uplink sends for a journaled publication besides those of its routes: the cluster's forwarding to other
 * replicas and its retained messages. They are part of the journal entry, so they carry its guarantees (sent after a
 * Kafka outage, a SIGTERM or a kill -9; the entry is done only when they are in Kafka too). Called on the journal
 * reader thread; must not block.
 */
public interface UplinkForwarding {

    /** Completes when {@link #recordsFor} knows the cluster (the reader waits for it before the first entry). */
    CompletionStage<Void> ready();

    /** The extra records of this publication; none when the cluster is off or no other replica wants it. */
    List<UplinkRecord> recordsFor(MqttPublication publication);

    /** Kafka has one of them. Called on the producer's thread. */
    void sent(UplinkRecord record);
}
