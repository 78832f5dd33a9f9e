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
 * variables, as in a container: one uplink route {@code load/+/data -> <topic>} keyed by the device id. Launched as
 * the README says, with the class-data archive the package phase wrote, when there is one.
 */
public final class BridgeProcess implements AutoCloseable {

    public static final String HEAP = "-Xmx160m";
    /** In {@code target/quarkus-app}, written by {@code build/AppCdsTraining} in the package phase. */
    public static final String APP_CDS_ARCHIVE = "app-cds.jsa";
    private static final Path APP = Paths.get("target", "quarkus-app").toAbsolutePath();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final Path dir;
    private final Map<String, String> env = new HashMap<>();
    private final int mqttPort = Processes.freePort();
    private final int httpPort = Processes.freePort();
    private List<String> jvmOptions = List.of(HEAP);
    private boolean classDataArchive = true;
    private int starts;
    private Process process;
    private Path log;

    public BridgeProcess(Path dir, String bootstrapServers, String topic) {
        this.dir = dir;
        env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrapServers);
        env.put("BRIDGE_BROKER_HOST", "127.0.0.1");
        env.put("BRIDGE_BROKER_PORT", Integer.toString(mqttPort));
        env.put("BRIDGE_BROKER_WEBSOCKET_PORT", Integer.toString(Processes.freePort()));
        env.put("QUARKUS_HTTP_HOST", "127.0.0.1");
        env.put("QUARKUS_HTTP_PORT", Integer.toString(httpPort));
        env.put("BRIDGE_BROKER_DATA_PATH", dir.resolve("data").toAbsolutePath().toString());
        env.put("BRIDGE_UPLINK_ROUTES_LOAD_MQTT_FILTER", "load/+/data");
        env.put("BRIDGE_UPLINK_ROUTES_LOAD_KAFKA_TOPIC", topic);
        env.put("BRIDGE_UPLINK_ROUTES_LOAD_KEY", "topic-level:1");
        env.put("BRIDGE_SECURITY_ALLOW_ANONYMOUS", "true");
    }

    /** Sets an environment variable for the next start. */
    public BridgeProcess env(String name, String value) {
        env.put(name, value);
        return this;
    }

    /** Removes an environment variable (one the constructor or {@link #env} set) for the next start. */
    public BridgeProcess withoutEnv(String name) {
        env.remove(name);
        return this;
    }

    /** JVM options for the next start, instead of {@value #HEAP}. */
    public BridgeProcess jvmOptions(String... options) {
        jvmOptions = List.of(options);
        return this;
    }

    /** Whether the next start maps {@value #APP_CDS_ARCHIVE} (when the package phase wrote one); by default it does. */
    public BridgeProcess classDataArchive(boolean use) {
        classDataArchive = use;
        return this;
    }

    public int httpPort() {
        return httpPort;
    }

    /** The operating system's process id of the running bridge. */
    public long pid() {
        return process.pid();
    }

    /**
     * Starts the bridge and returns how long it took from launching the JVM until {@code /q/health/ready} answered
     * 200, polled every 5 ms.
     */
    public Duration startUntilReady() throws Exception {
        long launched = System.nanoTime();
        launch();
        return awaitReady(launched);
    }

    /** Waits until {@code /q/health/ready} answers 200 (the MQTT listener, MKB0001, comes a moment before HTTP). */
    public void awaitReady() throws Exception {
        awaitReady(System.nanoTime());
    }

    private Duration awaitReady(long launched) throws Exception {
        URI ready = URI.create("http://127.0.0.1:" + httpPort + "/q/health/ready");
        long deadline = launched + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            try {
                if (HTTP.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(1)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return Duration.ofNanos(System.nanoTime() - launched);
                }
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("the bridge exited while starting:\n" + Processes.tail(log));
            }
            TimeUnit.MILLISECONDS.sleep(5);
        }
        throw new IllegalStateException("the bridge was not ready within 60 s:\n" + Processes.tail(log));
    }

    public int mqttPort() {
        return mqttPort;
    }

    public void start() throws Exception {
        launch();
        Processes.awaitLog(process, log, "MKB0001", Duration.ofSeconds(60));
    }

    /** Starts the bridge and returns at once, for a test that waits for something else than MKB0001 or readiness. */
    public void launch() throws java.io.IOException {
        log = dir.resolve("bridge-" + (++starts) + ".log");
        List<String> command = new ArrayList<>();
        command.add(Processes.java());
        command.addAll(jvmOptions);
        if (classDataArchive && java.nio.file.Files.exists(APP.resolve(APP_CDS_ARCHIVE))) {
            command.add("-XX:SharedArchiveFile=" + APP.resolve(APP_CDS_ARCHIVE));
        }
        command.addAll(List.of("-jar", APP.resolve("quarkus-run.jar").toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(env);
        process = builder.start();
    }

    /** SIGTERM, as Kubernetes sends; returns how long the bridge took to exit. */
    public Duration terminate(Duration grace) throws Exception {
        long start = System.nanoTime();
        process.destroy();
        if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor();
            throw new IllegalStateException("the bridge did not exit within " + grace + ":\n" + Processes.tail(log));
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }

    /** The running (or last) bridge process. */
    public Process process() {
        return process;
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    public int exitValue() {
        return process.exitValue();
    }

    /** kill -9. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    /** The log file of the current (or last) start. */
    public Path logFile() {
        return log;
    }

    /** The whole log of the current (or last) run, for assertions on what it says. */
    public String log() throws Exception {
        return java.nio.file.Files.exists(log) ? java.nio.file.Files.readString(log) : "(no log)";
    }

    /** The end of the log (4,000 characters), for failure messages. */
    public String logTail() throws Exception {
        return Processes.tail(log);
    }

    /** GET {@code path} on the bridge's HTTP port (health, metrics), within 5 s. */
    public HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The lines of /q/metrics whose series starts with {@code prefix} (name, labels and value). */
    public List<String> metricSeries(String prefix) throws Exception {
        return get("/q/metrics").body().lines().filter(line -> line.startsWith(prefix)).toList();
    }

    /** The sum of the samples whose series starts with {@code prefix} at /q/metrics. */
    public double metric(String prefix) throws Exception {
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
