package io.mqttkafkabridge.build;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

import io.mqttkafkabridge.fault.BridgeProcess;
import io.mqttkafkabridge.fault.Processes;

/**
 * Writes {@code target/quarkus-app/app-cds.jsa}, an Application Class Data Sharing archive of every class the bridge
 * loads from launch to ready, in the {@code package} phase: a training run of the packaged bridge (production
 * profile, h2 store, the Kafka producer and consumer trying to connect) with {@code -XX:ArchiveClassesAtExit},
 * asked for readiness, liveness and metrics, then stopped with SIGTERM. The JVM maps the archive instead of loading
 * and verifying those classes again: start → ready falls by about a fifth (README, Benchmarks). It is valid for the
 * JDK that wrote it and these exact jars at this path (the training run names the jar by its absolute path, so the
 * bridge may be started from any directory); otherwise the JVM ignores it and starts as without.
 */
public final class AppCdsTraining {

    private AppCdsTraining() {
    }

    public static void main(String[] args) throws Exception {
        Path app = Path.of("target", "quarkus-app").toAbsolutePath();
        Path archive = app.resolve(BridgeProcess.APP_CDS_ARCHIVE);
        Files.deleteIfExists(archive);
        long started = System.nanoTime();
        // no Kafka: nothing listens on that port; the clients' connection attempts load their classes all the same
        BridgeProcess bridge = new BridgeProcess(Processes.scratchDir("app-cds"), "127.0.0.1:" + Processes.freePort(), "training")
                .jvmOptions(BridgeProcess.HEAP, "-XX:ArchiveClassesAtExit=" + archive);
        try {
            bridge.startUntilReady();
            HttpClient http = HttpClient.newHttpClient();
            for (String path : new String[] {"/q/health/ready", "/q/health/live", "/q/health", "/q/metrics"}) {
                http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + bridge.httpPort() + path))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding());
            }
        } finally {
            bridge.terminate(Duration.ofSeconds(60)); // the JVM writes the archive as it exits
        }
        if (!Files.exists(archive)) {
            throw new IllegalStateException("the training run wrote no " + archive + ":\n" + Processes.tail(bridge.logFile()));
        }
        System.out.printf(Locale.ROOT, "[app-cds] %s: %.1f MiB, training run %.1f s%n", archive, Files.size(archive) / 1048576.0,
                (System.nanoTime() - started) / 1e9);
    }
}
