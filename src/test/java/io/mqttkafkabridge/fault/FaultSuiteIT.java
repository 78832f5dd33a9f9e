package io.mqttkafkabridge.fault;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LongSummaryStatistics;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * Faults under load, with every part real and separate: a Kafka broker process the test stops and restarts, the
 * packaged bridge as its own process, and MQTT devices publishing QoS 1. Each test prints and asserts published,
 * acknowledged and delivered counts: every message the broker acknowledged must reach Kafka.
 */
class FaultSuiteIT {

    private static double heapMiB(BridgeProcess bridge) throws Exception {
        return bridge.metric("jvm_memory_used_bytes{area=\"heap\"") / (1024 * 1024);
    }

    @Test
    void kafka_stopped_for_60_s_under_load_loses_no_acknowledged_message() throws Exception {
        Path dir = Processes.scratchDir("kafka-outage");
        try (KafkaProcess kafka = new KafkaProcess(dir)) {
            kafka.start();
            try (BridgeProcess bridge = new BridgeProcess(dir, kafka.bootstrapServers(), "fault-outage")) {
                bridge.start();
                DeviceLoad load = new DeviceLoad(bridge.mqttPort(), 20, 1000, 200_000);
                TimeUnit.SECONDS.sleep(10);
                double heapBefore = heapMiB(bridge);

                kafka.stop();
                LongSummaryStatistics heapDuringOutage = new LongSummaryStatistics();
                double journalPeak = 0;
                for (int s = 0; s < 60; s++) {
                    TimeUnit.SECONDS.sleep(1);
                    heapDuringOutage.accept((long) heapMiB(bridge));
                    journalPeak = Math.max(journalPeak, bridge.metric("bridge_journal_entries"));
                }
                kafka.start();
                TimeUnit.SECONDS.sleep(10);
                load.settle();

                Delivery delivery = Delivery.check(kafka.bootstrapServers(), "fault-outage", load.published(), load.acked(),
                        Duration.ofSeconds(90));
                System.out.println(delivery.line("kafka-outage-60s"));
                System.out.printf("FAULT kafka-outage-60s heap MiB (%s): before %.0f, during outage min %d max %d; "
                        + "journal peak %.0f entries%n", BridgeProcess.HEAP, heapBefore, heapDuringOutage.getMin(),
                        heapDuringOutage.getMax(), journalPeak);
                load.close();

                assertThat(delivery.acknowledged()).isGreaterThan(60_000);
                assertThat(journalPeak).as("the outage backlog waited in the journal").isGreaterThan(40_000);
                assertThat(delivery.missing()).as("acknowledged but not in Kafka").isZero();
                assertThat(delivery.orderViolations()).isZero();
                assertThat(heapDuringOutage.getMax()).as("heap stays bounded while the backlog grows on disk")
                        .isLessThan(150);
            }
        }
    }

    @Test
    void sigterm_under_load_drains_and_a_restart_loses_nothing() throws Exception {
        Path dir = Processes.scratchDir("sigterm");
        try (KafkaProcess kafka = new KafkaProcess(dir)) {
            kafka.start();
            try (BridgeProcess bridge = new BridgeProcess(dir, kafka.bootstrapServers(), "fault-sigterm")) {
                bridge.start();
                DeviceLoad load = new DeviceLoad(bridge.mqttPort(), 20, 2000, 200_000);
                TimeUnit.SECONDS.sleep(8);
                Duration exit = bridge.terminate(Duration.ofSeconds(30));
                String log = bridge.log();
                TimeUnit.SECONDS.sleep(2);
                bridge.start();
                TimeUnit.SECONDS.sleep(8);
                load.settle();

                Delivery delivery = Delivery.check(kafka.bootstrapServers(), "fault-sigterm", load.published(), load.acked(),
                        Duration.ofSeconds(60));
                System.out.println(delivery.line("sigterm-restart"));
                System.out.println("FAULT sigterm-restart exited " + exit.toMillis() + " ms after SIGTERM");
                load.close();

                assertThat(log).contains("MKB0002"); // broker stopped first
                assertThat(exit).isLessThan(Duration.ofSeconds(30));
                assertThat(delivery.acknowledged()).isGreaterThan(20_000);
                assertThat(delivery.missing()).as("acknowledged but not in Kafka").isZero();
                assertThat(delivery.orderViolations()).isZero();
            }
        }
    }

    @Test
    void kill_9_under_load_then_restart_sends_everything_in_the_journal() throws Exception {
        Path dir = Processes.scratchDir("kill9");
        try (KafkaProcess kafka = new KafkaProcess(dir)) {
            kafka.start();
            try (BridgeProcess bridge = new BridgeProcess(dir, kafka.bootstrapServers(), "fault-kill9")) {
                bridge.start();
                DeviceLoad load = new DeviceLoad(bridge.mqttPort(), 20, 5000, 400_000);
                TimeUnit.SECONDS.sleep(8);
                bridge.kill();
                Map<String, Set<Long>> journaled = JournalFiles.pending(dir.resolve("data").resolve("journal"));
                TimeUnit.SECONDS.sleep(1);
                bridge.start();
                TimeUnit.SECONDS.sleep(6);
                load.settle();

                Delivery delivery = Delivery.check(kafka.bootstrapServers(), "fault-kill9", load.published(), load.acked(),
                        Duration.ofSeconds(60));
                long journaledMissing = delivery.missingOf(journaled);
                System.out.println(delivery.line("kill-9-restart"));
                System.out.printf("FAULT kill-9-restart       in-journal-at-kill=%d of-those-missing=%d "
                        + "acknowledged-never-journaled=%d%n",
                        journaled.values().stream().mapToLong(Set::size).sum(), journaledMissing, delivery.missing());
                load.close();

                assertThat(delivery.acknowledged()).isGreaterThan(40_000);
                assertThat(journaledMissing).as("in the journal at the kill but not in Kafka after the restart").isZero();
                // the gate journals each PUBLISH before Moquette reads it, so no PUBACK precedes its append
                assertThat(delivery.missing()).as("acknowledged but never journaled").isZero();
            }
        }
    }
}
