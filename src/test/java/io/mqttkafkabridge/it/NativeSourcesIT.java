package io.mqttkafkabridge.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The sources-only native build that `./mvnw verify` runs (execution {@code native-sources} of the Quarkus plugin,
 * pom.xml) produced what native-image needs, with our Moquette registrations in it. No native-image runs here: this
 * checks the input a builder image would get, not the executable.
 */
class NativeSourcesIT {

    /** Where execution native-sources writes; target/native-sources with -Dnative -Dquarkus.native.sources-only=true. */
    private static final Path CI_SOURCES = Paths.get("target", "native-build", "native-sources");
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path sources;
    private static Path runnerJar;

    @BeforeAll
    static void findSources() throws IOException {
        sources = Files.isDirectory(CI_SOURCES) ? CI_SOURCES : Paths.get("target", "native-sources");
        // with -Dnative the real native build (target/*-runner) replaces the sources-only one
        assumeFalse(!Files.isDirectory(sources) && nativeExecutableBuilt(), "native profile: no sources-only build");
        assertThat(sources).as("sources-only native build output").isDirectory();
        try (Stream<Path> files = Files.list(sources)) {
            runnerJar = files.filter(p -> p.getFileName().toString().endsWith("-runner.jar")).findFirst().orElseThrow();
        }
    }

    @Test
    void native_image_arguments_are_written() throws IOException {
        String args = Files.readString(sources.resolve("native-image.args"));
        assertThat(args).contains("--no-fallback", "--link-at-build-time", "-jar " + runnerJar.getFileName());
        assertThat(sources.resolve("graalvm.version")).isRegularFile();
    }

    @Test
    void the_moquette_substitution_is_in_the_runner_jar() throws IOException {
        try (ZipFile jar = new ZipFile(runnerJar.toFile())) {
            assertThat(jar.getEntry("io/mqttkafkabridge/broker/Target_io_moquette_broker_NewNettyAcceptor.class")).isNotNull();
        }
    }

    @Test
    void inline_interceptors_fields_are_registered_for_reflection() throws IOException {
        JsonNode reflection = metadata("reflect-config.json");
        for (String type : List.of("io.moquette.broker.Server", "io.moquette.interception.BrokerInterceptor")) {
            JsonNode entry = entry(reflection, type);
            assertThat(entry).as(type).isNotNull();
            assertThat(entry.path("allDeclaredFields").asBoolean()).as(type + " allDeclaredFields").isTrue();
        }
    }

    @Test
    void the_session_store_classes_are_registered_for_serialization() throws IOException {
        JsonNode serialization = metadata("serialization-config.json").path("types");
        List<String> names = new ArrayList<>();
        serialization.forEach(t -> names.add(t.path("name").asText()));
        assertThat(names).contains("io.moquette.broker.subscriptions.Subscription",
                "io.moquette.broker.subscriptions.Topic", "io.moquette.broker.RetainedMessage",
                "io.netty.handler.codec.mqtt.MqttQoS", "[B");
    }

    @Test
    void the_native_class_path_has_moquette_and_no_build_only_or_excluded_jar() throws IOException {
        List<String> libs;
        try (Stream<Path> files = Files.list(sources.resolve("lib"))) {
            libs = files.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertThat(libs).anyMatch(jar -> jar.startsWith("io.moquette.moquette-broker-"));
        assertThat(libs).noneMatch(jar -> jar.startsWith("org.apache.kafka.kafka_2.13-")
                || jar.startsWith("org.graalvm.sdk.")
                || jar.startsWith("org.scala-lang.")
                || jar.contains("netty-transport-native-epoll")
                || jar.startsWith("com.bugsnag.")
                || jar.startsWith("io.dropwizard.metrics."));
    }

    private static boolean nativeExecutableBuilt() throws IOException {
        try (Stream<Path> files = Files.list(Paths.get("target"))) {
            return files.anyMatch(p -> p.getFileName().toString().endsWith("-runner") && Files.isExecutable(p));
        }
    }

    private static JsonNode metadata(String name) throws IOException {
        try (ZipFile jar = new ZipFile(runnerJar.toFile())) {
            ZipEntry entry = jar.getEntry("META-INF/native-image/" + name);
            assertThat(entry).as(name).isNotNull();
            try (InputStream in = jar.getInputStream(entry)) {
                return JSON.readTree(in);
            }
        }
    }

    private static JsonNode entry(JsonNode reflection, String type) {
        for (JsonNode entry : reflection) {
            if (type.equals(entry.path("name").asText())) {
                return entry;
            }
        }
        return null;
    }
}
