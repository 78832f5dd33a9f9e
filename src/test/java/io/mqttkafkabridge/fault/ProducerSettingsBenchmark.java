package io.mqttkafkabridge.fault;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Uplink throughput of the packaged bridge under the producer settings we considered (linger.ms, compression.type),
 * with acks=all and idempotence in every row: 40 devices offer 80,000 QoS 1 msg/s (more than two cores carry) for 20 s; the table shows what
 * Kafka acknowledged per second and what the devices got PUBACKs for. Bounded (about 2 minutes). Run after
 * {@code ./mvnw package}: {@code ./mvnw -q exec:java@producer-bench}.
 */
public final class ProducerSettingsBenchmark {

    static final int OFFERED = 80_000;

    private ProducerSettingsBenchmark() {
    }

    record Setting(String linger, String compression) {
    }

    public static void main(String[] args) throws Exception {
        List<Setting> settings = List.of(new Setting("0", "none"), new Setting("5", "none"), new Setting("5", "lz4"),
                new Setting("20", "lz4"), new Setting("5", "zstd"));
        Path dir = Processes.scratchDir("producer-bench");
        int seconds = 20;
        StringBuilder table = new StringBuilder("| linger.ms | compression | Kafka-acknowledged msg/s | PUBACKed msg/s |\n| ---: | --- | ---: | ---: |\n");
        try (KafkaProcess kafka = new KafkaProcess(dir)) {
            kafka.start();
            int run = 0;
            for (Setting setting : settings) {
                run++;
                try (BridgeProcess bridge = new BridgeProcess(Files.createDirectories(dir.resolve("run-" + run)),
                        kafka.bootstrapServers(), "producer-bench-" + run)
                        .env("MP_MESSAGING_OUTGOING_UPLINK_LINGER_MS", setting.linger())
                        .env("MP_MESSAGING_OUTGOING_UPLINK_COMPRESSION_TYPE", setting.compression())) {
                    bridge.start();
                    DeviceLoad warmup = new DeviceLoad(bridge.mqttPort(), 40, OFFERED, 4L * OFFERED);
                    TimeUnit.SECONDS.sleep(4);
                    warmup.close();
                    double sentBefore = bridge.metric("bridge_uplink_messages_total{outcome=\"sent\"");
                    DeviceLoad load = new DeviceLoad(bridge.mqttPort(), 40, OFFERED, (long) OFFERED * seconds);
                    TimeUnit.SECONDS.sleep(seconds);
                    double sent = bridge.metric("bridge_uplink_messages_total{outcome=\"sent\"") - sentBefore;
                    long acked = load.acknowledged();
                    load.close();
                    String row = String.format(Locale.ROOT, "| %s | %s | %,.0f | %,.0f |%n", setting.linger(),
                            setting.compression(), sent / seconds, (double) acked / seconds);
                    System.out.print("PRODUCER " + row);
                    table.append(row);
                }
            }
        }
        System.out.println();
        System.out.print(table);
    }
}
