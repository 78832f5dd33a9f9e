package io.mqttkafkabridge.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;

import io.mqttkafkabridge.fault.KafkaProcess;
import io.mqttkafkabridge.fault.Processes;
import io.mqttkafkabridge.it.KafkaTopics;

/**
 * The Kubernetes manifests, run: the {@code dev} overlay rendered with {@code kubectl kustomize}, played with
 * {@code podman kube play} on the image the build made, and a device message forwarded to a real Kafka broker on
 * the host.
 * <p>
 * What the test changes, in a kustomize overlay of its own on top of {@code k8s/overlays/dev}: the image, the Kafka
 * address, host networking (Kafka listens on the host's loopback only; with it, container ports are only
 * documentation, and podman refuses them) and free ports instead of 1883/8080, so that it never collides with a
 * bridge already running here. What podman 4.3 cannot play is rewritten the way Kubernetes
 * itself would realise it: the StatefulSet becomes a Deployment with the PersistentVolumeClaim its
 * {@code volumeClaimTemplates} would create ({@code data-mqtt-kafka-bridge-0}); Secrets become ConfigMaps with the
 * same keys (podman 4.3 mounts no Secrets), and an optional Secret that is absent an empty folder; Services, the PodDisruptionBudget,
 * the NetworkPolicy and the ServiceMonitor need a cluster and are left out (the manifests test validates them).
 */
class KubePlayIT {

    private static final ObjectMapper YAML = new YAMLMapper();

    @BeforeAll
    static void tools() {
        assumeTrue(Podman.IMAGE != null, "podman is not installed, so the build made no container image "
                + "(pom.xml profile container-image)");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/kubectl")), "kubectl is not installed");
    }

    @Test
    void the_dev_overlay_runs_as_a_pod_and_forwards_a_device_message_to_kafka() throws Exception {
        Path dir = Processes.scratchDir("kube-play").toAbsolutePath();
        int mqttPort = Processes.freePort();
        int httpPort = Processes.freePort();
        int websocketPort = Processes.freePort();
        try (KafkaProcess kafka = new KafkaProcess(dir)) {
            kafka.start();
            Path overlay = Files.createDirectories(dir.resolve("overlay"));
            Files.writeString(overlay.resolve("kustomization.yaml"), kustomization(overlay, kafka.bootstrapServers(), mqttPort,
                    httpPort, websocketPort));
            List<JsonNode> rendered = render(overlay, dir.resolve("home"));
            Path play = dir.resolve("play.yaml");
            List<JsonNode> playable = playable(rendered);
            Files.writeString(play, toYaml(playable));
            String podName = playable.stream().filter(doc -> doc.path("kind").asText().equals("Deployment"))
                    .findFirst().orElseThrow().path("metadata").path("name").asText() + "-pod-0";
            try {
                Podman.run("kube", "play", play.toString());
                String container = podName + "-" + "bridge";
                Podman.awaitReady(httpPort, Duration.ofSeconds(90), container);

                assertThat(Podman.run("exec", container, "id", "-u").strip()).as("user in the pod").isEqualTo("185");
                assertThat(Podman.run("inspect", container, "--format", "{{.HostConfig.ReadonlyRootfs}}").strip())
                        .as("read-only root file system").isEqualTo("true");

                // given: the first uplink route of the dev overlay's routes.properties
                Properties routes = routes(rendered);
                String route = routes.stringPropertyNames().stream().filter(k -> k.endsWith(".mqtt-filter"))
                        .filter(k -> k.startsWith("bridge.uplink.routes.")).sorted().findFirst().orElseThrow();
                String filter = routes.getProperty(route);
                String kafkaTopic = routes.getProperty(route.replace(".mqtt-filter", ".kafka-topic"));
                String mqttTopic = filter.replace("+", "kube-play-device").replace("#", "reading");
                byte[] payload = ("kube-play " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);

                // when
                Mqtt3BlockingClient device = MqttClient.builder().useMqttVersion3().identifier("kube-play-device")
                        .serverHost("127.0.0.1").serverPort(mqttPort).buildBlocking();
                device.connectWith().cleanSession(true).send();
                device.publishWith().topic(mqttTopic).payload(payload).qos(MqttQos.AT_LEAST_ONCE).send();
                device.disconnect();

                // then
                List<ConsumerRecord<String, byte[]>> records = KafkaTopics.withValue(kafka.bootstrapServers(), kafkaTopic,
                        payload, 1, Duration.ofSeconds(60));
                assertThat(records).as("the message in Kafka topic " + kafkaTopic).isNotEmpty();
                ConsumerRecord<String, byte[]> record = records.get(0);
                System.out.println("KUBE-PLAY " + mqttTopic + " -> " + kafkaTopic + " partition " + record.partition()
                        + " offset " + record.offset() + " key " + record.key());
                assertThat(record.value()).isEqualTo(payload);
                assertThat(KafkaTopics.header(record, "mqtt.topic")).isEqualTo(mqttTopic);
            } finally {
                Files.writeString(dir.resolve("pod.log"), Podman.attempt("logs", podName + "-bridge").output());
                Podman.attempt("kube", "down", play.toString());
                for (JsonNode doc : playable) {
                    // podman keeps a volume per claim and per ConfigMap after kube down
                    if (List.of("PersistentVolumeClaim", "ConfigMap").contains(doc.path("kind").asText())) {
                        Podman.remove("volume", doc.path("metadata").path("name").asText());
                    }
                }
            }
        }
    }

    private static String kustomization(Path overlayDir, String bootstrap, int mqttPort, int httpPort, int websocketPort) {
        String image = Podman.IMAGE;
        int colon = image.lastIndexOf(':');
        return """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources:
                  - %s
                images:
                  - name: mqtt-kafka-bridge
                    newName: %s
                    newTag: %s
                configMapGenerator:
                  - name: mqtt-kafka-bridge-config
                    behavior: merge
                    literals:
                      - KAFKA_BOOTSTRAP_SERVERS=%s
                patches:
                  - target:
                      kind: StatefulSet
                    patch: |-
                      - op: add
                        path: /spec/template/spec/hostNetwork
                        value: true
                      - op: remove
                        path: /spec/template/spec/containers/0/ports
                      - op: replace
                        path: /spec/template/spec/containers/0/startupProbe/httpGet/port
                        value: %d
                      - op: replace
                        path: /spec/template/spec/containers/0/livenessProbe/httpGet/port
                        value: %d
                      - op: replace
                        path: /spec/template/spec/containers/0/readinessProbe/httpGet/port
                        value: %d
                      - op: add
                        path: /spec/template/spec/containers/0/env/-
                        value: {name: BRIDGE_BROKER_PORT, value: "%d"}
                      - op: add
                        path: /spec/template/spec/containers/0/env/-
                        value: {name: BRIDGE_BROKER_WEBSOCKET_PORT, value: "%d"}
                      - op: add
                        path: /spec/template/spec/containers/0/env/-
                        value: {name: QUARKUS_HTTP_PORT, value: "%d"}
                """.formatted(overlayDir.relativize(Path.of("k8s", "overlays", "dev").toAbsolutePath()), image.substring(0, colon),
                image.substring(colon + 1), bootstrap, httpPort, httpPort, httpPort, mqttPort, websocketPort, httpPort);
    }

    private static List<JsonNode> render(Path overlay, Path home) throws Exception {
        Files.createDirectories(home);
        Path out = overlay.resolve("rendered.yaml");
        ProcessBuilder kubectl = new ProcessBuilder("kubectl", "kustomize", overlay.toString()).redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        kubectl.environment().put("HOME", home.toString());
        Process process = kubectl.start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("kubectl kustomize " + overlay).isZero();
        List<JsonNode> docs = new ArrayList<>();
        try (var parser = new YAMLFactory().createParser(out.toFile())) {
            YAML.readValues(parser, JsonNode.class).forEachRemaining(docs::add);
        }
        return docs;
    }

    /** What podman kube play can run, as Kubernetes would realise it (see the class comment). */
    private static List<JsonNode> playable(List<JsonNode> rendered) {
        java.util.Set<String> secrets = new java.util.HashSet<>();
        rendered.stream().filter(doc -> doc.path("kind").asText().equals("Secret"))
                .forEach(doc -> secrets.add(doc.path("metadata").path("name").asText()));
        List<JsonNode> playable = new ArrayList<>();
        for (JsonNode doc : rendered) {
            switch (doc.path("kind").asText()) {
                case "ConfigMap", "PersistentVolumeClaim", "Deployment", "Pod" -> playable.add(doc);
                case "Secret" -> playable.add(secretAsConfigMap(doc));
                case "StatefulSet" -> {
                    ObjectNode deployment = doc.deepCopy();
                    String name = deployment.path("metadata").path("name").asText();
                    ObjectNode spec = (ObjectNode) deployment.get("spec");
                    ArrayNode volumes = ((ObjectNode) spec.get("template").get("spec")).withArray("volumes");
                    for (JsonNode claim : spec.path("volumeClaimTemplates")) {
                        ObjectNode pvc = YAML.createObjectNode().put("apiVersion", "v1").put("kind", "PersistentVolumeClaim");
                        String claimName = claim.path("metadata").path("name").asText() + "-" + name + "-0";
                        pvc.putObject("metadata").put("name", claimName);
                        pvc.set("spec", claim.get("spec"));
                        playable.add(pvc);
                        ObjectNode volume = volumes.addObject().put("name", claim.path("metadata").path("name").asText());
                        volume.putObject("persistentVolumeClaim").put("claimName", claimName);
                    }
                    secretsAsConfigMaps((ObjectNode) spec.get("template").get("spec"), secrets);
                    deployment.put("kind", "Deployment");
                    spec.remove(List.of("volumeClaimTemplates", "serviceName", "podManagementPolicy", "updateStrategy",
                            "persistentVolumeClaimRetentionPolicy"));
                    spec.put("replicas", 1);
                    playable.add(deployment);
                }
                default -> {
                    // Service, PodDisruptionBudget, NetworkPolicy, ServiceMonitor: cluster objects, nothing to play
                }
            }
        }
        return playable;
    }

    /** podman 4.3 mounts no Secrets: the same keys and values as a ConfigMap of the same name. */
    private static JsonNode secretAsConfigMap(JsonNode secret) {
        ObjectNode configMap = YAML.createObjectNode().put("apiVersion", "v1").put("kind", "ConfigMap");
        configMap.putObject("metadata").put("name", secret.path("metadata").path("name").asText());
        ObjectNode data = configMap.putObject("data");
        secret.path("data").properties().forEach(entry -> data.put(entry.getKey(),
                new String(java.util.Base64.getDecoder().decode(entry.getValue().asText()), StandardCharsets.UTF_8)));
        secret.path("stringData").properties().forEach(entry -> data.put(entry.getKey(), entry.getValue().asText()));
        return configMap;
    }

    /**
     * Secret references in a pod spec, rewritten to the ConfigMaps {@link #secretAsConfigMap} makes; an optional Secret
     * that does not exist is what Kubernetes makes of it: an empty folder, or no variables.
     */
    private static void secretsAsConfigMaps(ObjectNode podSpec, java.util.Set<String> secrets) {
        ArrayNode volumes = podSpec.withArray("volumes");
        for (int i = 0; i < volumes.size(); i++) {
            ObjectNode volume = (ObjectNode) volumes.get(i);
            List<JsonNode> sources = new ArrayList<>();
            if (volume.has("secret")) {
                sources.add(volume.get("secret"));
            }
            volume.path("projected").path("sources").forEach(source -> sources.add(source.path("secret")));
            if (sources.isEmpty()) {
                continue;
            }
            List<JsonNode> present = sources.stream().filter(source -> secrets.contains(
                    source.has("secretName") ? source.path("secretName").asText() : source.path("name").asText())).toList();
            ObjectNode replacement = YAML.createObjectNode().put("name", volume.path("name").asText());
            if (present.isEmpty()) {
                assertThat(sources).allMatch(source -> source.path("optional").asBoolean(), "a required Secret is missing");
                replacement.putObject("emptyDir");
            } else {
                assertThat(sources).as("one Secret per volume in this test").hasSize(1);
                JsonNode source = present.get(0);
                ObjectNode configMap = replacement.putObject("configMap")
                        .put("name", source.has("secretName") ? source.path("secretName").asText() : source.path("name").asText());
                if (source.has("items")) {
                    configMap.set("items", source.get("items"));
                }
            }
            volumes.set(i, replacement);
        }
        for (JsonNode container : podSpec.path("containers")) {
            for (JsonNode env : container.path("env")) {
                if (env.path("valueFrom").has("secretKeyRef")) {
                    ((ObjectNode) env.get("valueFrom")).set("configMapKeyRef", env.get("valueFrom").get("secretKeyRef"));
                    ((ObjectNode) env.get("valueFrom")).remove("secretKeyRef");
                }
            }
            ArrayNode envFrom = (ArrayNode) container.path("envFrom");
            for (int i = envFrom.size() - 1; i >= 0; i--) {
                JsonNode ref = envFrom.get(i).path("secretRef");
                if (ref.isMissingNode()) {
                    continue;
                }
                if (secrets.contains(ref.path("name").asText())) {
                    ((ObjectNode) envFrom.get(i)).set("configMapRef", ref);
                    ((ObjectNode) envFrom.get(i)).remove("secretRef");
                } else {
                    assertThat(ref.path("optional").asBoolean()).as("required Secret " + ref).isTrue();
                    envFrom.remove(i);
                }
            }
        }
    }

    private static String toYaml(List<JsonNode> docs) throws Exception {
        StringBuilder yaml = new StringBuilder();
        for (JsonNode doc : docs) {
            yaml.append(YAML.writeValueAsString(doc));
        }
        return yaml.toString();
    }

    private static Properties routes(List<JsonNode> rendered) throws Exception {
        for (JsonNode doc : rendered) {
            if (doc.path("kind").asText().equals("ConfigMap") && doc.path("data").has("routes.properties")) {
                Properties routes = new Properties();
                routes.load(new StringReader(doc.path("data").path("routes.properties").asText()));
                return routes;
            }
        }
        throw new AssertionError("no ConfigMap with routes.properties in the dev overlay");
    }
}
