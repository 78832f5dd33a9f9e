package io.mqttkafkabridge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The packaged fast-jar (target/quarkus-app) carries the Kafka client and the MQTT broker, and none of the Kafka
 * broker, console tools or build-time-only jars that dev mode and the tests use.
 */
class PackagedApplicationIT {

    private static final Path APP = Paths.get("target", "quarkus-app");

    private static List<String> libraries() throws IOException {
        try (Stream<Path> jars = Files.list(APP.resolve("lib").resolve("main"))) {
            return jars.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void the_fast_jar_is_there() {
        assertThat(APP.resolve("quarkus-run.jar")).isRegularFile();
    }

    @Test
    void it_carries_the_kafka_client_and_moquette() throws IOException {
        assertThat(libraries())
                .anyMatch(jar -> jar.startsWith("org.apache.kafka.kafka-clients-"))
                .anyMatch(jar -> jar.startsWith("io.moquette.moquette-broker-"));
    }

    @Test
    void it_carries_no_kafka_broker_and_no_build_only_jar() throws IOException {
        assertThat(libraries()).noneMatch(jar -> jar.startsWith("org.apache.kafka.kafka_2.13-")
                || jar.startsWith("org.apache.kafka.kafka-server-")
                || jar.startsWith("org.apache.kafka.kafka-raft-")
                || jar.startsWith("org.apache.kafka.kafka-metadata-")
                || jar.startsWith("org.apache.kafka.kafka-tools-")
                || jar.startsWith("org.scala-lang.")
                || jar.startsWith("org.jboss.logging.jboss-logging-processor-")
                || jar.startsWith("org.slf4j.slf4j-reload4j-")
                || jar.startsWith("com.bugsnag.")
                || jar.contains("netty-transport-native-epoll"));
    }

    /**
     * The class-data archive of the package phase's training run maps for the packaged jar (-Xshare:on makes the JVM
     * fail instead of ignoring an archive that does not fit), and holds the bridge's own classes and its libraries'.
     */
    @Test
    void the_class_data_archive_fits_the_packaged_jar() throws Exception {
        Path archive = APP.resolve("app-cds.jsa").toAbsolutePath();
        assertThat(archive).isRegularFile();
        Path classes = Files.createTempFile("app-cds-classes", ".txt");
        Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xshare:on",
                "-XX:SharedArchiveFile=" + archive, "-XX:+PrintSharedArchiveAndExit",
                "-cp", APP.resolve("quarkus-run.jar").toAbsolutePath().toString())
                .redirectErrorStream(true).redirectOutput(classes.toFile()).start();
        assertThat(jvm.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        String listing = Files.readString(classes);
        assertThat(jvm.exitValue()).as(listing.lines().limit(20).reduce("", (a, b) -> a + b + "\n")).isZero();
        assertThat(listing).contains("io.mqttkafkabridge.broker.MqttGate", "io.moquette.broker.Server",
                "org.apache.kafka.clients.producer.KafkaProducer");
        Files.delete(classes);
    }
}
