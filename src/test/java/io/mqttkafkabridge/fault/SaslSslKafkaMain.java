package io.mqttkafkabridge.fault;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;

/**
 * A single-node KRaft broker whose only client listener is SASL_SSL with SCRAM-SHA-512, as a Strimzi cluster's
 * {@code scram-sha-512} TLS listener: {@code SaslSslKafkaMain <dir> <port> <keystore.p12> <keystore password>
 * <ca.crt> <user=password>...}. The SCRAM users are written into the metadata log when the storage is formatted
 * ({@code kafka-storage format --add-scram}, the KRaft way); the first one is the broker's own (inter-broker) user.
 * The controller listener stays PLAINTEXT on loopback. Topics are not created on first use, so the bridge's topic
 * probe has something to find out. Prints READY; SIGTERM stops it.
 */
public final class SaslSslKafkaMain {

    static final String SCRAM_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule";

    private SaslSslKafkaMain() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Paths.get(args[0]);
        int port = Integer.parseInt(args[1]);
        int controllerPort = Processes.freePort();
        while (controllerPort == port) {
            controllerPort = Processes.freePort();
        }
        List<String[]> users = new ArrayList<>();
        for (int i = 5; i < args.length; i++) {
            users.add(args[i].split("=", 2));
        }
        Path logs = dir.resolve("logs");
        Files.createDirectories(dir);
        Properties props = new Properties();
        props.setProperty("process.roles", "broker,controller");
        props.setProperty("node.id", "1");
        props.setProperty("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        props.setProperty("listeners", "SASL_SSL://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        props.setProperty("advertised.listeners", "SASL_SSL://127.0.0.1:" + port);
        props.setProperty("controller.listener.names", "CONTROLLER");
        props.setProperty("listener.security.protocol.map", "SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT");
        props.setProperty("inter.broker.listener.name", "SASL_SSL");
        props.setProperty("sasl.enabled.mechanisms", "SCRAM-SHA-512");
        props.setProperty("sasl.mechanism.inter.broker.protocol", "SCRAM-SHA-512");
        props.setProperty("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config", SCRAM_MODULE + " required username=\""
                + users.get(0)[0] + "\" password=\"" + users.get(0)[1] + "\";");
        props.setProperty("ssl.keystore.type", "PKCS12");
        props.setProperty("ssl.keystore.location", args[2]);
        props.setProperty("ssl.keystore.password", args[3]);
        props.setProperty("ssl.truststore.type", "PEM");
        props.setProperty("ssl.truststore.location", args[4]);
        io.mqttkafkabridge.dev.LocalKafka.singleNode(props, logs);
        props.setProperty("auto.create.topics.enable", "false");
        Path config = dir.resolve("server.properties");
        try (OutputStream out = Files.newOutputStream(config)) {
            props.store(out, "Written by SaslSslKafkaMain");
        }
        List<String> format = new ArrayList<>(List.of("format", "-t", Uuid.randomUuid().toString(), "-c", config.toString(),
                "--ignore-formatted"));
        for (String[] user : users) {
            format.add("--add-scram");
            format.add("SCRAM-SHA-512=[name=" + user[0] + ",password=" + user[1] + "]");
        }
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        if (StorageTool.execute(format.toArray(String[]::new), new PrintStream(output, true, StandardCharsets.UTF_8)) != 0) {
            throw new IllegalStateException("Formatting Kafka storage in " + logs + " failed: " + output);
        }
        KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props), Time.SYSTEM);
        server.startup();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown();
            server.awaitShutdown();
            stopped.countDown();
        }));
        System.out.println("READY 127.0.0.1:" + port);
        System.out.flush();
        stopped.await();
    }
}
