package io.mqttkafkabridge.health;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;

import io.mqttkafkabridge.downlink.DownlinkAssignment;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.health.api.Wellness;

/**
 * DOWN while another consumer shares this replica's downlink consumer group and reads some of its partitions
 * ({@link DownlinkAssignment}, {@code MKB0202}): devices on this replica miss those records. A wellness check, like
 * {@link KafkaHealth}: restarting the pod or taking it out of the Service would not help, a configuration change does.
 */
@Wellness
@ApplicationScoped
public class DownlinkGroupHealth implements HealthCheck {

    private final DownlinkAssignment assignment;

    DownlinkGroupHealth(@Identifier(DownlinkAssignment.NAME) DownlinkAssignment assignment) {
        this.assignment = assignment;
    }

    @Override
    public HealthCheckResponse call() {
        int elsewhere = assignment.elsewhere();
        return HealthCheckResponse.named("downlink-group").status(elsewhere == 0)
                .withData("reason", elsewhere == 0 ? "this replica reads every partition of its downlink topics"
                        : elsewhere + " partitions of the downlink topics go to another member of this replica's consumer "
                                + "group (MKB0202): give every replica a group of its own (bridge.downlink.group-id)")
                .withData("partitionsElsewhere", elsewhere)
                .build();
    }
}
