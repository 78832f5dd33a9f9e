package io.mqttkafkabridge.api;

import java.util.ArrayList;
import java.util.List;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;

import io.mqttkafkabridge.metrics.MeterHistory;

/** The console's charts: the last 15 minutes of the bridge's own meters ({@link MeterHistory}). */
@Path("/api/v1/metrics")
@Produces(MediaType.APPLICATION_JSON)
public class MetricsHistoryResource {

    /**
     * GET /api/v1/metrics/history: one array per series, index by index ({@code t[i]} is the time of
     * {@code messagesIn[i]}, epoch seconds to the millisecond), oldest first, as uPlot draws them. Rates in messages per second over the interval before
     * {@code t}; {@code kafkaSendMillis} the mean Kafka send latency of that interval; {@code journalBacklog} and
     * {@code downlinkLag} the gauges at {@code t}. {@code null}: not measured then.
     */
    public record MetricsHistory(int intervalSeconds, List<Double> t, List<Double> messagesIn, List<Double> messagesToKafka,
            List<Double> messagesToMqtt, List<Double> kafkaSendMillis, List<Double> journalBacklog, List<Double> downlinkLag) {
    }

    private final MeterHistory history;

    MetricsHistoryResource(MeterHistory history) {
        this.history = history;
    }

    @GET
    @Path("/history")
    @Operation(summary = "The last 15 minutes of the bridge's meters, in columns",
            description = "Every 2 s: messagesIn (MQTT publishes accepted from devices), messagesToKafka (uplink records "
                    + "Kafka acknowledged) and messagesToMqtt (downlink records published into the broker) per second; "
                    + "kafkaSendMillis (mean Kafka send latency of the interval); journalBacklog (journal entries not yet "
                    + "in Kafka); downlinkLag (records of the downlink's partitions not yet read). t: epoch seconds (with milliseconds). "
                    + "null: not measured.")
    public MetricsHistory history() {
        List<MeterHistory.Sample> samples = history.samples();
        int n = samples.size();
        List<Double> t = new ArrayList<>(n);
        List<Double> in = new ArrayList<>(n);
        List<Double> toKafka = new ArrayList<>(n);
        List<Double> toMqtt = new ArrayList<>(n);
        List<Double> send = new ArrayList<>(n);
        List<Double> journal = new ArrayList<>(n);
        List<Double> lag = new ArrayList<>(n);
        for (MeterHistory.Sample s : samples) {
            t.add(s.epochMillis() / 1000.0);
            in.add(s.messagesIn());
            toKafka.add(s.messagesToKafka());
            toMqtt.add(s.messagesToMqtt());
            send.add(s.kafkaSendMillis());
            journal.add(s.journalBacklog());
            lag.add(s.downlinkLag());
        }
        return new MetricsHistory(MeterHistory.INTERVAL_SECONDS, t, in, toKafka, toMqtt, send, journal, lag);
    }
}
