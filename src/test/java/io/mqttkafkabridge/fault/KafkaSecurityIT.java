package io.mqttkafkabridge.fault;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;

/**
 * The packaged bridge against a Kafka broker secured as production runs it (the strimzi overlay): SASL_SSL with
 * SCRAM-SHA-512, the broker's certificate signed by a CA made with openssl here, the bridge configured by nothing
 * but {@code KAFKA_*} environment variables. Every Kafka client of the bridge must reach it: the uplink producer,
 * the downlink consumer, the topic probe and health (admin), the downlink lag meter (admin) and the cluster's
 * topics, readers and writer. Then the two configuration errors: a wrong password and a certificate the truststore
 * does not trust make readiness DOWN, say which in the log, and do not end the process. One broker for the class,
 * the bridges one after the other.
 */
class KafkaSecurityIT {

    private static final String ADMIN = "admin";
    private static final String ADMIN_PASSWORD = "admin-pw-6b1f0c2e";
    private static final String BRIDGE_USER = "mqtt-kafka-bridge";
    /** A user of its own for the wrong-password test, whose password that test then changes on Kafka's side. */
    private static final String ROTATED_USER = "mqtt-kafka-bridge-rotated";
    private static final String ROTATED_OLD_PASSWORD = "rotated-pw-7f30d1b9";
    private static final String BRIDGE_PASSWORD = "bridge-pw-9d3a77c4";
    private static final String WRONG_PASSWORD = "wrong-pw-51e2b8aa";
    private static final String KEYSTORE_PASSWORD = "keystore-pw-0c4f21";
    private static final String UPLINK = "secure-uplink";
    private static final String MISSING = "secure-missing";
    private static final String DEAD_LETTER = "secure-dead-letter";
    private static final String DOWNLINK = "secure-downlink";
    private static final String CLUSTER = "secure";

    private static Path dir;
    private static KafkaCertificates certificates;
    private static KafkaProcess kafka;

    @BeforeAll
    static void startKafka() throws Exception {
        dir = Processes.scratchDir("kafka-security");
        certificates = KafkaCertificates.create(dir.resolve("tls"), KEYSTORE_PASSWORD);
        LinkedHashMap<String, String> users = new LinkedHashMap<>();
        users.put(ADMIN, ADMIN_PASSWORD);
        users.put(BRIDGE_USER, BRIDGE_PASSWORD);
        users.put(ROTATED_USER, ROTATED_OLD_PASSWORD);
        kafka = KafkaProcess.saslSsl(dir, certificates, users);
        kafka.start();
        try (Admin admin = Admin.create(client())) {
            // the brokers do not create topics on first use; MISSING stays missing
            admin.createTopics(List.of(new NewTopic(UPLINK, 1, (short) 1), new NewTopic(DEAD_LETTER, 1, (short) 1),
                    new NewTopic(DOWNLINK, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stopKafka() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
    }

    /** The test's own Kafka clients: SASL_SSL as the admin user, trusting the test CA. */
    private static Properties client() {
        Properties props = new Properties();
        props.put("bootstrap.servers", kafka.bootstrapServers());
        props.put("security.protocol", "SASL_SSL");
        props.put("sasl.mechanism", "SCRAM-SHA-512");
        props.put("sasl.jaas.config", jaas(ADMIN, ADMIN_PASSWORD));
        props.put("ssl.truststore.type", "PEM");
        props.put("ssl.truststore.location", certificates.ca().toString());
        return props;
    }

    private static String jaas(String user, String password) {
        return SaslSslKafkaMain.SCRAM_MODULE + " required username=\"" + user + "\" password=\"" + password + "\";";
    }

    /**
     * A bridge configured for Kafka as the strimzi overlay configures it: KAFKA_* environment variables only; with
     * the cluster on, as in the prod and strimzi overlays, its topics, readers and writer are Kafka clients too.
     */
    private static BridgeProcess bridge(String name, String password, Path trusted, boolean cluster) throws Exception {
        return bridge(name, BRIDGE_USER, password, trusted, cluster);
    }

    private static BridgeProcess bridge(String name, String user, String password, Path trusted, boolean cluster)
            throws Exception {
        return new BridgeProcess(Files.createDirectories(dir.resolve(name)), kafka.bootstrapServers(), UPLINK)
                .env("HOSTNAME", name)
                .env("BRIDGE_BROKER_PERSISTENCE", "memory")
                .env("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
                .env("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
                .env("KAFKA_SASL_JAAS_CONFIG", jaas(user, password))
                .env("KAFKA_SSL_TRUSTSTORE_TYPE", "PEM")
                .env("KAFKA_SSL_TRUSTSTORE_LOCATION", trusted.toString())
                .env("BRIDGE_UPLINK_ROUTES_MISSING_MQTT_FILTER", "missing/#")
                .env("BRIDGE_UPLINK_ROUTES_MISSING_KAFKA_TOPIC", MISSING)
                .env("BRIDGE_UPLINK_DEAD_LETTER_TOPIC", DEAD_LETTER)
                .env("BRIDGE_DOWNLINK_ROUTES_CMD_KAFKA_TOPIC", DOWNLINK)
                .env("BRIDGE_DOWNLINK_ROUTES_CMD_MQTT_TOPIC", "cmd/{key}")
                .env("MP_MESSAGING_INCOMING_DOWNLINK_AUTO_OFFSET_RESET", "earliest")
                .env("BRIDGE_CLUSTER_ENABLED", Boolean.toString(cluster))
                .env("BRIDGE_CLUSTER_NAME", CLUSTER)
                .env("BRIDGE_CLUSTER_MESSAGES_PARTITIONS", "1")
                .env("BRIDGE_CLUSTER_REPLICATION_FACTOR", "1");
    }

    private static Mqtt3BlockingClient mqtt(BridgeProcess bridge, String id) {
        Mqtt3BlockingClient client = MqttClient.builder().useMqttVersion3().identifier(id).serverHost("127.0.0.1")
                .serverPort(bridge.mqttPort()).buildBlocking();
        client.connect();
        return client;
    }

    /** Every record of {@code topic} from the start, until {@code enough} have come or {@code timeout} has passed. */
    private static List<ConsumerRecord<String, String>> read(String topic, int enough, Duration timeout) {
        return read(topic, records -> records.size() >= enough, timeout);
    }

    /** Every record of {@code topic} from the start, until they are {@code enough} or {@code timeout} has passed. */
    private static List<ConsumerRecord<String, String>> read(String topic,
            java.util.function.Predicate<List<ConsumerRecord<String, String>>> enough, Duration timeout) {
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(client(), new StringDeserializer(),
                new StringDeserializer())) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!enough.test(records) && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
            }
        }
        return records;
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** Polls readiness until it answers {@code status}, within {@code timeout}; returns the last answer. */
    private static HttpResponse<String> awaitReadiness(BridgeProcess bridge, int status, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        HttpResponse<String> last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = bridge.get("/q/health/ready");
                if (last.statusCode() == status) {
                    return last;
                }
            } catch (java.io.IOException notYet) {
                // HTTP not listening yet
            }
            assertThat(bridge.isAlive()).as("the bridge is running:\n" + bridge.logTail()).isTrue();
            TimeUnit.MILLISECONDS.sleep(200);
        }
        throw new AssertionError("readiness did not answer " + status + " within " + timeout + "; last: "
                + (last == null ? "none" : last.statusCode() + " " + last.body()) + "\n" + bridge.logTail());
    }

    /** The health check {@code name} in a /q/health answer. */
    private static com.fasterxml.jackson.databind.JsonNode check(String body, String name) throws Exception {
        for (com.fasterxml.jackson.databind.JsonNode check : new com.fasterxml.jackson.databind.ObjectMapper().readTree(body)
                .path("checks")) {
            if (name.equals(check.path("name").asText())) {
                return check;
            }
        }
        throw new AssertionError("no check '" + name + "' in " + body);
    }

    /** The value of a Prometheus sample line. */
    private static double value(String sample) {
        return Double.parseDouble(sample.substring(sample.lastIndexOf(' ') + 1));
    }

    private static long count(String text, String part) {
        return text.lines().filter(line -> line.contains(part)).count();
    }

    @Test
    void uplink_downlink_probe_lag_meter_and_cluster_work_over_sasl_ssl() throws Exception {
        try (BridgeProcess bridge = bridge("bridge-0", BRIDGE_PASSWORD, certificates.ca(), true)) {
            bridge.startUntilReady();
            assertThat(check(bridge.get("/q/health/ready").body(), "kafka-access").path("status").asText()).isEqualTo("UP");

            // uplink: an MQTT publish is a record in Kafka
            Mqtt3BlockingClient device = mqtt(bridge, "device-1");
            device.publishWith().topic("load/device-1/data").payload("temperature=21".getBytes(StandardCharsets.UTF_8))
                    .qos(MqttQos.AT_LEAST_ONCE).send();
            // (other tests write to the same topic)
            List<ConsumerRecord<String, String>> uplink = read(UPLINK, records -> records.stream()
                    .anyMatch(r -> "device-1".equals(r.key())), Duration.ofSeconds(30)).stream()
                    .filter(r -> "device-1".equals(r.key())).toList();
            assertThat(uplink).as("records of device-1 in " + UPLINK).hasSize(1);
            assertThat(uplink.get(0).value()).isEqualTo("temperature=21");

            // topic probe: MISSING does not exist and is not created on first use, which only the probe (admin
            // client) can tell; the record goes to the dead-letter topic instead of waiting for the topic forever
            device.publishWith().topic("missing/x").payload("lost?".getBytes(StandardCharsets.UTF_8))
                    .qos(MqttQos.AT_LEAST_ONCE).send();
            List<ConsumerRecord<String, String>> dead = read(DEAD_LETTER, 1, Duration.ofSeconds(30));
            assertThat(dead).as("records in " + DEAD_LETTER).hasSize(1);
            assertThat(header(dead.get(0), "bridge.original-topic")).isEqualTo(MISSING);
            assertThat(dead.get(0).value()).isEqualTo("lost?");

            // downlink: a record in Kafka reaches an MQTT subscriber
            Mqtt3BlockingClient subscriber = mqtt(bridge, "subscriber-1");
            try (Mqtt3BlockingClient.Mqtt3Publishes publishes = subscriber.publishes(MqttGlobalPublishFilter.ALL)) {
                subscriber.subscribeWith().topicFilter("cmd/#").qos(MqttQos.AT_LEAST_ONCE).send();
                try (KafkaProducer<String, String> producer = new KafkaProducer<>(client(), new StringSerializer(),
                        new StringSerializer())) {
                    producer.send(new ProducerRecord<>(DOWNLINK, "device-1", "reboot")).get(30, TimeUnit.SECONDS);
                }
                Mqtt3Publish command = publishes.receive(30, TimeUnit.SECONDS).orElse(null);
                assertThat(command).as("a downlink message within 30 s:\n" + bridge.logTail()).isNotNull();
                assertThat(command.getTopic().toString()).isEqualTo("cmd/device-1");
                assertThat(new String(command.getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("reboot");
            }

            // lag meter (admin client): a gauge for the downlink partition once the group has committed (every 5 s),
            // 0 once the delivered record's offset is committed
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            List<String> lag = List.of();
            while ((lag.isEmpty() || value(lag.get(0)) != 0) && System.nanoTime() < deadline) {
                TimeUnit.MILLISECONDS.sleep(500);
                lag = bridge.metricSeries("bridge_downlink_lag{").stream()
                        .filter(line -> line.contains("topic=\"" + DOWNLINK + "\"")).toList();
            }
            assertThat(lag).as("bridge_downlink_lag of " + DOWNLINK).hasSize(1);
            assertThat(value(lag.get(0))).isZero();

            // cluster: its topics created over SASL_SSL, its state loaded (MKB0700), its heartbeat written
            try (Admin admin = Admin.create(client())) {
                Set<String> topics = admin.listTopics().names().get(30, TimeUnit.SECONDS);
                assertThat(topics).contains(CLUSTER + ".messages", CLUSTER + ".subscriptions", CLUSTER + ".sessions",
                        CLUSTER + ".retained", CLUSTER + ".nodes");
            }
            assertThat(Files.readString(bridge.logFile())).contains("MKB0700");
            List<ConsumerRecord<String, String>> nodes = read(CLUSTER + ".nodes", records -> records.stream()
                    .anyMatch(r -> "bridge-0".equals(r.key())), Duration.ofSeconds(30));
            assertThat(nodes).extracting(ConsumerRecord::key).contains("bridge-0");

            assertThat(check(awaitReadiness(bridge, 200, Duration.ofSeconds(5)).body(), "kafka-access").path("status").asText())
                    .isEqualTo("UP");
            device.disconnect();
            subscriber.disconnect();
            String log = Files.readString(bridge.logFile());
            assertThat(log).doesNotContain("MKB0502", "MKB0503", "MKB0500", BRIDGE_PASSWORD);
            System.out.printf("SECURITY sasl-ssl  uplink=%d dead-lettered=%d downlink=1 lag-series=%s cluster-nodes=%s%n",
                    uplink.size(), dead.size(), lag, nodes.stream().map(ConsumerRecord::key).distinct().toList());
        }
    }

    @Test
    void a_wrong_password_makes_readiness_down_without_a_restart_or_the_password_in_the_log() throws Exception {
        try (BridgeProcess bridge = bridge("bridge-wrong-password", ROTATED_USER, WRONG_PASSWORD, certificates.ca(), true)) {
            String line = refused(bridge, "MKB0502");
            assertThat(line).contains("Kafka refused the SASL credentials of user '" + ROTATED_USER
                    + "' (kafka.sasl.jaas.config, mechanism SCRAM-SHA-512)");

            // then Kafka is given the password the bridge has (a rotation that reached Kafka last): the bridge goes on
            // by itself, without a restart: Kafka reachable again (MKB0501), the cluster loaded, the broker listening
            try (Admin admin = Admin.create(client())) {
                admin.alterUserScramCredentials(List.of(new org.apache.kafka.clients.admin.UserScramCredentialUpsertion(
                        ROTATED_USER, new org.apache.kafka.clients.admin.ScramCredentialInfo(
                                org.apache.kafka.clients.admin.ScramMechanism.SCRAM_SHA_512, 8192), WRONG_PASSWORD)))
                        .all().get(30, TimeUnit.SECONDS);
            }
            HttpResponse<String> ready = awaitReadiness(bridge, 200, Duration.ofSeconds(60));
            assertThat(check(ready.body(), "kafka-access").path("status").asText()).isEqualTo("UP");
            String log = Files.readString(bridge.logFile());
            assertThat(log).contains("MKB0501", "MKB0700", "MKB0001");
            assertThat(count(log, "MKB0502:")).isEqualTo(1);
            assertThat(log).doesNotContain(WRONG_PASSWORD, ROTATED_OLD_PASSWORD, SaslSslKafkaMain.SCRAM_MODULE);
            System.out.printf("SECURITY MKB0502 then the password changed on Kafka: ready again without a restart%n");
        }
    }

    @Test
    void an_untrusted_certificate_makes_readiness_down_without_a_restart() throws Exception {
        try (BridgeProcess bridge = bridge("bridge-untrusted", BRIDGE_PASSWORD, certificates.otherCa(), true)) {
            String line = refused(bridge, "MKB0503");
            assertThat(line).contains("Kafka's TLS certificate is not trusted (kafka.ssl.truststore.*)");
        }
    }

    /**
     * The CA from Quarkus's TLS registry instead of {@code ssl.truststore.*}: {@code kafka.tls-configuration-name}
     * names a {@code quarkus.tls.<name>.*} configuration, and Quarkus gives the Kafka clients an SSL engine factory
     * that reads it by that name. The bridge's own clients (admin, cluster readers and writer) need the name too.
     */
    @Test
    void the_ca_can_come_from_the_quarkus_tls_registry() throws Exception {
        try (BridgeProcess bridge = bridge("bridge-tls-registry", BRIDGE_PASSWORD, certificates.ca(), true)
                .withoutEnv("KAFKA_SSL_TRUSTSTORE_TYPE")
                .withoutEnv("KAFKA_SSL_TRUSTSTORE_LOCATION")
                .env("KAFKA_TLS_CONFIGURATION_NAME", "kafka")
                .env("QUARKUS_TLS__KAFKA__TRUST_STORE_PEM_CERTS", certificates.ca().toString())) {
            bridge.startUntilReady();
            assertThat(Files.readString(bridge.logFile())).contains("MKB0700").doesNotContain("MKB0502", "MKB0503", "MKB0500");
            Mqtt3BlockingClient device = mqtt(bridge, "device-2");
            device.publishWith().topic("load/device-2/data").payload("via-registry".getBytes(StandardCharsets.UTF_8))
                    .qos(MqttQos.AT_LEAST_ONCE).send();
            device.disconnect();
            assertThat(read(UPLINK, records -> records.stream().anyMatch(r -> r.value().equals("via-registry")),
                    Duration.ofSeconds(30))).extracting(ConsumerRecord::value).contains("via-registry");
            assertThat(check(bridge.get("/q/health").body(), "kafka").path("status").asText()).isEqualTo("UP");
        }
    }

    /** Fails as soon as the bridge exits before {@code until} (System.nanoTime()). */
    private static void awaitAlive(BridgeProcess bridge, long until) throws Exception {
        while (System.nanoTime() < until) {
            assertThat(bridge.isAlive()).as("the bridge keeps running:\n" + bridge.logTail()).isTrue();
            TimeUnit.MILLISECONDS.sleep(500);
        }
        assertThat(bridge.isAlive()).as("the bridge keeps running:\n" + bridge.logTail()).isTrue();
    }

    /**
     * Starts a bridge (with the cluster on) that Kafka turns away and checks what an operator sees: readiness DOWN
     * (503) naming the check, the log line {@code id} once, the process still running 20 s later with liveness UP,
     * and no secret in the log. The cluster's start-up wait for Kafka ends after {@code bridge.cluster.start-timeout}
     * (5 s here) with an exit when Kafka does not answer; a refusal must not end it (the restart would only meet it
     * again). Returns the log line.
     */
    private static String refused(BridgeProcess bridge, String id) throws Exception {
        bridge.env("BRIDGE_CLUSTER_START_TIMEOUT", "5s");
        long launched = System.nanoTime();
        bridge.launch();
        // 503 at once (the cluster's state is not loaded); kafka-access DOWN after the first check of Kafka
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        HttpResponse<String> ready = awaitReadiness(bridge, 503, Duration.ofSeconds(60));
        while (!check(ready.body(), "kafka-access").path("status").asText().equals("DOWN") && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(200);
            ready = awaitReadiness(bridge, 503, Duration.ofSeconds(5));
        }
        com.fasterxml.jackson.databind.JsonNode access = check(ready.body(), "kafka-access");
        assertThat(access.path("status").asText()).as(ready.body()).isEqualTo("DOWN");
        assertThat(access.path("data").path("reason").asText()).contains(id);
        assertThat(check(ready.body(), "mqtt-broker").path("data").path("reason").asText()).contains("loading the cluster's");
        Processes.awaitLog(bridge.process(), bridge.logFile(), id, Duration.ofSeconds(30));

        awaitAlive(bridge, launched + TimeUnit.SECONDS.toNanos(20));
        assertThat(bridge.get("/q/health/live").statusCode()).as("liveness").isEqualTo(200);
        assertThat(bridge.get("/q/health/ready").statusCode()).as("readiness").isEqualTo(503);

        String log = Files.readString(bridge.logFile());
        assertThat(count(log, id + ":")).as(id + " once, not on every retry:\n" + log).isEqualTo(1);
        assertThat(log).contains("MKB0701").doesNotContain("MKB0001", "MKB0008");
        assertThat(count(log, "MKB0701:")).as("MKB0701 when the reason changes, not every 2 s:\n" + log).isLessThanOrEqualTo(2);
        assertThat(log).doesNotContain(WRONG_PASSWORD, BRIDGE_PASSWORD, KEYSTORE_PASSWORD, ADMIN_PASSWORD,
                ROTATED_OLD_PASSWORD, SaslSslKafkaMain.SCRAM_MODULE);
        String line = log.lines().filter(l -> l.contains(id + ":")).findFirst().orElseThrow();
        System.out.printf("SECURITY %s  readiness=503 alive-after-20s=true log: %s%n", id, line);
        return line;
    }
}
