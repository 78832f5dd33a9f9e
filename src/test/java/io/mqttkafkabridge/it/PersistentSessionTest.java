package io.mqttkafkabridge.it;

import static io.mqttkafkabridge.it.Devices.unique;
import static io.mqttkafkabridge.it.Devices.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/** Persistent sessions (clean-session=false): queued while offline, and dropped after bridge.broker.session-expiry. */
@QuarkusTest
@TestProfile(PersistentSessionTest.ShortExpiry.class)
@WithTestResource(KafkaTestResource.class)
class PersistentSessionTest {

    /** Offline sessions expire after 3 s. */
    public static class ShortExpiry implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("bridge.broker.session-expiry", "3s");
        }
    }

    @TestHTTPResource("/api/v1/broker")
    URI brokerApi;

    private Mqtt3BlockingClient client(String id) {
        return Devices.client(Devices.mqttPort(brokerApi), id).buildBlocking();
    }

    private void publish(String topic, String... messages) {
        Mqtt3BlockingClient publisher = Devices.connect(Devices.mqttPort(brokerApi), unique("publisher"), null);
        for (String message : messages) {
            publisher.publishWith().topic(topic).payload(utf8(message)).qos(MqttQos.AT_LEAST_ONCE).send();
        }
        publisher.disconnect();
    }

    @Test
    void a_persistent_session_gets_its_subscriptions_and_the_qos_1_messages_published_while_it_was_offline() throws Exception {
        String id = unique("persistent");
        Mqtt3BlockingClient device = client(id);
        device.connectWith().cleanSession(false).keepAlive(30).send();
        device.subscribeWith().topicFilter("persist/" + id).qos(MqttQos.AT_LEAST_ONCE).send();
        device.disconnect();

        publish("persist/" + id, "one", "two", "three");

        Mqtt3BlockingClient again = client(id);
        try (Mqtt3BlockingClient.Mqtt3Publishes received = again.publishes(MqttGlobalPublishFilter.ALL)) {
            assertThat(again.connectWith().cleanSession(false).keepAlive(30).send().isSessionPresent()).isTrue();
            List<String> payloads = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Optional<Mqtt3Publish> message = received.receive(10, TimeUnit.SECONDS);
                assertThat(message).as("queued message " + (i + 1)).isPresent();
                payloads.add(new String(message.get().getPayloadAsBytes(), StandardCharsets.UTF_8));
            }
            assertThat(payloads).containsExactly("one", "two", "three");
        } finally {
            again.disconnect();
        }
    }

    @Test
    void an_offline_session_is_dropped_after_the_session_expiry() throws Exception {
        String id = unique("expiring");
        Mqtt3BlockingClient device = client(id);
        device.connectWith().cleanSession(false).keepAlive(30).send();
        device.subscribeWith().topicFilter("expire/" + id).qos(MqttQos.AT_LEAST_ONCE).send();
        device.disconnect();

        TimeUnit.MILLISECONDS.sleep(5_500); // 3 s of expiry, checked by Moquette every second

        publish("expire/" + id, "too late");
        Mqtt3BlockingClient again = client(id);
        try (Mqtt3BlockingClient.Mqtt3Publishes received = again.publishes(MqttGlobalPublishFilter.ALL)) {
            assertThat(again.connectWith().cleanSession(false).keepAlive(30).send().isSessionPresent()).isFalse();
            assertThat(received.receive(2, TimeUnit.SECONDS)).isEmpty();
        } finally {
            again.disconnect();
        }
    }
}
