package io.mqttkafkabridge.dev;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;

/**
 * A real single-node Apache Kafka broker (KRaft, combined broker and controller) running inside this JVM, for
 * {@code quarkus:dev} and the tests. Its classes come from provided-scope dependencies: they are on the dev-mode
 * and test class paths and never in the packaged application, so nothing outside dev mode and tests may load this
 * class.
 */
public final class LocalKafka implements AutoCloseable {

    private final KafkaRaftServer server;
    private final String bootstrapServers;
    private final Path dir;

    private LocalKafka(KafkaRaftServer server, String bootstrapServers, Path dir) {
        this.server = server;
        this.bootstrapServers = bootstrapServers;
        this.dir = dir;
    }

    /**
     * Formats {@code dir} on first use (later starts reuse its topics) and starts the broker.
     *
     * @param port the client port on 127.0.0.1; 0 picks a free one
     */
    public static LocalKafka start(Path dir, int port) throws Exception {
        int clientPort = port == 0 ? freePort() : port;
        int controllerPort = freePort();
        while (controllerPort == clientPort) {
            // the client port was given (or picked) but is not bound yet: the system may hand out the same one again,
            // and Kafka refuses two listeners on one port
            controllerPort = freePort();
        }
        Files.createDirectories(dir);
        Path logs = dir.resolve("logs");
        Properties props = new Properties();
        props.setProperty("process.roles", "broker,controller");
        props.setProperty("node.id", "1");
        props.setProperty("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        props.setProperty("listeners", "PLAINTEXT://127.0.0.1:" + clientPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        props.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + clientPort);
        props.setProperty("controller.listener.names", "CONTROLLER");
        props.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        props.setProperty("inter.broker.listener.name", "PLAINTEXT");
        singleNode(props, logs);
        props.setProperty("auto.create.topics.enable", "true");
        Path config = dir.resolve("server.properties");
        try (OutputStream out = Files.newOutputStream(config)) {
            props.store(out, "Written by LocalKafka on every start");
        }
        if (!Files.exists(logs.resolve("meta.properties"))) {
            ByteArrayOutputStream output = new ByteArrayOutputStream();
            int exit = StorageTool.execute(new String[] {"format", "-t", Uuid.randomUuid().toString(), "-c",
                    config.toString(), "--ignore-formatted"}, new PrintStream(output, true, StandardCharsets.UTF_8));
            if (exit != 0) {
                throw new IllegalStateException("Formatting Kafka storage in " + logs + " failed: " + output);
            }
        }
        KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props), Time.SYSTEM);
        server.startup();
        return new LocalKafka(server, "127.0.0.1:" + clientPort, dir);
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public Path dir() {
        return dir;
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The settings of a broker that is its own controller and keeps every internal topic on one replica, in {@code logs}. */
    public static void singleNode(java.util.Properties props, Path logs) {
        props.setProperty("log.dirs", logs.toString());
        props.setProperty("num.partitions", "1");
        props.setProperty("offsets.topic.replication.factor", "1");
        props.setProperty("offsets.topic.num.partitions", "1");
        props.setProperty("transaction.state.log.replication.factor", "1");
        props.setProperty("transaction.state.log.min.isr", "1");
        props.setProperty("share.coordinator.state.topic.replication.factor", "1");
        props.setProperty("share.coordinator.state.topic.min.isr", "1");
        props.setProperty("group.initial.rebalance.delay.ms", "0");
    }
}
