package io.mqttkafkabridge.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.mqttkafkabridge.fault.Delivery;
import io.mqttkafkabridge.fault.DeviceLoad;
import io.mqttkafkabridge.fault.KafkaProcess;
import io.mqttkafkabridge.fault.Processes;

/**
 * The container image the build made, run with podman the way Kubernetes runs it: configured only by environment
 * variables, as its own non-root user, with a read-only root file system, no capabilities, /data on a volume, and a
 * real Kafka broker on the host (loopback, so the container shares the host's network).
 */
class ContainerImageIT {


    @BeforeAll
    static void podman() {
        assumeTrue(Podman.IMAGE != null, "podman is not installed, so the build made no container image "
                + "(pom.xml profile container-image)");
    }

    @Test
    void the_image_runs_as_non_root_exposes_the_mqtt_and_http_ports_and_declares_the_data_volume() throws Exception {
        JsonNode config = new ObjectMapper().readTree(Podman.run("image", "inspect", Podman.IMAGE, "--format", "{{json .Config}}"));

        assertThat(config.path("User").asText()).isEqualTo("185");
        List<String> ports = new ArrayList<>();
        config.path("ExposedPorts").fieldNames().forEachRemaining(ports::add);
        assertThat(ports).containsExactlyInAnyOrder("1883/tcp", "8883/tcp", "8083/tcp", "8084/tcp", "8080/tcp");
        List<String> volumes = new ArrayList<>();
        config.path("Volumes").fieldNames().forEachRemaining(volumes::add);
        assertThat(volumes).containsExactly("/data");
    }

    @Test
    void devices_publish_through_the_container_to_kafka_and_sigterm_drains_the_journal_before_exit() throws Exception {
        Path dir = Processes.scratchDir("image");
        String name = "bridge-image-it-" + UUID.randomUUID().toString().substring(0, 8);
        String topic = "image-load";
        int mqttPort = Processes.freePort();
        int httpPort = Processes.freePort();
        Path log = dir.resolve("container.log");
        try (KafkaProcess kafka = new KafkaProcess(dir)) {
            kafka.start();
            Map<String, String> env = Map.of(
                    "KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
                    "BRIDGE_BROKER_HOST", "127.0.0.1",
                    "BRIDGE_BROKER_PORT", Integer.toString(mqttPort),
                    "BRIDGE_BROKER_WEBSOCKET_PORT", "-1",
                    "QUARKUS_HTTP_HOST", "127.0.0.1",
                    "QUARKUS_HTTP_PORT", Integer.toString(httpPort),
                    "BRIDGE_UPLINK_ROUTES_LOAD_MQTT_FILTER", "load/+/data",
                    "BRIDGE_UPLINK_ROUTES_LOAD_KAFKA_TOPIC", topic,
                    "BRIDGE_UPLINK_ROUTES_LOAD_KEY", "topic-level:1",
                    "BRIDGE_SECURITY_ALLOW_ANONYMOUS", "true");
            List<String> command = new ArrayList<>(List.of("podman", "run", "--name", name, "--network", "host",
                    "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                    "-v", name + ":/data"));
            env.forEach((key, value) -> command.addAll(List.of("-e", key + "=" + value)));
            command.add(Podman.IMAGE);
            Process container = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                Processes.awaitLog(container, log, "MKB0001", Duration.ofSeconds(90));
                Podman.awaitReady(httpPort, Duration.ofSeconds(60), name);
                assertThat(Podman.run("exec", name, "id", "-u").strip()).as("user in the container").isEqualTo("185");

                DeviceLoad load = new DeviceLoad(mqttPort, 10, 2000, 100_000);
                TimeUnit.SECONDS.sleep(6);
                long stopStart = System.nanoTime();
                Podman.run("stop", "-t", "30", name);
                Duration exit = Duration.ofNanos(System.nanoTime() - stopStart);
                assertThat(container.waitFor(10, TimeUnit.SECONDS)).isTrue();
                load.settle();

                Delivery delivery = Delivery.check(kafka.bootstrapServers(), topic, load.published(), load.acked(),
                        Duration.ofSeconds(60));
                String output = Processes.tail(log);
                System.out.println(delivery.line("image-sigterm"));
                System.out.println(output.lines().filter(line -> line.contains("MKB031")).toList());
                System.out.println("IMAGE exit code " + container.exitValue() + ", " + exit.toMillis() + " ms after SIGTERM");
                load.close();

                assertThat(exit).as("exit after SIGTERM, within the grace period").isLessThan(Duration.ofSeconds(30));
                assertThat(output).contains("MKB0310").contains("MKB0311").contains("MKB0002");
                assertThat(container.exitValue()).as("exit code after SIGTERM").isIn(0, 143);
                assertThat(delivery.acknowledged()).isGreaterThan(5_000);
                assertThat(delivery.missing()).as("acknowledged but not in Kafka after the drain").isZero();
                assertThat(delivery.orderViolations()).isZero();
            } finally {
                container.destroyForcibly();
                Podman.remove("container", name);
                Podman.remove("volume", name);
            }
        }
    }
}
