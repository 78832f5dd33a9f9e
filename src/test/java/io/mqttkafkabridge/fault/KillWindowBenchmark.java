package io.mqttkafkabridge.fault;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The kill -9 window: is anything acknowledged (PUBACK) that a kill -9 then loses? The gate appends each PUBLISH to
 * the journal before Moquette can acknowledge it, so nothing should be. Twenty times: 20 devices publish QoS 1 at
 * 5,000 msg/s to the packaged bridge, kill -9 after 6 s, restart, count acknowledged messages missing from Kafka.
 * Run after {@code ./mvnw package}: {@code ./mvnw -q exec:java@kill-window} (an argument sets the number of runs).
 */
public final class KillWindowBenchmark {

    private KillWindowBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        Path dir = Processes.scratchDir("kill-window");
        List<Long> missing = new ArrayList<>();
        List<Long> acknowledged = new ArrayList<>();
        try (KafkaProcess kafka = new KafkaProcess(dir)) {
            kafka.start();
            for (int run = 1; run <= runs; run++) {
                String topic = "kill-window-" + run;
                Path runDir = Files.createDirectories(dir.resolve("run-" + run));
                try (BridgeProcess bridge = new BridgeProcess(runDir, kafka.bootstrapServers(), topic)) {
                    bridge.start();
                    DeviceLoad load = new DeviceLoad(bridge.mqttPort(), 20, 5000, 200_000);
                    TimeUnit.SECONDS.sleep(6);
                    bridge.kill();
                    load.stop();
                    TimeUnit.MILLISECONDS.sleep(500);
                    bridge.start();
                    Delivery delivery = Delivery.check(kafka.bootstrapServers(), topic, load.published(), load.acked(),
                            Duration.ofSeconds(30));
                    System.out.println(delivery.line("kill-9 run " + run));
                    missing.add(delivery.missing());
                    acknowledged.add(delivery.acknowledged());
                    load.close();
                }
            }
        }
        System.out.println("acknowledged per run: " + acknowledged);
        System.out.println("acknowledged but missing after kill -9, per run: " + missing);
        System.out.println("runs with loss: " + missing.stream().filter(m -> m > 0).count() + " of " + runs
                + ", most lost in one run: " + missing.stream().mapToLong(Long::longValue).max().orElse(0)
                + ", total lost: " + missing.stream().mapToLong(Long::longValue).sum());
    }
}
