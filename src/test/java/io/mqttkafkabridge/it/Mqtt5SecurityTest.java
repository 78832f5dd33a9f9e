package io.mqttkafkabridge.it;

import static io.mqttkafkabridge.it.Devices.unique;
import static io.mqttkafkabridge.it.Devices.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5ConnAckException;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubAckException;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5SubAckException;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAckReasonCode;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.puback.Mqtt5PubAckReasonCode;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.suback.Mqtt5SubAckReasonCode;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * MQTT 5 clients against the password and ACL files of {@link BrokerSecurityTest} (alice: s3cret, may not touch
 * {@code devices/bob/#}; bob: p@ss:word, writes only {@code devices/bob/#}; no anonymous clients): refusals and
 * denials come with MQTT 5 reason codes instead of silence.
 */
@QuarkusTest
@TestProfile(BrokerSecurityTest.Secured.class)
@WithTestResource(KafkaTestResource.class)
class Mqtt5SecurityTest {

    @TestHTTPResource("/api/v1/broker")
    URI brokerApi;

    private Mqtt5BlockingClient client() {
        return MqttClient.builder().useMqttVersion5().serverHost("127.0.0.1").serverPort(Devices.mqttPort(brokerApi))
                .identifier(unique("v5")).buildBlocking();
    }

    private Mqtt5BlockingClient login(String user, String password) {
        Mqtt5BlockingClient client = client();
        client.connectWith().simpleAuth().username(user).password(utf8(password)).applySimpleAuth().send();
        return client;
    }

    private Mqtt5ConnAckReasonCode refusal(String user, String password) {
        Mqtt5BlockingClient client = client();
        Throwable refused = org.assertj.core.api.Assertions.catchThrowable(() -> {
            if (user == null) {
                client.connect();
            } else {
                client.connectWith().simpleAuth().username(user).password(utf8(password)).applySimpleAuth().send();
            }
        });
        assertThat(refused).isInstanceOf(Mqtt5ConnAckException.class);
        return ((Mqtt5ConnAckException) refused).getMqttMessage().getReasonCode();
    }

    @Test
    void a_wrong_password_or_unknown_user_gets_0x86_and_an_anonymous_client_0x87() {
        assertThat(refusal("alice", "wrong-secret")).isEqualTo(Mqtt5ConnAckReasonCode.BAD_USER_NAME_OR_PASSWORD);
        assertThat(refusal("mallory", "s3cret")).isEqualTo(Mqtt5ConnAckReasonCode.BAD_USER_NAME_OR_PASSWORD);
        assertThat(refusal(null, null)).isEqualTo(Mqtt5ConnAckReasonCode.NOT_AUTHORIZED);
        login("alice", "s3cret").disconnect();
    }

    @Test
    void mosquitto_pub_with_mqtt5_and_a_wrong_password_says_so() throws Exception {
        Process pub = new ProcessBuilder("mosquitto_pub", "-V", "mqttv5", "-h", "127.0.0.1", "-p",
                Integer.toString(Devices.mqttPort(brokerApi)), "-u", "alice", "-P", "wrong", "-t", "devices/alice/x", "-m", "x")
                .redirectErrorStream(true).start();

        assertThat(pub.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(pub.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .containsIgnoringCase("Bad user name or password");
        assertThat(pub.exitValue()).isNotZero();
    }

    @Test
    void a_publish_the_acl_denies_gets_puback_0x87_and_the_connection_stays() {
        Mqtt5BlockingClient bob = login("bob", "p@ss:word");
        try {
            assertThatThrownBy(() -> bob.publish(Mqtt5Publish.builder().topic("devices/alice/x").payload(utf8("no"))
                    .qos(MqttQos.AT_LEAST_ONCE).build()))
                    .isInstanceOfSatisfying(Mqtt5PubAckException.class, e -> assertThat(e.getMqttMessage().getReasonCode())
                            .isEqualTo(Mqtt5PubAckReasonCode.NOT_AUTHORIZED));

            bob.publish(Mqtt5Publish.builder().topic("devices/bob/x").payload(utf8("yes")).qos(MqttQos.AT_LEAST_ONCE).build());
            assertThat(bob.getState().isConnected()).isTrue();
        } finally {
            bob.disconnect();
        }
    }

    @Test
    void a_subscription_the_acl_denies_gets_suback_0x87_beside_the_granted_ones() {
        Mqtt5BlockingClient alice = login("alice", "s3cret");
        try {
            Throwable denied = org.assertj.core.api.Assertions.catchThrowable(() -> alice.subscribeWith()
                    .addSubscription().topicFilter("devices/alice/#").qos(MqttQos.AT_LEAST_ONCE).applySubscription()
                    .addSubscription().topicFilter("devices/bob/x").qos(MqttQos.AT_LEAST_ONCE).applySubscription().send());

            assertThat(denied).isInstanceOfSatisfying(Mqtt5SubAckException.class, e -> assertThat(
                    e.getMqttMessage().getReasonCodes()).containsExactly(Mqtt5SubAckReasonCode.GRANTED_QOS_1,
                            Mqtt5SubAckReasonCode.NOT_AUTHORIZED));
        } finally {
            alice.disconnect();
        }
    }
}
