package io.mqttkafkabridge.fault;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A real Kafka broker in its own JVM that a test can stop and start again on the same port and data. */
public final class KafkaProcess implements AutoCloseable {

    /**
     * The JVM options Kafka's own {@code kafka-server-start.sh} gives a broker (KAFKA_HEAP_OPTS and
     * KAFKA_JVM_PERFORMANCE_OPTS): G1 with a 20 ms pause goal. With a plain {@code -Xmx512m} the broker's young
     * collections took 10-15 ms every few seconds, which the latency benchmark measured as ours.
     */
    static final List<String> KAFKA_JVM_OPTIONS = List.of("-Xmx1G", "-Xms1G", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
            "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent");

    private final Path dir;
    private final int port;
    private final String main;
    private final List<String> arguments;
    private int starts;
    private Process process;

    /** A PLAINTEXT broker ({@link LocalKafkaMain}). */
    public KafkaProcess(Path dir) {
        this.dir = dir;
        this.port = Processes.freePort();
        this.main = LocalKafkaMain.class.getName();
        this.arguments = List.of(dir.resolve("data").toString(), Integer.toString(port));
    }

    private KafkaProcess(Path dir, int port, String main, List<String> arguments) {
        this.dir = dir;
        this.port = port;
        this.main = main;
        this.arguments = arguments;
    }

    /**
     * A broker whose client listener is SASL_SSL with SCRAM-SHA-512 ({@link SaslSslKafkaMain}), its certificate
     * signed by {@code certificates}' CA; {@code users} (name to password) are its SCRAM users, the first one the
     * broker's own.
     */
    public static KafkaProcess saslSsl(Path dir, KafkaCertificates certificates,
            java.util.LinkedHashMap<String, String> users) {
        int port = Processes.freePort();
        List<String> arguments = new java.util.ArrayList<>(List.of(dir.resolve("data").toString(), Integer.toString(port),
                certificates.brokerKeystore().toString(), certificates.keystorePassword(), certificates.ca().toString()));
        users.forEach((name, password) -> arguments.add(name + "=" + password));
        return new KafkaProcess(dir, port, SaslSslKafkaMain.class.getName(), arguments);
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public void start() throws Exception {
        Path log = dir.resolve("kafka-" + (++starts) + ".log");
        List<String> command = new java.util.ArrayList<>(List.of(Processes.java()));
        command.addAll(KAFKA_JVM_OPTIONS);
        command.addAll(List.of("-cp", Processes.classpath(), main));
        command.addAll(arguments);
        process = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Processes.awaitLog(process, log, "READY", Duration.ofSeconds(60));
    }

    /** A clean broker shutdown (SIGTERM). */
    public void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
