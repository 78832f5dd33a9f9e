package io.mqttkafkabridge.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.mqttkafkabridge.metrics.BridgeMetrics;
import io.mqttkafkabridge.routing.RouteSpecs;
import io.mqttkafkabridge.routing.RouteTable;

/**
 * The kustomize base and overlays under {@code k8s/}, checked offline: {@code kubectl kustomize} renders each one,
 * {@code src/test/k8s/validate.mjs} checks the result against the bundled Kubernetes, Prometheus Operator and
 * Strimzi schemas (unknown fields included) and the references between the objects. Skipped where kubectl or node
 * is not installed (except the routes check, which needs neither); the {@code k8s-manifests} Maven profile installs
 * the validator's npm packages.
 */
class KubernetesManifestsTest {

    private static final Path ROOT = Path.of("").toAbsolutePath();
    private static final Path K8S = ROOT.resolve("k8s");
    private static final Path VALIDATOR_DIR = ROOT.resolve("src/test/k8s");
    private static final Path WORK = ROOT.resolve("target/k8s-manifests");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void workFolder() throws IOException {
        Files.createDirectories(WORK.resolve("home"));
    }

    /** Every test that renders skips without kubectl or node; the routes test needs neither. */
    private static void requireTools() {
        assumeTrue(onPath("kubectl"), "kubectl is not installed: Kubernetes manifests not checked");
        assumeTrue(onPath("node"), "node is not installed: Kubernetes manifests not checked");
        assertThat(VALIDATOR_DIR.resolve("node_modules/kubernetes-models"))
                .as("the validator's npm packages (the k8s-manifests Maven profile installs them where /usr/bin/kubectl"
                        + " exists; elsewhere run: cd src/test/k8s && npm install --no-package-lock --no-audit --no-fund)")
                .isDirectory();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Every overlay renders and passes the validator
    // ------------------------------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/dev", "overlays/prod", "overlays/strimzi"})
    void renders_and_passes_the_validator(String dir) throws Exception {
        Path rendered = render(K8S.resolve(dir), dir.replace('/', '-'));
        Result result = validate(rendered);
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).contains(", 0 error(s)").doesNotContain("FAIL");
    }

    @Test
    void base_is_one_bridge_with_its_services_and_no_secret_values() throws Exception {
        List<JsonNode> objects = objects(render(K8S.resolve("base"), "base"));
        assertThat(kinds(objects)).containsExactlyInAnyOrder("ConfigMap", "Service", "Service", "Service",
                "StatefulSet", "PodDisruptionBudget", "NetworkPolicy", "ServiceMonitor");
        JsonNode sts = only(objects, "StatefulSet");
        assertThat(sts.at("/spec/replicas").asInt()).isEqualTo(1);
        assertThat(sts.at("/spec/serviceName").asText()).isEqualTo("mqtt-kafka-bridge-headless");
        assertThat(sts.at("/spec/template/spec/terminationGracePeriodSeconds").asInt()).isEqualTo(30);
        JsonNode container = sts.at("/spec/template/spec/containers/0");
        assertThat(container.at("/image").asText()).isEqualTo("mqtt-kafka-bridge:0.1.0");
        assertThat(env(container)).containsEntry("BRIDGE_SHUTDOWN_DRAIN_TIMEOUT", "20s")
                .containsEntry("QUARKUS_CONFIG_LOCATIONS", "/etc/mqtt-kafka-bridge/routes.properties")
                .as("the password file and TLS are the prod overlay's: a configured file that is missing fails the start")
                .doesNotContainKeys("BRIDGE_BROKER_TLS_PORT", "BRIDGE_SECURITY_PASSWORD_FILE")
                .as("one replica: the cluster (bridge.cluster.enabled, default false) is the prod overlay's")
                .doesNotContainKey("BRIDGE_CLUSTER_ENABLED");
        assertThat(container.at("/securityContext/readOnlyRootFilesystem").asBoolean()).isTrue();
        assertThat(sts.at("/spec/volumeClaimTemplates/0/spec/resources/requests/storage").asText()).isEqualTo("1Gi");
        assertThat(byName(objects, "Service", "mqtt-kafka-bridge-mqtt").at("/spec/type").asText()).isEqualTo("LoadBalancer");
        assertThat(byName(objects, "Service", "mqtt-kafka-bridge-headless").at("/spec/clusterIP").asText()).isEqualTo("None");
        assertThat(only(objects, "ConfigMap").at("/metadata/name").asText()).startsWith("mqtt-kafka-bridge-config-");
    }

    @Test
    void dev_is_anonymous_without_tls_with_a_generated_token() throws Exception {
        List<JsonNode> objects = objects(render(K8S.resolve("overlays/dev"), "overlays-dev"));
        assertThat(kinds(objects)).contains("Secret", "StatefulSet").doesNotContain("ServiceMonitor");
        JsonNode sts = only(objects, "StatefulSet");
        assertThat(sts.at("/spec/replicas").asInt()).isEqualTo(1);
        Map<String, String> env = env(sts.at("/spec/template/spec/containers/0"));
        assertThat(env).containsEntry("BRIDGE_SECURITY_ALLOW_ANONYMOUS", "true")
                .doesNotContainKeys("BRIDGE_BROKER_TLS_PORT", "BRIDGE_SECURITY_PASSWORD_FILE", "BRIDGE_CLUSTER_ENABLED");
        assertThat(only(objects, "ConfigMap").at("/data/KAFKA_BOOTSTRAP_SERVERS").asText()).isEqualTo("kafka:9092");
        assertThat(only(objects, "Secret").at("/metadata/name").asText()).startsWith("mqtt-kafka-bridge-api-");
    }

    @Test
    void prod_runs_three_spread_bridges_with_required_secrets() throws Exception {
        List<JsonNode> objects = objects(render(K8S.resolve("overlays/prod"), "overlays-prod"));
        assertThat(kinds(objects)).doesNotContain("Secret");
        JsonNode sts = only(objects, "StatefulSet");
        assertThat(sts.at("/spec/replicas").asInt()).isEqualTo(3);
        assertThat(sts.at("/spec/podManagementPolicy").asText()).isEqualTo("Parallel");
        assertThat(sts.at("/spec/volumeClaimTemplates/0/spec/resources/requests/storage").asText()).isEqualTo("10Gi");
        assertThat(sts.at("/spec/template/spec/topologySpreadConstraints")).isNotEmpty();
        assertThat(env(sts.at("/spec/template/spec/containers/0"))).containsEntry("BRIDGE_SECURITY_ALLOW_ANONYMOUS", "false")
                .containsEntry("BRIDGE_BROKER_TLS_PORT", "8883")
                .containsEntry("BRIDGE_SECURITY_PASSWORD_FILE", "/etc/mqtt-kafka-bridge/security/passwd")
                .containsEntry("BRIDGE_SECURITY_ACL_FILE", "/etc/mqtt-kafka-bridge/security/acl")
                .as("the three replicas are one cluster, with the default name and node ids (pod names)")
                .containsEntry("BRIDGE_CLUSTER_ENABLED", "true")
                .doesNotContainKeys("BRIDGE_CLUSTER_NAME", "BRIDGE_CLUSTER_NODE_ID");
        for (JsonNode volume : sts.at("/spec/template/spec/volumes")) {
            String name = volume.at("/name").asText();
            if (name.equals("security")) {
                volume.at("/projected/sources").forEach(s -> assertThat(s.at("/secret/optional").asBoolean()).as(name).isFalse());
            } else if (name.equals("tls")) {
                assertThat(volume.at("/secret/optional").asBoolean()).as(name).isFalse();
            }
        }
    }

    @Test
    void strimzi_adds_topics_and_a_user_and_reads_its_secrets() throws Exception {
        List<JsonNode> objects = objects(render(K8S.resolve("overlays/strimzi"), "overlays-strimzi"));
        assertThat(kinds(objects)).contains("KafkaTopic", "KafkaUser", "StatefulSet");
        assertThat(objects.stream().filter(o -> o.at("/kind").asText().startsWith("Kafka")))
                .allSatisfy(o -> assertThat(o.at("/metadata/labels/strimzi.io~1cluster").asText()).isEqualTo("my-cluster"));
        assertThat(only(objects, "KafkaUser").at("/spec/authentication/type").asText()).isEqualTo("scram-sha-512");
        assertThat(only(objects, "ConfigMap").at("/data/KAFKA_BOOTSTRAP_SERVERS").asText())
                .isEqualTo("my-cluster-kafka-bootstrap:9093");
        JsonNode sts = only(objects, "StatefulSet");
        assertThat(sts.at("/spec/replicas").asInt()).isEqualTo(3);
        assertThat(env(sts.at("/spec/template/spec/containers/0")))
                .containsEntry("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
                .containsEntry("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
                .containsEntry("KAFKA_SASL_JAAS_CONFIG", "secret mqtt-kafka-bridge/sasl.jaas.config")
                .containsEntry("KAFKA_SSL_TRUSTSTORE_TYPE", "PEM")
                .as("inherited from prod").containsEntry("BRIDGE_CLUSTER_ENABLED", "true");
    }

    /** The cluster's internal topics (cluster/ClusterTopics.java) with the default cluster name, and the ACLs for them. */
    @Test
    void strimzi_declares_the_cluster_topics_and_allows_them() throws Exception {
        List<JsonNode> objects = objects(render(K8S.resolve("overlays/strimzi"), "overlays-strimzi"));
        Map<String, JsonNode> topics = new LinkedHashMap<>();
        objects.stream().filter(o -> o.at("/kind").asText().equals("KafkaTopic"))
                .forEach(t -> topics.put(t.at("/spec/topicName").asText(t.at("/metadata/name").asText()), t));
        // name → cleanup.policy, partitions
        Map<String, Object[]> internal = new LinkedHashMap<>();
        internal.put("mqtt-kafka-bridge.messages", new Object[] {"delete", 6});
        internal.put("mqtt-kafka-bridge.subscriptions", new Object[] {"compact", 1});
        internal.put("mqtt-kafka-bridge.sessions", new Object[] {"compact", 3});
        internal.put("mqtt-kafka-bridge.retained", new Object[] {"compact", 3});
        internal.put("mqtt-kafka-bridge.nodes", new Object[] {"compact", 1});
        internal.put("mqtt-kafka-bridge.routes", new Object[] {"compact", 1});
        assertThat(topics).containsKeys(internal.keySet().toArray(String[]::new));
        internal.forEach((name, expected) -> {
            JsonNode topic = topics.get(name);
            assertThat(topic.at("/metadata/name").asText()).as(name + ": metadata.name is a DNS name")
                    .matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
            assertThat(topic.at("/spec/config/cleanup.policy").asText()).as(name).isEqualTo(expected[0]);
            assertThat(topic.at("/spec/partitions").asInt()).as(name).isEqualTo(expected[1]);
            assertThat(topic.at("/spec/replicas").asInt()).as(name).isEqualTo(3);
            if (expected[0].equals("compact")) {
                assertThat(topic.at("/spec/config/min.compaction.lag.ms").asLong()).as(name).isZero();
                assertThat(topic.at("/spec/config/segment.ms").asLong()).as(name).isEqualTo(3_600_000L);
            } else {
                assertThat(topic.at("/spec/config/retention.ms").asLong()).as(name).isEqualTo(86_400_000L);
            }
        });

        JsonNode user = only(objects, "KafkaUser");
        for (String topic : internal.keySet()) {
            for (String op : List.of("Read", "Write", "Describe", "Create", "DescribeConfigs")) {
                assertThat(allows(user, "topic", topic, op)).as("KafkaUser may %s topic %s", op, topic).isTrue();
            }
        }
        for (int pod = 0; pod < 3; pod++) {
            String group = "mqtt-kafka-bridge.mqtt-kafka-bridge-" + pod;
            assertThat(allows(user, "group", group, "Read")).as("KafkaUser may Read consumer group %s", group).isTrue();
        }
        assertThat(allows(user, "topic", "other.messages", "Read")).as("no ACL beyond the prefix").isFalse();
    }

    /**
     * The Grafana dashboard (k8s/grafana): unique panel ids, no overlapping panels, every query on the datasource
     * variable, and a Cluster row, below the other panels, charting the cluster metrics (Prometheus names of
     * {@link BridgeMetrics}'s cluster meters). Needs neither kubectl nor node.
     */
    @Test
    void grafana_dashboard_has_a_cluster_row() throws IOException {
        JsonNode dashboard = JSON.readTree(K8S.resolve("grafana/mqtt-kafka-bridge-dashboard.json").toFile());
        List<JsonNode> panels = new ArrayList<>();
        dashboard.at("/panels").forEach(panel -> {
            panels.add(panel);
            panel.at("/panels").forEach(panels::add); // those of a collapsed row
        });
        assertThat(panels.stream().map(p -> p.at("/id").asInt()).toList()).as("panel ids").doesNotHaveDuplicates()
                .doesNotContain(0);
        for (int i = 0; i < panels.size(); i++) {
            JsonNode a = panels.get(i).at("/gridPos");
            assertThat(a.at("/x").asInt() + a.at("/w").asInt()).as("%s: within 24 columns", panels.get(i).at("/title")).isLessThanOrEqualTo(24);
            for (int j = i + 1; j < panels.size(); j++) {
                JsonNode b = panels.get(j).at("/gridPos");
                boolean overlap = a.at("/x").asInt() < b.at("/x").asInt() + b.at("/w").asInt()
                        && b.at("/x").asInt() < a.at("/x").asInt() + a.at("/w").asInt()
                        && a.at("/y").asInt() < b.at("/y").asInt() + b.at("/h").asInt()
                        && b.at("/y").asInt() < a.at("/y").asInt() + a.at("/h").asInt();
                assertThat(overlap).as("%s overlaps %s", panels.get(i).at("/title"), panels.get(j).at("/title")).isFalse();
            }
        }
        assertThat(panels).filteredOn(p -> !p.at("/type").asText().equals("row")).allSatisfy(p -> {
            assertThat(p.at("/datasource/uid").asText()).as("%s: datasource", p.at("/title")).isEqualTo("${datasource}");
            assertThat(p.at("/targets")).as("%s: targets", p.at("/title")).isNotEmpty();
        });

        List<JsonNode> rows = panels.stream().filter(p -> p.at("/type").asText().equals("row")).toList();
        JsonNode row = rows.stream().filter(p -> p.at("/title").asText().equals("Cluster")).findFirst()
                .orElseThrow(() -> new AssertionError("no row \"Cluster\" in the dashboard"));
        assertThat(row.at("/collapsed").asBoolean(true)).as("the Cluster row is expanded").isFalse();
        int rowY = row.at("/gridPos/y").asInt();
        int nextRowY = rows.stream().mapToInt(r -> r.at("/gridPos/y").asInt()).filter(y -> y > rowY).min().orElse(Integer.MAX_VALUE);
        List<JsonNode> inRow = panels.stream().filter(p -> p != row && p.at("/gridPos/y").asInt() > rowY
                && p.at("/gridPos/y").asInt() < nextRowY).toList();
        assertThat(panels).filteredOn(p -> p.at("/gridPos/y").asInt() < rowY)
                .as("the Cluster row comes after the existing panels").isNotEmpty();
        List<String> expressions = inRow.stream().flatMap(p -> java.util.stream.StreamSupport.stream(p.at("/targets").spliterator(), false))
                .map(t -> t.at("/expr").asText()).toList();
        String nodes = prometheus(BridgeMetrics.CLUSTER_NODES);
        String forwarded = prometheus(BridgeMetrics.CLUSTER_FORWARDED) + "_total";
        String received = prometheus(BridgeMetrics.CLUSTER_RECEIVED) + "_total";
        String lag = prometheus(BridgeMetrics.CLUSTER_LAG);
        assertThat(expressions).as("the Cluster row's queries")
                .anySatisfy(e -> assertThat(e).startsWith("max(").contains(nodes))
                .anySatisfy(e -> assertThat(e).contains("sum by (pod) (rate(" + forwarded))
                .anySatisfy(e -> assertThat(e).contains("sum by (pod) (rate(" + received))
                .anySatisfy(e -> assertThat(e).contains(lag).contains("by (pod)"));
    }

    /** A Micrometer meter name as the Prometheus registry exports it (without a counter's _total). */
    private static String prometheus(String meter) {
        return meter.replace('.', '_');
    }

    /** The example routes are valid for the bridge itself (the same validation as at start-up). */
    @Test
    void routes_files_are_valid_routes() throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(K8S)) {
            files = walk.filter(p -> p.getFileName().toString().equals("routes.properties")).toList();
        }
        assertThat(files).isNotEmpty();
        for (Path file : files) {
            Properties props = new Properties();
            try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                props.load(reader);
            }
            Map<String, Map<String, String>> up = routes(props, RouteTable.UPLINK_PREFIX);
            Map<String, Map<String, String>> down = routes(props, RouteTable.DOWNLINK_PREFIX);
            Map<String, RouteSpecs.Uplink> uplink = new LinkedHashMap<>();
            up.forEach((name, f) -> uplink.put(name, new RouteSpecs.Uplink(f.get("mqtt-filter"), f.get("kafka-topic"), f.get("key"))));
            Map<String, RouteSpecs.Downlink> downlink = new LinkedHashMap<>();
            down.forEach((name, f) -> downlink.put(name, new RouteSpecs.Downlink(f.get("kafka-topic"), f.get("mqtt-topic"),
                    f.get("qos") == null ? null : Integer.valueOf(f.get("qos")),
                    f.get("retain") == null ? null : Boolean.valueOf(f.get("retain")))));
            RouteTable table = RouteTable.build(uplink, downlink);
            assertThat(table).as(file.toString()).isNotNull();
            assertThat(uplink).as(file + ": uplink routes").isNotEmpty();
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // The validator can fail: broken variants of the overlays
    // ------------------------------------------------------------------------------------------------------------

    static Stream<Arguments> broken() {
        return Stream.of(
                Arguments.of("misspelled-field", "overlays/prod", """
                        apiVersion: apps/v1
                        kind: StatefulSet
                        metadata:
                          name: mqtt-kafka-bridge
                        spec:
                          template:
                            spec:
                              containers:
                                - name: bridge
                                  readinesProbe:
                                    httpGet:
                                      path: /q/health/ready
                                      port: http
                        """, null, "unknown field /spec/template/spec/containers/0/readinesProbe"),
                Arguments.of("wrong-type", "overlays/prod", """
                        apiVersion: apps/v1
                        kind: StatefulSet
                        metadata:
                          name: mqtt-kafka-bridge
                        spec:
                          replicas: three
                        """, null, "/spec/replicas must be integer"),
                Arguments.of("bad-quantity", "overlays/dev", """
                        apiVersion: apps/v1
                        kind: StatefulSet
                        metadata:
                          name: mqtt-kafka-bridge
                        spec:
                          template:
                            spec:
                              containers:
                                - name: bridge
                                  resources:
                                    limits:
                                      memory: 512MB
                        """, null, "/resources/limits/memory must match format \"quantity\""),
                Arguments.of("probe-port", "overlays/prod", """
                        apiVersion: apps/v1
                        kind: StatefulSet
                        metadata:
                          name: mqtt-kafka-bridge
                        spec:
                          template:
                            spec:
                              containers:
                                - name: bridge
                                  readinessProbe:
                                    httpGet:
                                      port: htp
                        """, null, "FAIL ref: StatefulSet/mqtt-kafka-bridge container bridge: readinessProbe port htp"),
                Arguments.of("grace-period", "overlays/prod", """
                        apiVersion: apps/v1
                        kind: StatefulSet
                        metadata:
                          name: mqtt-kafka-bridge
                        spec:
                          template:
                            spec:
                              terminationGracePeriodSeconds: 20
                        """, null, "FAIL ref: StatefulSet/mqtt-kafka-bridge: terminationGracePeriodSeconds 20"),
                Arguments.of("undocumented-secret", "overlays/prod", """
                        apiVersion: apps/v1
                        kind: StatefulSet
                        metadata:
                          name: mqtt-kafka-bridge
                        spec:
                          template:
                            spec:
                              containers:
                                - name: bridge
                                  env:
                                    - name: EXTRA_TOKEN
                                      valueFrom:
                                        secretKeyRef:
                                          name: mqtt-kafka-bridge-extra
                                          key: token
                        """, null, "Secret mqtt-kafka-bridge-extra is required, but neither in the manifests nor listed"),
                Arguments.of("selector", "overlays/prod", """
                        apiVersion: v1
                        kind: Service
                        metadata:
                          name: mqtt-kafka-bridge-mqtt
                        spec:
                          selector:
                            app.kubernetes.io/name: mqtt-bridge
                        """, null, "FAIL ref: Service/mqtt-kafka-bridge-mqtt: selector"),
                Arguments.of("journal-larger-than-volume", "overlays/dev", """
                        apiVersion: apps/v1
                        kind: StatefulSet
                        metadata:
                          name: mqtt-kafka-bridge
                        spec:
                          template:
                            spec:
                              containers:
                                - name: bridge
                                  env:
                                    - name: BRIDGE_JOURNAL_MAX_BYTES
                                      value: 2G
                        """, null, "FAIL ref: StatefulSet/mqtt-kafka-bridge: journal (BRIDGE_JOURNAL_MAX_BYTES 2G)"),
                Arguments.of("topic-without-kafkatopic", "overlays/strimzi", null, """
                        bridge.uplink.routes.location.mqtt-filter=devices/+/location
                        bridge.uplink.routes.location.kafka-topic=device-location
                        bridge.downlink.routes.commands.kafka-topic=device-commands
                        bridge.downlink.routes.commands.mqtt-topic=devices/{key}/commands
                        """, "FAIL ref: Strimzi: topic device-location of the routes has a KafkaTopic"),
                Arguments.of("cluster-name-without-topics", "overlays/strimzi", """
                        apiVersion: apps/v1
                        kind: StatefulSet
                        metadata:
                          name: mqtt-kafka-bridge
                        spec:
                          template:
                            spec:
                              containers:
                                - name: bridge
                                  env:
                                    - name: BRIDGE_CLUSTER_NAME
                                      value: site-b
                        """, null, "FAIL ref: Strimzi: cluster topic site-b.messages has a KafkaTopic"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("broken")
    void validator_rejects(String name, String base, String patch, String routes, String expected) throws Exception {
        Path dir = WORK.resolve("broken").resolve(name);
        Files.createDirectories(dir);
        StringBuilder kustomization = new StringBuilder("""
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources:
                  - %s
                """.formatted(dir.relativize(K8S.resolve(base)).toString().replace('\\', '/')));
        if (patch != null) {
            Files.writeString(dir.resolve("patch.yaml"), patch);
            kustomization.append("patches:\n  - path: patch.yaml\n");
        }
        if (routes != null) {
            Files.writeString(dir.resolve("routes.properties"), routes);
            kustomization.append("""
                    configMapGenerator:
                      - name: mqtt-kafka-bridge-config
                        behavior: merge
                        files:
                          - routes.properties
                    """);
        }
        Files.writeString(dir.resolve("kustomization.yaml"), kustomization);
        Path rendered = render(dir, "broken-" + name);
        Result result = validate(rendered);
        assertThat(result.exitCode()).as(result.output()).isEqualTo(1);
        assertThat(result.output()).contains(expected);
    }

    // ------------------------------------------------------------------------------------------------------------

    private record Result(int exitCode, String output) {
    }

    private static Path render(Path kustomization, String name) throws Exception {
        requireTools();
        Path out = WORK.resolve(name + ".yaml");
        Result result = run(List.of("kubectl", "kustomize", kustomization.toString()), out);
        assertThat(result.exitCode()).as("kubectl kustomize %s: %s", kustomization, result.output()).isZero();
        return out;
    }

    private static Result validate(Path rendered) throws Exception {
        Result result = run(List.of("node", VALIDATOR_DIR.resolve("validate.mjs").toString(),
                "--documented", K8S.resolve("README.md").toString(), rendered.toString()), null);
        System.out.println(result.output());
        return result;
    }

    /** Runs a command with HOME in target/ (kubectl writes a cache there); stdout to a file or into the result. */
    private static Result run(List<String> command, Path stdout) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).directory(ROOT.toFile());
        builder.environment().put("HOME", WORK.resolve("home").toString());
        Path log = Files.createTempFile(WORK, "run", ".log");
        try {
            if (stdout != null) {
                builder.redirectOutput(stdout.toFile()).redirectError(log.toFile());
            } else {
                builder.redirectErrorStream(true).redirectOutput(log.toFile());
            }
            Process process = builder.start();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail("timed out: " + command);
            }
            return new Result(process.exitValue(), Files.readString(log));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static boolean onPath(String executable) {
        String path = System.getenv("PATH");
        return path != null && Arrays.stream(path.split(java.io.File.pathSeparator))
                .map(dir -> Path.of(dir, executable))
                .anyMatch(Files::isExecutable);
    }

    private static List<JsonNode> objects(Path rendered) throws IOException {
        List<JsonNode> objects = new ArrayList<>();
        try (var it = YAML.readerFor(JsonNode.class).<JsonNode>readValues(rendered.toFile())) {
            while (it.hasNext()) {
                JsonNode node = it.next();
                if (node != null && !node.isNull() && !node.isMissingNode()) {
                    objects.add(node);
                }
            }
        }
        return objects;
    }

    private static List<String> kinds(List<JsonNode> objects) {
        return objects.stream().map(o -> o.at("/kind").asText()).toList();
    }

    private static JsonNode only(List<JsonNode> objects, String kind) {
        List<JsonNode> matching = objects.stream().filter(o -> o.at("/kind").asText().equals(kind)).toList();
        assertThat(matching).as(kind).hasSize(1);
        return matching.get(0);
    }

    private static JsonNode byName(List<JsonNode> objects, String kind, String name) {
        return objects.stream()
                .filter(o -> o.at("/kind").asText().equals(kind) && o.at("/metadata/name").asText().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError(kind + "/" + name + " not rendered"));
    }

    /** Whether an allow ACL of the KafkaUser (literal, prefix or *) grants the operation on the resource. */
    private static boolean allows(JsonNode user, String type, String name, String operation) {
        for (JsonNode acl : user.at("/spec/authorization/acls")) {
            JsonNode resource = acl.at("/resource");
            String pattern = resource.at("/name").asText();
            boolean matches = resource.at("/type").asText().equals(type)
                    && (pattern.equals("*") || (resource.at("/patternType").asText("literal").equals("prefix")
                            ? name.startsWith(pattern) : name.equals(pattern)));
            boolean granted = false;
            for (JsonNode op : acl.at("/operations")) {
                granted |= op.asText().equals(operation) || op.asText().equals("All");
            }
            if (acl.at("/type").asText("allow").equals("allow") && matches && granted) {
                return true;
            }
        }
        return false;
    }

    /** name → value, or "secret NAME/KEY" / "configmap NAME/KEY" for references. */
    private static Map<String, String> env(JsonNode container) {
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode e : container.at("/env")) {
            JsonNode secret = e.at("/valueFrom/secretKeyRef");
            JsonNode configMap = e.at("/valueFrom/configMapKeyRef");
            String value = !secret.isMissingNode() ? "secret " + secret.at("/name").asText() + "/" + secret.at("/key").asText()
                    : !configMap.isMissingNode() ? "configmap " + configMap.at("/name").asText() + "/" + configMap.at("/key").asText()
                    : e.at("/value").asText();
            env.put(e.at("/name").asText(), value);
        }
        return env;
    }

    /** {@code prefix<name>.<field>=value} → name → field → value. */
    private static Map<String, Map<String, String>> routes(Properties props, String prefix) {
        Map<String, Map<String, String>> routes = new LinkedHashMap<>();
        for (String key : props.stringPropertyNames()) {
            if (key.startsWith(prefix)) {
                String rest = key.substring(prefix.length());
                int dot = rest.indexOf('.');
                if (dot > 0) {
                    routes.computeIfAbsent(rest.substring(0, dot), n -> new LinkedHashMap<>())
                            .put(rest.substring(dot + 1), props.getProperty(key));
                }
            }
        }
        return routes;
    }
}
