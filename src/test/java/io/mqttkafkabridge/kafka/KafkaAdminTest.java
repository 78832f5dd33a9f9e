package io.mqttkafkabridge.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;

import javax.net.ssl.SSLHandshakeException;

import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

/** What the bridge's own Kafka clients are given, and which failures are refusals rather than outages. */
class KafkaAdminTest {

    private static final String JAAS = "org.apache.kafka.common.security.scram.ScramLoginModule required "
            + "username=\"bridge\" password=\"s3cret\";";

    @Test
    void security_settings_and_the_tls_registry_name_reach_every_client_settings_of_other_clients_do_not() {
        KafkaAdmin admin = new KafkaAdmin(Map.of("bootstrap.servers", "b:9093", "security.protocol", "SASL_SSL",
                "sasl.mechanism", "SCRAM-SHA-512", "sasl.jaas.config", JAAS, "ssl.truststore.type", "PEM",
                "ssl.truststore.location", "/ca.crt", "tls-configuration-name", "kafka", "group.id", "app"));

        Map<String, Object> forAdmin = admin.clientConfig(AdminClientConfig.configNames());
        assertThat(forAdmin).containsEntry("security.protocol", "SASL_SSL").containsEntry("sasl.jaas.config", JAAS)
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512").containsEntry("ssl.truststore.location", "/ca.crt")
                .containsEntry("ssl.truststore.type", "PEM").containsEntry("tls-configuration-name", "kafka")
                .doesNotContainKey("group.id");
        assertThat(admin.clientConfig(ConsumerConfig.configNames())).containsEntry("group.id", "app")
                .containsEntry("sasl.jaas.config", JAAS).containsEntry("tls-configuration-name", "kafka");
    }

    @Test
    void the_sasl_user_is_named_never_the_password() {
        assertThat(new KafkaAdmin(Map.of("sasl.jaas.config", JAAS)).saslUser()).isEqualTo("bridge");
        assertThat(new KafkaAdmin(Map.of()).saslUser()).doesNotContain("s3cret").contains("none");
    }

    @Test
    void a_refused_password_or_certificate_is_a_refusal_an_outage_is_not() {
        assertThat(KafkaAdmin.Refusal.of(new ExecutionException(new SaslAuthenticationException("invalid credentials"))))
                .contains(KafkaAdmin.Refusal.SASL);
        assertThat(KafkaAdmin.Refusal.of(new ExecutionException(new SslAuthenticationException("SSL handshake failed",
                new SSLHandshakeException("PKIX path building failed"))))).contains(KafkaAdmin.Refusal.TLS);
        assertThat(KafkaAdmin.Refusal.of(new SSLHandshakeException("no trust"))).contains(KafkaAdmin.Refusal.TLS);
        assertThat(KafkaAdmin.Refusal.of(new ExecutionException(new TimeoutException("Timed out waiting for a node"))))
                .isEqualTo(Optional.empty());
        assertThat(KafkaAdmin.Refusal.of(new java.util.concurrent.TimeoutException())).isEmpty();
    }
}
