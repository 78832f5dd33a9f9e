package io.mqttkafkabridge.it;

import static io.mqttkafkabridge.it.Devices.unique;
import static io.mqttkafkabridge.it.Devices.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3ConnAckException;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3SubAckException;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAckReturnCode;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import com.hivemq.client.mqtt.mqtt3.message.subscribe.suback.Mqtt3SubAckReturnCode;

import io.mqttkafkabridge.fault.Processes;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * Users and topic permissions from Mosquitto's files: a password file whose lines {@code mosquitto_passwd} wrote
 * (alice: s3cret, bob: p@ss:word; dave is added while the bridge runs) and an ACL file. Anonymous clients are not
 * allowed here.
 */
@QuarkusTest
@TestProfile(BrokerSecurityTest.Secured.class)
@WithTestResource(KafkaTestResource.class)
class BrokerSecurityTest {

    static final Path DIR = Path.of("target", "security-test");
    static final String ALICE = "alice:$7$101$aSzpIhcvFZX0cNg1$ZvNjEVSRT7zrp/oWtqqIw54xcneV/xEt6ITFLtNKuL1KXfVP7tMOww8zXCLqZXC1yog6vLQy/ahb+VY0blaofQ==";
    static final String BOB = "bob:$7$101$Lhm/ixYUOx8yak7c$73Kbs4CZB/B7kWqRy3dmUDswBAKB3iBQCboFobqfaVYiBu7J3TRxQnqUQMwZteXKHUF75BIyxUfTw10TMNByfA==";
    static final String DAVE = "dave:$7$101$wDfDh2bHlTDiIQo5$KDFuFJ+81+zm0jWyfpYi+ggA/sigTIpp2BLXOSN8OutlKGHEPjB+5GtxfDJesq9eEwc9RbrBqWiUhYjpo/5hbw==";

    /** Password and ACL files in target/security-test, checked for changes every 200 ms. */
    public static class Secured implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                Files.createDirectories(DIR);
                Files.write(DIR.resolve("passwd"), List.of(ALICE, BOB));
                Files.write(DIR.resolve("acl"), List.of(
                        "# anonymous clients: none connect here",
                        "user alice",
                        "topic readwrite devices/alice/#",
                        "topic read devices/+/status",
                        "topic readwrite #",
                        "topic deny devices/bob/#",
                        "user bob",
                        "topic write devices/bob/#",
                        "topic read #",
                        "pattern readwrite clients/%c/#"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Map.of("bridge.security.allow-anonymous", "false",
                    "bridge.security.password-file", DIR.resolve("passwd").toString(),
                    "bridge.security.acl-file", DIR.resolve("acl").toString(),
                    "bridge.security.reload-interval", "200ms");
        }
    }

    @TestHTTPResource("/api/v1/broker")
    URI brokerApi;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    private LogCapture logs;

    @BeforeEach
    void captureLogs() {
        logs = LogCapture.start();
    }

    @AfterEach
    void stopCapture() {
        logs.close();
    }

    private Mqtt3BlockingClient client(String id) {
        return Devices.client(Devices.mqttPort(brokerApi), id).buildBlocking();
    }

    private Mqtt3BlockingClient login(String user, String password) {
        Mqtt3BlockingClient client = client(unique(user));
        client.connectWith().simpleAuth().username(user).password(utf8(password)).applySimpleAuth().send();
        return client;
    }

    private Mqtt3ConnAckReturnCode refusal(String user, String password) {
        Mqtt3BlockingClient client = client(unique("refused"));
        Mqtt3ConnAckException refused = catchThrowableOfType(Mqtt3ConnAckException.class, () -> {
            if (user == null) {
                client.connect();
            } else {
                client.connectWith().simpleAuth().username(user).password(utf8(password)).applySimpleAuth().send();
            }
        });
        assertThat(refused).as("CONNECT of " + user + " refused").isNotNull();
        return refused.getMqttMessage().getReturnCode();
    }

    @Test
    void a_wrong_password_gets_connack_4_an_unknown_user_or_anonymous_client_connack_5_and_no_secret_is_logged() {
        assertThat(refusal("alice", "wrong-secret")).isEqualTo(Mqtt3ConnAckReturnCode.BAD_USER_NAME_OR_PASSWORD);
        assertThat(refusal("mallory", "s3cret")).isEqualTo(Mqtt3ConnAckReturnCode.NOT_AUTHORIZED);
        assertThat(refusal(null, null)).isEqualTo(Mqtt3ConnAckReturnCode.NOT_AUTHORIZED);
        login("alice", "s3cret").disconnect();
        login("bob", "p@ss:word").disconnect();

        assertThat(PrometheusMetrics.value(metrics, "mqtt_connections_total{outcome=\"bad-credentials\"}")).isGreaterThanOrEqualTo(1);
        assertThat(PrometheusMetrics.value(metrics, "mqtt_connections_total{outcome=\"not-authorized\"}")).isGreaterThanOrEqualTo(2);
        assertThat(logs.lines()).anyMatch(line -> line.contains("not-authorized") && line.contains("mallory"));
        assertThat(logs.lines()).noneMatch(line -> line.contains("wrong-secret") || line.contains("s3cret")
                || line.contains("aSzpIhcvFZX0cNg1") || line.contains("p@ss:word"));
    }

    @Test
    void a_user_added_to_the_password_file_can_connect_without_a_restart() throws Exception {
        assertThat(refusal("dave", "pässwörd")).isEqualTo(Mqtt3ConnAckReturnCode.NOT_AUTHORIZED);

        // as a Kubernetes Secret update does: the new file replaces the old one in one step
        Path next = DIR.resolve("passwd.next");
        Files.write(next, List.of(ALICE, BOB, DAVE));
        Files.move(next, DIR.resolve("passwd"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            Mqtt3BlockingClient dave = login("dave", "pässwörd");
            dave.disconnect();
        });
        assertThat(refusal("dave", "passwort")).isEqualTo(Mqtt3ConnAckReturnCode.BAD_USER_NAME_OR_PASSWORD);
        assertThat(logs.lines()).anyMatch(line -> line.contains("bridge.security.password-file") && line.contains("3"));
    }

    @Test
    void a_subscription_to_everything_is_granted_and_each_message_is_checked_against_read_access_at_delivery() throws Exception {
        // as with Mosquitto: 'topic readwrite #' and 'topic deny devices/bob/#' let alice subscribe to '#', receive
        // everything else, and never devices/bob/...; only a filter the deny line covers whole is refused
        Mqtt3BlockingClient alice = login("alice", "s3cret");
        Mqtt3BlockingClient bob = login("bob", "p@ss:word");
        double deniedBefore = PrometheusMetrics.value(metrics, "mqtt_delivery_denied_total{reason=\"acl\"}");
        try (Mqtt3BlockingClient.Mqtt3Publishes received = alice.publishes(com.hivemq.client.mqtt.MqttGlobalPublishFilter.ALL)) {
            assertThat(alice.subscribeWith().topicFilter("#").qos(MqttQos.AT_LEAST_ONCE).send().getReturnCodes())
                    .containsExactly(Mqtt3SubAckReturnCode.SUCCESS_MAXIMUM_QOS_1);
            Mqtt3SubAckException denied = catchThrowableOfType(Mqtt3SubAckException.class,
                    () -> alice.subscribeWith().topicFilter("devices/bob/#").qos(MqttQos.AT_LEAST_ONCE).send());
            assertThat(denied).as("devices/bob/# is covered whole by the deny line").isNotNull();
            assertThat(denied.getMqttMessage().getReturnCodes()).containsExactly(Mqtt3SubAckReturnCode.FAILURE);

            bob.publishWith().topic("devices/bob/door").payload(utf8("bob's")).qos(MqttQos.AT_LEAST_ONCE).send();
            bob.publishWith().topic("devices/bob/status").payload(utf8("bob's too")).qos(MqttQos.AT_MOST_ONCE).send();
            alice.publishWith().topic("devices/alice/door").payload(utf8("alice's")).qos(MqttQos.AT_LEAST_ONCE).send();

            List<String> topics = new java.util.ArrayList<>();
            for (Optional<Mqtt3Publish> p = received.receive(10, TimeUnit.SECONDS); p.isPresent();
                    p = received.receive(500, TimeUnit.MILLISECONDS)) {
                if (!p.get().isRetain()) {
                    topics.add(p.get().getTopic().toString());
                }
            }
            assertThat(topics).containsExactly("devices/alice/door");
            assertThat(PrometheusMetrics.value(metrics, "mqtt_delivery_denied_total{reason=\"acl\"}") - deniedBefore)
                    .as("deliveries withheld").isEqualTo(2.0);
        } finally {
            alice.disconnect();
            bob.disconnect();
        }
        assertThat(PrometheusMetrics.value(metrics, "mqtt_subscribe_denied_total")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void a_denied_publish_is_acknowledged_dropped_and_counted_and_dollar_topics_are_closed_to_everyone() throws Exception {
        Mqtt3BlockingClient bob = login("bob", "p@ss:word");
        Mqtt3BlockingClient alice = login("alice", "s3cret");
        try (Mqtt3BlockingClient.Mqtt3Publishes received = bob.publishes(com.hivemq.client.mqtt.MqttGlobalPublishFilter.ALL)) {
            bob.subscribeWith().topicFilter("devices/#").qos(MqttQos.AT_LEAST_ONCE).send();
            double aclBefore = PrometheusMetrics.value(metrics, "mqtt_publish_denied_total{reason=\"acl\"}");
            double dollarBefore = PrometheusMetrics.value(metrics, "mqtt_publish_denied_total{reason=\"dollar-topic\"}");

            // when: alice publishes where she may not (QoS 1: the PUBACK comes, the message goes nowhere), then where she may
            alice.publishWith().topic("devices/bob/door").payload(utf8("forged")).qos(MqttQos.AT_LEAST_ONCE).send();
            alice.publishWith().topic("$SYS/broker/uptime").payload(utf8("forged")).qos(MqttQos.AT_LEAST_ONCE).send();
            alice.publishWith().topic("devices/alice/door").payload(utf8("open")).qos(MqttQos.AT_LEAST_ONCE).send();

            // then
            Optional<Mqtt3Publish> first = received.receive(10, TimeUnit.SECONDS);
            assertThat(first).isPresent();
            assertThat(first.get().getTopic().toString()).isEqualTo("devices/alice/door");
            assertThat(received.receive(500, TimeUnit.MILLISECONDS)).isEmpty();
            assertThat(PrometheusMetrics.value(metrics, "mqtt_publish_denied_total{reason=\"acl\"}")).isEqualTo(aclBefore + 1);
            assertThat(PrometheusMetrics.value(metrics, "mqtt_publish_denied_total{reason=\"dollar-topic\"}"))
                    .isEqualTo(dollarBefore + 1);
            assertThat(logs.lines()).anyMatch(line -> line.contains("devices/bob/door") && line.contains("acl"));
            // a denied publish is not journaled: Kafka (route devices/# -> it-audit) has alice's allowed one only
            List<String> audit = KafkaTopics.readUntil("it-audit", rs -> rs.stream()
                    .anyMatch(r -> "open".equals(new String(r.value(), java.nio.charset.StandardCharsets.UTF_8))), Duration.ofSeconds(30))
                    .stream().map(r -> new String(r.value(), java.nio.charset.StandardCharsets.UTF_8)).toList();
            assertThat(audit).contains("open").doesNotContain("forged");
        } finally {
            alice.disconnect();
            bob.disconnect();
        }
    }

    @Test
    void a_will_to_a_topic_the_client_may_not_publish_to_is_refused_at_connect_with_connack_5() {
        // Moquette 0.18.1's fix: a will is a publish when it fires, so it needs write access when it is set
        Mqtt3BlockingClient alice = client(unique("alice-will"));
        Mqtt3ConnAckException refused = catchThrowableOfType(Mqtt3ConnAckException.class, () -> alice.connectWith()
                .simpleAuth().username("alice").password(utf8("s3cret")).applySimpleAuth()
                .willPublish().topic("devices/bob/last-will").payload(utf8("gone")).applyWillPublish().send());
        assertThat(refused).isNotNull();
        assertThat(refused.getMqttMessage().getReturnCode()).isEqualTo(Mqtt3ConnAckReturnCode.NOT_AUTHORIZED);
        assertThat(logs.lines()).anyMatch(line -> line.contains("MKB0010") && line.contains("will topic 'devices/bob/last-will'"));

        Mqtt3BlockingClient allowed = client(unique("alice-will"));
        allowed.connectWith().simpleAuth().username("alice").password(utf8("s3cret")).applySimpleAuth()
                .willPublish().topic("devices/alice/last-will").payload(utf8("gone")).applyWillPublish().send();
        allowed.disconnect();
    }

    @Test
    void a_client_id_with_wildcards_cannot_widen_a_pattern_line() throws Exception {
        // 'pattern readwrite clients/%c/#': with client id '+' it would read 'clients/+/#', everybody's topics
        Mqtt3BlockingClient bob = client("+");
        bob.connectWith().simpleAuth().username("bob").password(utf8("p@ss:word")).applySimpleAuth().send();
        double deniedBefore = PrometheusMetrics.value(metrics, "mqtt_publish_denied_total{reason=\"acl\"}");
        try {
            bob.publishWith().topic("clients/victim/inbox").payload(utf8("forged")).qos(MqttQos.AT_LEAST_ONCE).send();
            assertThat(PrometheusMetrics.value(metrics, "mqtt_publish_denied_total{reason=\"acl\"}")).isEqualTo(deniedBefore + 1);
        } finally {
            bob.disconnect();
        }
    }

    @Test
    void pattern_lines_grant_each_client_its_own_topics() throws Exception {
        Mqtt3BlockingClient bob = client("bob-phone");
        bob.connectWith().simpleAuth().username("bob").password(utf8("p@ss:word")).applySimpleAuth().send();
        try {
            assertThat(bob.subscribeWith().topicFilter("clients/bob-phone/#").qos(MqttQos.AT_LEAST_ONCE).send()
                    .getReturnCodes()).containsExactly(Mqtt3SubAckReturnCode.SUCCESS_MAXIMUM_QOS_1);
        } finally {
            bob.disconnect();
        }
    }

    private static Processes.Result run(String... command) throws Exception {
        return Processes.run(List.of(command), null, Duration.ofSeconds(20));
    }

    @Test
    void mosquitto_clients_and_a_user_made_by_mosquitto_passwd_work_unchanged() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/mosquitto_pub"))
                && Files.isExecutable(Path.of("/usr/bin/mosquitto_passwd")), "Debian packages mosquitto and mosquitto-clients");
        String port = Integer.toString(Devices.mqttPort(brokerApi));

        // given: erin, added by mosquitto_passwd itself to the file the bridge reads
        Path copy = DIR.resolve("passwd.erin");
        Files.copy(DIR.resolve("passwd"), copy, StandardCopyOption.REPLACE_EXISTING);
        assertThat(run("mosquitto_passwd", "-b", copy.toString(), "erin", "correct horse").exit()).isZero();
        Files.move(copy, DIR.resolve("passwd"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

        // then
        Processes.Result wrong = run("mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-i", unique("cli"), "-u", "alice",
                "-P", "wrong", "-t", "devices/alice/cli", "-m", "x");
        assertThat(wrong.exit()).isNotZero();
        assertThat(wrong.output()).containsIgnoringCase("bad user name or password");
        Processes.Result anonymous = run("mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-i", unique("cli"),
                "-t", "devices/alice/cli", "-m", "x");
        assertThat(anonymous.output()).containsIgnoringCase("not authori");
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(300)).untilAsserted(() ->
                assertThat(run("mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-i", unique("cli"), "-u", "erin", "-P",
                        "correct horse", "-q", "1", "-t", "clients/x/cli", "-m", "x").exit()).isZero());
    }
}
