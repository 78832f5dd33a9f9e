package io.mqttkafkabridge.it;

import static io.mqttkafkabridge.it.Devices.unique;
import static io.mqttkafkabridge.it.Devices.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.TrustManagerFactory;

import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;

import io.mqttkafkabridge.fault.Processes;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * MQTT over TLS from PEM files made by openssl (a test CA, a server certificate for 127.0.0.1 whose key is in the
 * PKCS#1 form, and a client certificate with CN alice): client certificates optional, the CN taken as the user name,
 * anonymous clients refused, bob with a password. Clients: the HiveMQ client, mosquitto_pub, and the Eclipse Paho
 * JavaScript client in Chromium over WebSocket and WebSocket over TLS (same certificate).
 */
@QuarkusTest
@TestProfile(TlsTest.Tls.class)
@WithTestResource(KafkaTestResource.class)
class TlsTest {

    static final Path DIR = Path.of("target", "tls-test").toAbsolutePath();

    /** Certificates in target/tls-test, made once per run; ports shared through system properties. */
    public static class Tls implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            makeCertificates();
            return Map.ofEntries(
                    Map.entry("bridge.broker.tls-port", port("tls")),
                    Map.entry("bridge.broker.websocket-port", port("ws")),
                    Map.entry("bridge.broker.websocket-tls-port", port("wss")),
                    Map.entry("bridge.broker.tls-cert-file", DIR.resolve("server.crt").toString()),
                    Map.entry("bridge.broker.tls-key-file", DIR.resolve("server-pkcs1.key").toString()),
                    Map.entry("bridge.broker.tls-client-auth", "optional"),
                    Map.entry("bridge.broker.tls-client-ca-file", DIR.resolve("ca.crt").toString()),
                    Map.entry("bridge.broker.tls-cn-as-username", "true"),
                    Map.entry("bridge.security.allow-anonymous", "false"),
                    Map.entry("bridge.security.password-file", DIR.resolve("passwd").toString()),
                    Map.entry("bridge.security.acl-file", DIR.resolve("acl").toString()));
        }
    }

    static String port(String name) {
        return System.getProperties().computeIfAbsent("tls-test." + name, k -> Integer.toString(Processes.freePort())).toString();
    }

    static synchronized void makeCertificates() {
        if (Files.exists(DIR.resolve("alice.crt"))) {
            return;
        }
        try {
            Files.createDirectories(DIR);
            Files.write(DIR.resolve("passwd"), List.of(BrokerSecurityTest.BOB));
            Files.write(DIR.resolve("acl"), List.of("user alice", "topic readwrite devices/alice/#",
                    "topic readwrite browser/#", "user bob", "topic read #",
                    "topic readwrite browser/#"));
            Files.writeString(DIR.resolve("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
            openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
                    "-subj", "/CN=bridge-test-ca");
            openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
            openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out",
                    "server.crt", "-days", "2", "-extfile", "san.ext");
            openssl("rsa", "-in", "server.key", "-traditional", "-out", "server-pkcs1.key");
            openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "alice.key", "-out", "alice.csr", "-subj", "/CN=alice");
            openssl("x509", "-req", "-in", "alice.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out",
                    "alice.crt", "-days", "2");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void openssl(String... args) throws IOException {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        try {
            Processes.Result result = Processes.run(command, DIR, java.time.Duration.ofSeconds(30));
            if (result.exit() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed:\n" + result.output());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Mqtt3BlockingClient bobOverTls() throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream ca = Files.newInputStream(DIR.resolve("ca.crt"))) {
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(ca));
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        Mqtt3BlockingClient bob = Devices.client(Integer.parseInt(port("tls")), unique("bob")).sslConfig()
                .trustManagerFactory(factory).applySslConfig().buildBlocking();
        bob.connectWith().simpleAuth().username("bob").password(utf8("p@ss:word")).applySimpleAuth().send();
        return bob;
    }

    private static Processes.Result mosquittoPub(String topic, String message, boolean withCertificate) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("mosquitto_pub", "-h", "127.0.0.1", "-p", port("tls"),
                "-i", unique("cli"), "--cafile", DIR.resolve("ca.crt").toString(), "-q", "1", "-t", topic, "-m", message));
        if (withCertificate) {
            command.addAll(List.of("--cert", DIR.resolve("alice.crt").toString(), "--key", DIR.resolve("alice.key").toString()));
        }
        return Processes.run(command, null, java.time.Duration.ofSeconds(20));
    }

    @Test
    void a_password_client_and_a_certificate_client_whose_cn_is_the_user_name_meet_over_tls() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/mosquitto_pub")),
                "Debian package mosquitto-clients");
        Mqtt3BlockingClient bob = bobOverTls();
        try (Mqtt3BlockingClient.Mqtt3Publishes received = bob.publishes(MqttGlobalPublishFilter.ALL)) {
            bob.subscribeWith().topicFilter("devices/#").qos(MqttQos.AT_LEAST_ONCE).send();

            // alice: no user name, no password; her certificate says CN=alice, and the ACL lets alice write devices/alice/#
            assertThat(mosquittoPub("devices/bob/door", "forged", true).exit()).as("acknowledged, dropped").isZero();
            Processes.Result published = mosquittoPub("devices/alice/door", "open", true);
            assertThat(published.exit()).as(published.output()).isZero();

            Optional<Mqtt3Publish> message = received.receive(10, TimeUnit.SECONDS);
            assertThat(message).isPresent();
            assertThat(message.get().getTopic().toString()).isEqualTo("devices/alice/door");
            assertThat(received.receive(500, TimeUnit.MILLISECONDS)).as("the denied one never arrives").isEmpty();

            // without a certificate and without a user name: anonymous, which is refused here
            Processes.Result anonymous = mosquittoPub("devices/alice/door", "x", false);
            assertThat(anonymous.exit()).isNotZero();
            assertThat(anonymous.output()).containsIgnoringCase("not authori");
        } finally {
            bob.disconnect();
        }
    }

    @Test
    void the_plain_listener_keeps_working_beside_tls() throws Exception {
        Mqtt3BlockingClient bob = bobOverTls();
        bob.disconnect();
        Mqtt3BlockingClient plain = Devices.client(Devices.mqttPort(brokerApi), unique("plain")).buildBlocking();
        plain.connectWith().simpleAuth().username("bob").password(utf8("p@ss:word")).applySimpleAuth().send();
        plain.disconnect();
    }

    @io.quarkus.test.common.http.TestHTTPResource("/")
    java.net.URI console;

    @io.quarkus.test.common.http.TestHTTPResource("/api/v1/broker")
    java.net.URI brokerApi;

    @Test
    void the_paho_javascript_client_in_chromium_connects_subscribes_publishes_and_receives_over_ws_and_wss() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of(System.getenv().getOrDefault("CHROMIUM",
                "/usr/bin/chromium"))), "Debian's chromium is not installed: the browser test is skipped");
        Path script = Path.of("src", "test", "browser", "paho-check.mjs").toAbsolutePath();
        assertThat(script.getParent().resolve("node_modules").resolve("paho-mqtt"))
                .as("npm install in src/test/browser (the browser-tests Maven profile does it)").exists();
        ProcessBuilder builder = new ProcessBuilder("node", script.toString(), console.toString(), "bob", "p@ss:word",
                "ws://127.0.0.1:" + port("ws") + "/mqtt", "wss://127.0.0.1:" + port("wss") + "/mqtt")
                .redirectErrorStream(true);
        // over wss the browser presents alice's certificate: the listener asks for one (tls-client-auth=optional)
        builder.environment().put("CLIENT_CERT", DIR.resolve("alice.crt").toString());
        builder.environment().put("CLIENT_KEY", DIR.resolve("alice.key").toString());
        Process node = builder.start();
        assertThat(node.waitFor(90, TimeUnit.SECONDS)).isTrue();
        String output = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        System.out.println(output);
        assertThat(node.exitValue()).as(output).isZero();
        assertThat(output).contains("OK ws://127.0.0.1:" + port("ws") + "/mqtt hello from Paho JS over ws ")
                .contains("OK wss://127.0.0.1:" + port("wss") + "/mqtt hello from Paho JS over wss ");
    }
}
