package io.mqttkafkabridge.fault;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A real Kafka broker in its own JVM that a test can stop and start again on the same port and data. */
public final class KafkaProcess implements AutoCloseable {

    private final Path dir;
    private final int port;
    private int starts;
    private Process process;

    public KafkaProcess(Path dir) {
        this.dir = dir;
        this.port = Processes.freePort();
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public void start() throws Exception {
        Path log = dir.resolve("kafka-" + (++starts) + ".log");
        process = new ProcessBuilder(List.of(Processes.java(), "-Xmx512m", "-cp", Processes.classpath(),
                LocalKafkaMain.class.getName(), dir.resolve("data").toString(), Integer.toString(port)))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Processes.awaitLog(process, log, "READY", Duration.ofSeconds(60));
    }

    /** A clean broker shutdown (SIGTERM). */
    void stop() throws InterruptedException {
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
