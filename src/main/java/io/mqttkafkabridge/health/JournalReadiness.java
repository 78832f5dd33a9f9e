package io.mqttkafkabridge.health;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import io.mqttkafkabridge.uplink.UplinkJournal;

/** Not ready while the uplink journal is full: the bridge refuses publishes then, so take it out of rotation. */
@Readiness
@ApplicationScoped
public class JournalReadiness implements HealthCheck {

    private final UplinkJournal journal;

    JournalReadiness(UplinkJournal journal) {
        this.journal = journal;
    }

    @Override
    public HealthCheckResponse call() {
        boolean full = journal.isFull();
        return HealthCheckResponse.named("uplink-journal")
                .status(!full)
                .withData("reason", full ? "journal full (bridge.journal.max-bytes): publishes are refused until Kafka "
                        + "takes the backlog" : "accepting publishes")
                .withData("pendingEntries", journal.pending())
                .withData("bytes", journal.bytes())
                .withData("maxBytes", journal.maxBytes())
                .build();
    }
}
