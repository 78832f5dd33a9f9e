package io.mqttkafkabridge.fault;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The packaged bridge ({@code target/quarkus-app/quarkus-run.jar}) in its own JVM, configured only by environment
 * variables, as in a container: one uplink route {@code load/+/data -> <topic>} keyed by the device id.
 */
final class BridgeProcess implements AutoCloseable {

    static final String HEAP = "-Xmx160m";
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final Path dir;
    private final Map<String, String> env = new HashMap<>();
    private final int mqttPort = Processes.freePort();
    private final int httpPort = Processes.freePort();
    private int starts;
    private Process process;
    private Path log;

    BridgeProcess(Path dir, String bootstrapServers, String topic) {
        this.dir = dir;
        env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrapServers);
        env.put("BRIDGE_BROKER_HOST", "127.0.0.1");
        env.put("BRIDGE_BROKER_PORT", Integer.toString(mqttPort));
        env.put("BRIDGE_BROKER_WEBSOCKET_PORT", Integer.toString(Processes.freePort()));
        env.put("QUARKUS_HTTP_HOST", "127.0.0.1");
        env.put("QUARKUS_HTTP_PORT", Integer.toString(httpPort));
        env.put("BRIDGE_BROKER_DATA_PATH", dir.resolve("data").toString());
        env.put("BRIDGE_UPLINK_ROUTES_LOAD_MQTT_FILTER", "load/+/data");
        env.put("BRIDGE_UPLINK_ROUTES_LOAD_KAFKA_TOPIC", topic);
        env.put("BRIDGE_UPLINK_ROUTES_LOAD_KEY", "topic-level:1");
        env.put("BRIDGE_SECURITY_ALLOW_ANONYMOUS", "true");
    }

    /** Sets an environment variable for the next start. */
    BridgeProcess env(String name, String value) {
        env.put(name, value);
        return this;
    }

    int mqttPort() {
        return mqttPort;
    }

    void start() throws Exception {
        log = dir.resolve("bridge-" + (++starts) + ".log");
        List<String> command = new ArrayList<>(List.of(Processes.java(), HEAP, "-jar",
                Paths.get("target", "quarkus-app", "quarkus-run.jar").toAbsolutePath().toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(env);
        process = builder.start();
        Processes.awaitLog(process, log, "MKB0001", Duration.ofSeconds(60));
    }

    /** SIGTERM, as Kubernetes sends; returns how long the bridge took to exit. */
    Duration terminate(Duration grace) throws Exception {
        long start = System.nanoTime();
        process.destroy();
        if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor();
            throw new IllegalStateException("the bridge did not exit within " + grace + ":\n" + Processes.tail(log));
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }

    /** kill -9. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    /** The log file of the current (or last) start. */
    Path logFile() {
        return log;
    }

    String log() throws Exception {
        return Processes.tail(log);
    }

    /** The sum of the samples whose series starts with {@code prefix} at /q/metrics. */
    double metric(String prefix) throws Exception {
        String body = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/q/metrics"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
        return body.lines().filter(line -> line.startsWith(prefix))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly().waitFor();
        }
    }
}
