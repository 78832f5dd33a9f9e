package io.mqttkafkabridge.journal;

import io.mqttkafkabridge.routing.MqttPublication;

/** One journaled publication with its sequence number and the time the bridge received it (epoch ms). */
public record JournalEntry(long seq, long receivedAt, MqttPublication publication) {
}
