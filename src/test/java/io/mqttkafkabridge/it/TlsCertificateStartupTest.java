package io.mqttkafkabridge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainLauncher;
import io.quarkus.test.junit.main.QuarkusMainTest;

/**
 * A certificate file that holds no certificate: the bridge refuses to start and names the file and its key (Moquette,
 * left to itself, would log an error and run without TLS).
 */
@QuarkusMainTest
@TestProfile(TlsCertificateStartupTest.NotACertificate.class)
class TlsCertificateStartupTest {

    /** pom.xml as certificate and key. */
    public static class NotACertificate implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("bridge.broker.tls-port", "0", "bridge.broker.websocket-tls-port", "-1",
                    "bridge.broker.tls-cert-file", "pom.xml", "bridge.broker.tls-key-file", "pom.xml");
        }
    }

    @Test
    void a_certificate_that_cannot_be_loaded_fails_start_up_naming_the_file(QuarkusMainLauncher launcher) {
        LaunchResult result = launcher.launch();

        assertThat(result.exitCode()).isNotZero();
        assertThat(result.getOutput() + result.getErrorOutput())
                .containsPattern("\\S*pom.xml \\(bridge.broker.tls-cert-file\\) holds no PEM certificate");
    }
}
