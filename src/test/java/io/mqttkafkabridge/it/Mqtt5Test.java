package io.mqttkafkabridge.it;

import static io.mqttkafkabridge.it.Devices.unique;
import static io.mqttkafkabridge.it.Devices.utf8;
import static io.mqttkafkabridge.it.KafkaTopics.header;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.datatypes.Mqtt5UserProperty;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5ConnAckException;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5DisconnectException;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubAckException;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAckReasonCode;
import com.hivemq.client.mqtt.mqtt5.message.disconnect.Mqtt5DisconnectReasonCode;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PayloadFormatIndicator;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.puback.Mqtt5PubAckReasonCode;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * MQTT 5 clients against the bridge (HiveMQ's {@code Mqtt5Client}, Eclipse Paho's mqttv5 client, Mosquitto's tools
 * with {@code -V mqttv5}): CONNACK, properties from publisher to subscriber on the broker's paths (live, retained,
 * a persistent session's queue), into Kafka as headers and back out of Kafka as properties. Routes
 * (application.properties, %test): {@code requests/# -> it-requests (key user-property:device)},
 * {@code it-responses -> {header:mqtt.response-topic}}, {@code it-orders -> devices/{key}/orders (message-expiry 1h)},
 * {@code it-bare -> devices/{key}/bare (user-properties false)}.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
public class Mqtt5Test {

    @TestHTTPResource("/api/v1/broker")
    URI brokerApi;

    @TestHTTPResource("/api/v1/clients")
    URI clientsApi;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    @TestHTTPResource("/api/v1/routes/uplink/dry-run")
    URI uplinkDryRun;

    @TestHTTPResource("/api/v1/routes/downlink/dry-run")
    URI downlinkDryRun;

    private final List<Mqtt5BlockingClient> connected = new ArrayList<>();
    private int port;

    @BeforeEach
    void port() {
        port = Devices.mqttPort(brokerApi);
    }

    @AfterEach
    void disconnectAll() {
        for (Mqtt5BlockingClient client : connected) {
            try {
                client.disconnect();
            } catch (RuntimeException e) {
                // already gone
            }
        }
    }

    private Mqtt5BlockingClient client(String clientId) {
        var builder = MqttClient.builder().useMqttVersion5().serverHost("127.0.0.1").serverPort(port);
        Mqtt5BlockingClient client = (clientId == null ? builder : builder.identifier(clientId)).buildBlocking();
        connected.add(client);
        return client;
    }

    private Mqtt5BlockingClient connect(String clientId) {
        Mqtt5BlockingClient client = client(clientId);
        client.connect();
        return client;
    }

    private static Mqtt5Publish withAllProperties(String topic, byte[] payload, MqttQos qos, boolean retain) {
        return Mqtt5Publish.builder().topic(topic).payload(payload).qos(qos).retain(retain)
                .payloadFormatIndicator(Mqtt5PayloadFormatIndicator.UTF_8).contentType("application/json")
                .responseTopic("replies/" + topic).correlationData(new byte[] { 0, (byte) 0xFF, 7 })
                .messageExpiryInterval(3600)
                .userProperties().add("b", "1").add("a", "2").add("b", "3").applyUserProperties().build();
    }

    private static void assertSameProperties(Mqtt5Publish received, Mqtt5Publish sent) {
        assertThat(received.getPayloadAsBytes()).isEqualTo(sent.getPayloadAsBytes());
        assertThat(received.getPayloadFormatIndicator()).isEqualTo(sent.getPayloadFormatIndicator());
        assertThat(received.getContentType()).isEqualTo(sent.getContentType());
        assertThat(received.getResponseTopic()).isEqualTo(sent.getResponseTopic());
        assertThat(received.getCorrelationData().map(Mqtt5Test::bytes)).contains(bytes(sent.getCorrelationData().get()));
        assertThat(userProperties(received)).containsExactlyElementsOf(userProperties(sent));
        assertThat(received.getMessageExpiryInterval()).isPresent();
        assertThat(received.getMessageExpiryInterval().getAsLong()).isBetween(3500L, 3600L);
    }

    private static List<Mqtt5UserProperty> userProperties(Mqtt5Publish publish) {
        return new ArrayList<>(publish.getUserProperties().asList());
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    private static Mqtt5Publish receive(Mqtt5BlockingClient.Mqtt5Publishes publishes) throws InterruptedException {
        Optional<Mqtt5Publish> received = publishes.receive(10, TimeUnit.SECONDS);
        assertThat(received).as("a message within 10 s").isPresent();
        return received.get();
    }

    // ---- connect

    @Test
    void an_mqtt5_client_connects_and_the_connack_says_what_the_broker_offers() {
        Mqtt5BlockingClient client = client(unique("v5"));

        Mqtt5ConnAck connack = client.connect();

        assertThat(connack.getReasonCode()).isEqualTo(Mqtt5ConnAckReasonCode.SUCCESS);
        assertThat(connack.isSessionPresent()).isFalse();
        var restrictions = connack.getRestrictions();
        assertThat(restrictions.getReceiveMaximum()).isEqualTo(1024);
        assertThat(restrictions.getMaximumPacketSize()).isEqualTo(262_144);
        assertThat(restrictions.getTopicAliasMaximum()).isEqualTo(64);
        assertThat(restrictions.getMaximumQos()).isEqualTo(MqttQos.EXACTLY_ONCE);
        assertThat(restrictions.isRetainAvailable()).isTrue();
        assertThat(restrictions.isWildcardSubscriptionAvailable()).isTrue();
        assertThat(restrictions.areSubscriptionIdentifiersAvailable()).isTrue();
        assertThat(restrictions.isSharedSubscriptionAvailable()).as("not offered yet").isFalse();
        assertThat(connack.getAssignedClientIdentifier()).isEmpty();
    }

    @Test
    void an_empty_client_id_gets_one_assigned_and_told_in_the_connack() {
        Mqtt5BlockingClient client = client(null);

        Mqtt5ConnAck connack = client.connect();

        assertThat(connack.getAssignedClientIdentifier()).isPresent();
        String assigned = connack.getAssignedClientIdentifier().get().toString();
        assertThat(assigned).hasSize(32);
        assertThat(client.getConfig().getClientIdentifier()).map(Object::toString).contains(assigned);
    }

    @Test
    void enhanced_authentication_is_refused_with_bad_authentication_method() {
        Mqtt5BlockingClient client = client(unique("auth"));

        assertThatThrownBy(() -> client.connectWith().enhancedAuth(new ScramMechanism()).send())
                .isInstanceOfSatisfying(Mqtt5ConnAckException.class, e -> assertThat(e.getMqttMessage().getReasonCode())
                        .isEqualTo(Mqtt5ConnAckReasonCode.BAD_AUTHENTICATION_METHOD));
    }

    @Test
    void mosquitto_pub_with_mqtt5_gets_in_and_its_user_properties_reach_kafka() throws Exception {
        String device = unique("d");
        String marker = unique("mosquitto");

        Process pub = new ProcessBuilder("mosquitto_pub", "-V", "mqttv5", "-h", "127.0.0.1", "-p", Integer.toString(port),
                "-q", "1", "-t", "requests/" + device, "-m", marker, "-D", "publish", "user-property", "device", device,
                "-D", "publish", "content-type", "text/plain").redirectErrorStream(true).start();

        assertThat(pub.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(pub.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEmpty();
        assertThat(pub.exitValue()).isZero();
        ConsumerRecord<String, byte[]> record = KafkaTopics.withValue("it-requests", utf8(marker), 1).get(0);
        assertThat(record.key()).as("key: user-property:device").isEqualTo(device);
        assertThat(header(record, "device")).isEqualTo(device);
        assertThat(header(record, "mqtt.content-type")).isEqualTo("text/plain");
        assertThat(header(record, "mqtt.topic")).isEqualTo("requests/" + device);
    }

    // ---- properties through the broker

    @Test
    void properties_reach_an_mqtt5_subscriber_unchanged_and_a_311_subscriber_gets_the_bare_payload() throws Exception {
        String topic = "sensors/" + unique("s");
        Mqtt5BlockingClient subscriber = connect(unique("sub5"));
        subscriber.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();
        Mqtt3BlockingClient old = Devices.connect(port, unique("sub311"), null);
        try (var publishes = subscriber.publishes(MqttGlobalPublishFilter.ALL);
                var oldPublishes = old.publishes(MqttGlobalPublishFilter.ALL)) {
            old.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();
            Mqtt5Publish sent = withAllProperties(topic, utf8("{\"t\":21}"), MqttQos.AT_LEAST_ONCE, false);

            connect(unique("pub5")).publish(sent);

            assertSameProperties(receive(publishes), sent);
            var bare = oldPublishes.receive(10, TimeUnit.SECONDS);
            assertThat(bare).isPresent();
            assertThat(bare.get().getPayloadAsBytes()).isEqualTo(utf8("{\"t\":21}"));
        } finally {
            old.disconnect();
        }
    }

    @Test
    void a_retained_message_keeps_its_properties_for_a_later_subscriber() throws Exception {
        String topic = "sensors/" + unique("retained");
        Mqtt5Publish sent = withAllProperties(topic, utf8("kept"), MqttQos.AT_LEAST_ONCE, true);
        connect(unique("pub5")).publish(sent);
        Mqtt5BlockingClient subscriber = connect(unique("late"));
        try (var publishes = subscriber.publishes(MqttGlobalPublishFilter.ALL)) {

            subscriber.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();

            Mqtt5Publish received = receive(publishes);
            assertThat(received.isRetain()).isTrue();
            assertSameProperties(received, sent);
        }
    }

    @Test
    void an_offline_persistent_session_gets_its_queued_messages_with_their_properties_and_not_the_expired_ones()
            throws Exception {
        String clientId = unique("persistent");
        String topic = "sensors/" + unique("queued");
        Mqtt5BlockingClient subscriber = client(clientId);
        Mqtt5ConnAck first = subscriber.connectWith().cleanStart(true).sessionExpiryInterval(300).send();
        assertThat(first.isSessionPresent()).isFalse();
        subscriber.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();
        subscriber.disconnect();
        Mqtt5BlockingClient publisher = connect(unique("pub5"));
        Mqtt5Publish expiring = Mqtt5Publish.builder().topic(topic).payload(utf8("stale")).qos(MqttQos.AT_LEAST_ONCE)
                .messageExpiryInterval(1).build();
        Mqtt5Publish kept = withAllProperties(topic, utf8("fresh"), MqttQos.AT_LEAST_ONCE, false);
        publisher.publish(expiring);
        publisher.publish(kept);
        // the expiry is a wall-clock interval: more than a second must pass
        await().pollDelay(Duration.ofMillis(2100)).atMost(Duration.ofSeconds(3)).until(() -> true);

        Mqtt5BlockingClient again = client(clientId);
        try (var publishes = again.publishes(MqttGlobalPublishFilter.ALL)) {
            Mqtt5ConnAck connack = again.connectWith().cleanStart(false).sessionExpiryInterval(300).send();

            assertThat(connack.isSessionPresent()).isTrue();
            Mqtt5Publish received = receive(publishes);
            assertThat(received.getPayloadAsBytes()).as("the expired message is not delivered").isEqualTo(utf8("fresh"));
            assertSameProperties(received, kept);
            assertThat(publishes.receive(1, TimeUnit.SECONDS)).isEmpty();
        }
    }

    @Test
    void a_session_ends_after_the_session_expiry_interval_its_client_asked_for() throws Exception {
        String clientId = unique("brief");
        String topic = "sensors/" + unique("brief");
        Mqtt5BlockingClient subscriber = client(clientId);
        subscriber.connectWith().sessionExpiryInterval(1).send();
        subscriber.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();
        subscriber.disconnect();
        Mqtt5BlockingClient kept = client(unique("kept"));
        kept.connectWith().sessionExpiryInterval(300).send();
        kept.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();
        kept.disconnect();

        // a reconnect would renew the 1 s session: look once, after it is over
        await().pollDelay(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(3)).until(() -> true);
        Mqtt5BlockingClient again = client(clientId);
        assertThat(again.connectWith().cleanStart(false).sessionExpiryInterval(1).send().isSessionPresent())
                .as("ended 1 s after the disconnect").isFalse();
        Mqtt5BlockingClient back = client(kept.getConfig().getClientIdentifier().get().toString());
        assertThat(back.connectWith().cleanStart(false).sessionExpiryInterval(300).send().isSessionPresent()).isTrue();
    }

    @Test
    void clean_start_discards_a_persistent_session_the_client_had() throws Exception {
        String clientId = unique("restart");
        String topic = "sensors/" + unique("discarded");
        Mqtt5BlockingClient subscriber = client(clientId);
        subscriber.connectWith().sessionExpiryInterval(300).send();
        subscriber.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();
        subscriber.disconnect();
        connect(unique("pub5")).publish(Mqtt5Publish.builder().topic(topic).payload(utf8("for the old session"))
                .qos(MqttQos.AT_LEAST_ONCE).build());

        Mqtt5BlockingClient again = client(clientId);
        try (var publishes = again.publishes(MqttGlobalPublishFilter.ALL)) {
            Mqtt5ConnAck connack = again.connectWith().cleanStart(true).sessionExpiryInterval(300).send();

            assertThat(connack.isSessionPresent()).isFalse();
            assertThat(publishes.receive(2, TimeUnit.SECONDS)).as("the old session's queue is gone").isEmpty();
        }
    }

    @Test
    void a_payload_that_begins_like_the_envelope_reaches_every_subscriber_and_kafka_as_it_was_published() throws Exception {
        byte[] lookalike = { 0x00, 'M', 'K', 'B', 0x05, (byte) 0xFE, (byte) 0xE5, (byte) 0x9A, 0, 0, 1, 2, 3 };
        String topic = "sensors/" + unique("lookalike");
        Mqtt3BlockingClient old = Devices.connect(port, unique("old"), null);
        Mqtt5BlockingClient subscriber = connect(unique("sub5"));
        subscriber.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();
        try (var oldPublishes = old.publishes(MqttGlobalPublishFilter.ALL);
                var publishes = subscriber.publishes(MqttGlobalPublishFilter.ALL)) {
            old.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();

            Devices.publish(old, topic, lookalike, 1, false);

            assertThat(oldPublishes.receive(10, TimeUnit.SECONDS)).isPresent().get()
                    .satisfies(p -> assertThat(p.getPayloadAsBytes()).isEqualTo(lookalike));
            Mqtt5Publish received = receive(publishes);
            assertThat(received.getPayloadAsBytes()).isEqualTo(lookalike);
            assertThat(userProperties(received)).isEmpty();
            assertThat(KafkaTopics.withValue("it-sensors", lookalike, 1)).hasSize(1);
        } finally {
            old.disconnect();
        }
    }

    // ---- subscription options

    @Test
    void a_no_local_subscription_does_not_get_back_what_its_client_published() throws Exception {
        String topic = "sensors/" + unique("nolocal");
        Mqtt5BlockingClient client = connect(unique("self"));
        client.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).noLocal(true).send();
        try (var publishes = client.publishes(MqttGlobalPublishFilter.ALL)) {

            client.publish(Mqtt5Publish.builder().topic(topic).payload(utf8("mine")).qos(MqttQos.AT_LEAST_ONCE).build());
            connect(unique("other")).publish(Mqtt5Publish.builder().topic(topic).payload(utf8("theirs"))
                    .qos(MqttQos.AT_LEAST_ONCE).build());

            assertThat(receive(publishes).getPayloadAsBytes()).isEqualTo(utf8("theirs"));
            assertThat(publishes.receive(1, TimeUnit.SECONDS)).isEmpty();
        }
    }

    @Test
    void retain_as_published_keeps_the_retain_flag_of_a_live_message_and_others_get_it_cleared() throws Exception {
        String topic = "sensors/" + unique("rap");
        Mqtt5BlockingClient asPublished = connect(unique("rap"));
        asPublished.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).retainAsPublished(true).send();
        Mqtt5BlockingClient plain = connect(unique("plain"));
        plain.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();
        try (var rap = asPublished.publishes(MqttGlobalPublishFilter.ALL);
                var cleared = plain.publishes(MqttGlobalPublishFilter.ALL)) {

            connect(unique("pub")).publish(Mqtt5Publish.builder().topic(topic).payload(utf8("live and retained"))
                    .qos(MqttQos.AT_LEAST_ONCE).retain(true).build());

            assertThat(receive(rap).isRetain()).isTrue();
            assertThat(receive(cleared).isRetain()).isFalse();
        }
    }

    @Test
    void retain_handling_2_sends_no_retained_message_and_1_sends_it_only_for_a_new_subscription() throws Exception {
        String topic = "sensors/" + unique("rh");
        connect(unique("pub")).publish(Mqtt5Publish.builder().topic(topic).payload(utf8("retained"))
                .qos(MqttQos.AT_LEAST_ONCE).retain(true).build());
        Mqtt5BlockingClient never = connect(unique("rh2"));
        Mqtt5BlockingClient once = connect(unique("rh1"));
        try (var nothing = never.publishes(MqttGlobalPublishFilter.ALL); var first = once.publishes(MqttGlobalPublishFilter.ALL)) {

            never.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE)
                    .retainHandling(com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5RetainHandling.DO_NOT_SEND).send();
            once.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE)
                    .retainHandling(com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5RetainHandling.SEND_IF_SUBSCRIPTION_DOES_NOT_EXIST)
                    .send();
            assertThat(receive(first).getPayloadAsBytes()).isEqualTo(utf8("retained"));
            once.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE)
                    .retainHandling(com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5RetainHandling.SEND_IF_SUBSCRIPTION_DOES_NOT_EXIST)
                    .send();

            assertThat(nothing.receive(1, TimeUnit.SECONDS)).as("retain handling 2").isEmpty();
            assertThat(first.receive(1, TimeUnit.SECONDS)).as("retain handling 1, subscription existed").isEmpty();
        }
    }

    @Test
    void each_message_carries_the_identifiers_of_every_subscription_it_matches() throws Exception {
        String base = "sensors/" + unique("ids");
        var paho = new org.eclipse.paho.mqttv5.client.MqttAsyncClient("tcp://127.0.0.1:" + port, unique("paho-ids"),
                new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        var received = new java.util.concurrent.LinkedBlockingQueue<org.eclipse.paho.mqttv5.common.MqttMessage>();
        try {
            paho.connect().waitForCompletion(10_000);
            for (int[] subscription : new int[][] { { 7 }, { 9 } }) {
                var properties = new org.eclipse.paho.mqttv5.common.packet.MqttProperties();
                properties.setSubscriptionIdentifiers(List.of(subscription[0])); // Paho maps its listeners by this one
                properties.setSubscriptionIdentifier(subscription[0]); // and sends this one
                String filter = subscription[0] == 7 ? base + "/+" : base + "/#";
                paho.subscribe(new org.eclipse.paho.mqttv5.common.MqttSubscription[] {
                        new org.eclipse.paho.mqttv5.common.MqttSubscription(filter, 1) }, null, null,
                        (topic, message) -> received.add(message), properties).waitForCompletion(10_000);
            }

            connect(unique("pub")).publish(Mqtt5Publish.builder().topic(base + "/a").payload(utf8("both"))
                    .qos(MqttQos.AT_LEAST_ONCE).build());

            var message = received.poll(10, TimeUnit.SECONDS);
            assertThat(message).isNotNull();
            assertThat(message.getPayload()).isEqualTo(utf8("both"));
            assertThat(message.getProperties().getSubscriptionIdentifiers()).containsExactlyInAnyOrder(7, 9);
            // Paho hands the one PUBLISH to the listener of each identifier it carries
            var again = received.poll(10, TimeUnit.SECONDS);
            assertThat(again).isNotNull();
            assertThat(again.getProperties().getSubscriptionIdentifiers()).containsExactlyInAnyOrder(7, 9);
            assertThat(received.poll(1, TimeUnit.SECONDS)).isNull();
        } finally {
            paho.disconnect().waitForCompletion(10_000);
            paho.close();
        }
    }

    @Test
    void a_shared_subscription_gets_suback_0x9e_and_unsubscribing_from_nothing_0x11() {
        Mqtt5BlockingClient client = connect(unique("share"));

        Throwable refused = org.assertj.core.api.Assertions.catchThrowable(() -> client.subscribeWith()
                .topicFilter("$share/workers/jobs/#").qos(MqttQos.AT_LEAST_ONCE).send());
        assertThat(refused).isInstanceOfSatisfying(com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5SubAckException.class,
                e -> assertThat(e.getMqttMessage().getReasonCodes()).containsExactly(
                        com.hivemq.client.mqtt.mqtt5.message.subscribe.suback.Mqtt5SubAckReasonCode.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED));

        client.subscribeWith().topicFilter("jobs/a").qos(MqttQos.AT_LEAST_ONCE).send();
        var unsubscribed = client.unsubscribeWith().topicFilter("jobs/a").send();
        assertThat(unsubscribed.getReasonCodes()).containsExactly(
                com.hivemq.client.mqtt.mqtt5.message.unsubscribe.unsuback.Mqtt5UnsubAckReasonCode.SUCCESS);
        assertThat(client.unsubscribeWith().topicFilter("jobs/b").send().getReasonCodes()).containsExactly(
                com.hivemq.client.mqtt.mqtt5.message.unsubscribe.unsuback.Mqtt5UnsubAckReasonCode.NO_SUBSCRIPTIONS_EXISTED);
    }

    // ---- into Kafka

    @Test
    void user_properties_become_headers_in_order_and_the_bridges_own_headers_cannot_be_forged() {
        String device = unique("d");
        byte[] payload = utf8("request " + device);
        Mqtt5Publish publish = Mqtt5Publish.builder().topic("requests/" + device).payload(payload).qos(MqttQos.AT_LEAST_ONCE)
                .contentType("application/json").responseTopic("replies/" + device)
                .correlationData(new byte[] { 1, 2, (byte) 0xFE }).messageExpiryInterval(600)
                .userProperties().add("device", device).add("tag", "x").add("tag", "y").add("mqtt.topic", "forged")
                .add("bridge.origin", "forged").applyUserProperties().build();

        connect(unique("pub5")).publish(publish);

        ConsumerRecord<String, byte[]> record = KafkaTopics.withValue("it-requests", payload, 1).get(0);
        assertThat(record.key()).isEqualTo(device);
        assertThat(header(record, "mqtt.topic")).isEqualTo("requests/" + device);
        assertThat(headers(record, "mqtt.topic")).as("not forged").containsExactly("requests/" + device);
        assertThat(headers(record, "tag")).containsExactly("x", "y");
        assertThat(header(record, "mqtt.user.mqtt.topic")).isEqualTo("forged");
        assertThat(header(record, "mqtt.user.bridge.origin")).isEqualTo("forged");
        assertThat(record.headers().lastHeader("bridge.origin")).isNull();
        assertThat(header(record, "mqtt.content-type")).isEqualTo("application/json");
        assertThat(header(record, "mqtt.response-topic")).isEqualTo("replies/" + device);
        assertThat(record.headers().lastHeader("mqtt.correlation-data").value()).isEqualTo(new byte[] { 1, 2, (byte) 0xFE });
        assertThat(header(record, "mqtt.message-expiry-interval")).isEqualTo("600");
    }

    @Test
    void a_payload_format_indicator_of_utf8_with_a_payload_that_is_not_gets_puback_0x99_and_goes_nowhere() {
        String device = unique("d");
        byte[] notUtf8 = { (byte) 0xC3, (byte) 0x28, 'x' };
        Mqtt5Publish publish = Mqtt5Publish.builder().topic("requests/" + device).payload(notUtf8).qos(MqttQos.AT_LEAST_ONCE)
                .payloadFormatIndicator(Mqtt5PayloadFormatIndicator.UTF_8).build();
        Mqtt5BlockingClient publisher = connect(unique("pub5"));

        assertThatThrownBy(() -> publisher.publish(publish)).isInstanceOfSatisfying(Mqtt5PubAckException.class,
                e -> assertThat(e.getMqttMessage().getReasonCode()).isEqualTo(Mqtt5PubAckReasonCode.PAYLOAD_FORMAT_INVALID));
        byte[] after = utf8("after " + device);
        publisher.publish(Mqtt5Publish.builder().topic("requests/" + device).payload(after).qos(MqttQos.AT_LEAST_ONCE).build());
        List<ConsumerRecord<String, byte[]>> records = KafkaTopics.readUntil("it-requests",
                rs -> rs.stream().anyMatch(r -> java.util.Arrays.equals(r.value(), after)), Duration.ofSeconds(20));
        assertThat(records).noneMatch(r -> java.util.Arrays.equals(r.value(), notUtf8));
    }

    @Test
    void paho_mqttv5_publishes_through_topic_aliases_and_each_record_has_its_topic() throws Exception {
        String device = unique("d");
        String topic = "requests/" + device;
        var paho = new org.eclipse.paho.mqttv5.client.MqttClient("tcp://127.0.0.1:" + port, unique("paho"),
                new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        var options = new org.eclipse.paho.mqttv5.client.MqttConnectionOptions();
        options.setTopicAliasMaximum(0);
        try {
            paho.connect(options);
            for (int i = 0; i < 3; i++) {
                var message = new org.eclipse.paho.mqttv5.common.MqttMessage(utf8(device + " #" + i));
                message.setQos(1);
                var properties = new org.eclipse.paho.mqttv5.common.packet.MqttProperties();
                properties.setUserProperties(List.of(new org.eclipse.paho.mqttv5.common.packet.UserProperty("device", device)));
                message.setProperties(properties);
                paho.publish(topic, message);
            }
        } finally {
            paho.disconnect();
            paho.close();
        }

        for (int i = 0; i < 3; i++) {
            ConsumerRecord<String, byte[]> record = KafkaTopics.withValue("it-requests", utf8(device + " #" + i), 1).get(0);
            assertThat(header(record, "mqtt.topic")).isEqualTo(topic);
            assertThat(record.key()).isEqualTo(device);
        }
    }

    private static List<String> headers(ConsumerRecord<String, byte[]> record, String name) {
        List<String> values = new ArrayList<>();
        for (Header header : record.headers().headers(name)) {
            values.add(new String(header.value(), StandardCharsets.UTF_8));
        }
        return values;
    }

    // ---- out of Kafka

    @Test
    void record_headers_reach_mqtt5_subscribers_as_user_properties_and_the_mapped_ones_as_properties() throws Exception {
        String device = unique("d");
        Mqtt5BlockingClient subscriber = connect(unique("sub5"));
        subscriber.subscribeWith().topicFilter("devices/" + device + "/orders").qos(MqttQos.AT_LEAST_ONCE).send();
        try (var publishes = subscriber.publishes(MqttGlobalPublishFilter.ALL)) {
            ProducerRecord<String, byte[]> record = new ProducerRecord<>("it-orders", device, utf8("order 1"));
            record.headers().add("order", utf8("1")).add("tag", utf8("a")).add("tag", utf8("b"))
                    .add("mqtt.topic", utf8("ignored")).add("bridge.trace", utf8("ignored"))
                    .add("mqtt.user.mqtt.topic", utf8("kept apart")).add("mqtt.content-type", utf8("text/plain"))
                    .add("mqtt.correlation-data", new byte[] { 9, 8, 7 });

            KafkaTopics.produce(record);

            Mqtt5Publish received = receive(publishes);
            assertThat(received.getPayloadAsBytes()).isEqualTo(utf8("order 1"));
            assertThat(userProperties(received)).containsExactly(Mqtt5UserProperty.of("order", "1"),
                    Mqtt5UserProperty.of("tag", "a"), Mqtt5UserProperty.of("tag", "b"),
                    Mqtt5UserProperty.of("mqtt.topic", "kept apart"));
            assertThat(received.getContentType()).map(Object::toString).contains("text/plain");
            assertThat(received.getCorrelationData().map(Mqtt5Test::bytes)).contains(new byte[] { 9, 8, 7 });
            assertThat(received.getMessageExpiryInterval()).as("the route's message-expiry, 1h").isPresent();
            assertThat(received.getMessageExpiryInterval().getAsLong()).isBetween(3500L, 3600L);
        }
    }

    @Test
    void a_command_older_than_the_routes_message_expiry_is_not_delivered() throws Exception {
        String device = unique("d");
        Mqtt5BlockingClient subscriber = connect(unique("sub5"));
        subscriber.subscribeWith().topicFilter("devices/" + device + "/orders").qos(MqttQos.AT_LEAST_ONCE).send();
        try (var publishes = subscriber.publishes(MqttGlobalPublishFilter.ALL)) {
            long dayAgo = Instant.now().minus(Duration.ofDays(1)).toEpochMilli();

            KafkaTopics.produce(new ProducerRecord<>("it-orders", null, dayAgo, device, utf8("stale order")));
            KafkaTopics.produce(new ProducerRecord<>("it-orders", device, utf8("fresh order")));

            assertThat(receive(publishes).getPayloadAsBytes()).isEqualTo(utf8("fresh order"));
            assertThat(publishes.receive(1, TimeUnit.SECONDS)).isEmpty();
        }
    }

    @Test
    void a_route_with_user_properties_off_carries_none() throws Exception {
        String device = unique("d");
        Mqtt5BlockingClient subscriber = connect(unique("sub5"));
        subscriber.subscribeWith().topicFilter("devices/" + device + "/bare").qos(MqttQos.AT_LEAST_ONCE).send();
        try (var publishes = subscriber.publishes(MqttGlobalPublishFilter.ALL)) {
            ProducerRecord<String, byte[]> record = new ProducerRecord<>("it-bare", device, utf8("bare"));
            record.headers().add("order", utf8("1")).add("mqtt.content-type", utf8("text/plain"));

            KafkaTopics.produce(record);

            Mqtt5Publish received = receive(publishes);
            assertThat(userProperties(received)).isEmpty();
            assertThat(received.getContentType()).map(Object::toString).contains("text/plain");
        }
    }

    @Test
    void the_dry_runs_take_and_show_mqtt5_properties_and_headers() throws Exception {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();

        var up = Http.post(uplinkDryRun, """
                {"topic": "requests/d9", "payload": "x", "properties": {"contentType": "text/plain",
                 "responseTopic": "replies/d9", "correlationData": "c-9", "messageExpiryInterval": 60,
                 "userProperties": [{"name": "device", "value": "d9"}, {"name": "tag", "value": "a"},
                                    {"name": "tag", "value": "b"}, {"name": "mqtt.topic", "value": "forged"}]}}""");

        assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
        var match = json.readTree(up.body()).get(0);
        assertThat(match.path("key").asText()).isEqualTo("d9");
        List<String> headers = new ArrayList<>();
        match.path("headerList").forEach(h -> headers.add(h.path("name").asText() + "=" + h.path("value").asText()));
        assertThat(headers).contains("mqtt.content-type=text/plain", "mqtt.response-topic=replies/d9",
                "mqtt.correlation-data=c-9", "mqtt.message-expiry-interval=60", "device=d9", "mqtt.user.mqtt.topic=forged");
        assertThat(headers).containsSubsequence("tag=a", "tag=b");

        var down = Http.post(downlinkDryRun, """
                {"kafkaTopic": "it-orders", "key": "d9", "headers": {"order": "1", "mqtt.content-type": "text/plain",
                 "bridge.trace": "no"}}""");

        assertThat(down.statusCode()).as(down.body()).isEqualTo(200);
        var outcome = json.readTree(down.body()).get(0);
        assertThat(outcome.path("mqttTopic").asText()).isEqualTo("devices/d9/orders");
        assertThat(outcome.path("properties").path("contentType").asText()).isEqualTo("text/plain");
        assertThat(outcome.path("properties").path("messageExpiryInterval").asLong()).isBetween(3590L, 3600L);
        assertThat(outcome.path("properties").path("userProperties").toString()).isEqualTo("[{\"name\":\"order\",\"value\":\"1\"}]");
    }

    // ---- request/response through Kafka

    @Test
    void a_device_gets_the_backends_answer_on_its_response_topic_with_its_correlation_data() throws Exception {
        String device = unique("d");
        String responseTopic = "replies/" + device;
        byte[] correlation = utf8("req-" + device);
        Mqtt5BlockingClient client = connect(unique("requester"));
        client.subscribeWith().topicFilter(responseTopic).qos(MqttQos.AT_LEAST_ONCE).send();
        try (var publishes = client.publishes(MqttGlobalPublishFilter.ALL)) {
            byte[] request = utf8("status? " + device);
            client.publish(Mqtt5Publish.builder().topic("requests/" + device).payload(request).qos(MqttQos.AT_LEAST_ONCE)
                    .responseTopic(responseTopic).correlationData(correlation)
                    .userProperties().add("device", device).applyUserProperties().build());

            // the backend: reads the request from Kafka and answers with its response topic and correlation data
            ConsumerRecord<String, byte[]> asked = KafkaTopics.withValue("it-requests", request, 1).get(0);
            ProducerRecord<String, byte[]> answer = new ProducerRecord<>("it-responses", asked.key(), utf8("ok " + device));
            answer.headers().add(asked.headers().lastHeader("mqtt.response-topic"))
                    .add(asked.headers().lastHeader("mqtt.correlation-data"));
            KafkaTopics.produce(answer);

            Mqtt5Publish received = receive(publishes);
            assertThat(received.getTopic().toString()).isEqualTo(responseTopic);
            assertThat(received.getPayloadAsBytes()).isEqualTo(utf8("ok " + device));
            assertThat(received.getCorrelationData().map(Mqtt5Test::bytes)).contains(correlation);
        }
    }

    @Test
    void mosquitto_rr_gets_its_answer_through_kafka() throws Exception {
        String device = unique("d");
        String marker = "ping " + device;
        Process rr = new ProcessBuilder("mosquitto_rr", "-V", "mqttv5", "-h", "127.0.0.1", "-p", Integer.toString(port),
                "-t", "requests/" + device, "-e", "replies/" + device, "-m", marker, "-W", "20",
                "-D", "publish", "correlation-data", "c-" + device).redirectErrorStream(true).start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(rr.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                return e.toString();
            }
        });

        ConsumerRecord<String, byte[]> asked = KafkaTopics.withValue("it-requests", utf8(marker), 1).get(0);
        assertThat(header(asked, "mqtt.response-topic")).isEqualTo("replies/" + device);
        assertThat(header(asked, "mqtt.correlation-data")).isEqualTo("c-" + device);
        ProducerRecord<String, byte[]> answer = new ProducerRecord<>("it-responses", null, utf8("pong " + device));
        answer.headers().add(asked.headers().lastHeader("mqtt.response-topic"))
                .add(asked.headers().lastHeader("mqtt.correlation-data"));
        KafkaTopics.produce(answer);

        assertThat(rr.waitFor(25, TimeUnit.SECONDS)).isTrue();
        assertThat(output.get(5, TimeUnit.SECONDS).trim()).isEqualTo("pong " + device);
        assertThat(rr.exitValue()).isZero();
    }

    // ---- wills and keep-alive

    /**
     * An MQTT 5 CONNECT, as bytes: Clean Start, {@code keepAlive} seconds, a Session Expiry Interval, and (topic not
     * null) a QoS 1 will with a Will Delay Interval and one user property.
     */
    static byte[] mqtt5Connect(String clientId, int keepAlive, int sessionExpiry, String willTopic, byte[] willPayload,
            int willDelay, String userName, String userValue) {
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        writeString(body, "MQTT");
        body.write(5);
        body.write(0x02 | (willTopic == null ? 0 : 0x04 | 0x08));
        body.write(keepAlive >> 8);
        body.write(keepAlive & 0xFF);
        writeProperties(body, new byte[] { 0x11, (byte) (sessionExpiry >>> 24), (byte) (sessionExpiry >>> 16),
                (byte) (sessionExpiry >>> 8), (byte) sessionExpiry });
        writeString(body, clientId);
        if (willTopic != null) {
            java.io.ByteArrayOutputStream will = new java.io.ByteArrayOutputStream();
            will.write(0x18);
            will.write(willDelay >>> 24);
            will.write(willDelay >>> 16);
            will.write(willDelay >>> 8);
            will.write(willDelay);
            will.write(0x26);
            writeString(will, userName);
            writeString(will, userValue);
            writeProperties(body, will.toByteArray());
            writeString(body, willTopic);
            body.write(willPayload.length >> 8);
            body.write(willPayload.length & 0xFF);
            body.writeBytes(willPayload);
        }
        return io.mqttkafkabridge.fault.PacketFuzzer.packet(0x10, body.toByteArray());
    }

    private static void writeString(java.io.ByteArrayOutputStream out, String text) {
        byte[] bytes = utf8(text);
        out.write(bytes.length >> 8);
        out.write(bytes.length & 0xFF);
        out.writeBytes(bytes);
    }

    private static void writeProperties(java.io.ByteArrayOutputStream out, byte[] properties) {
        out.write(properties.length); // under 128 bytes here: a one-byte variable integer
        out.writeBytes(properties);
    }

    private java.net.Socket rawConnect(byte[] connect) throws Exception {
        java.net.Socket socket = new java.net.Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write(connect);
        int type = socket.getInputStream().read();
        assertThat(type).as("CONNACK").isEqualTo(0x20);
        int length = socket.getInputStream().read();
        byte[] connack = socket.getInputStream().readNBytes(length);
        assertThat(connack[1]).as("CONNACK reason code").isEqualTo((byte) 0);
        return socket;
    }

    @Test
    void a_delayed_will_with_properties_is_published_after_its_delay_to_subscribers_and_kafka() throws Exception {
        String device = unique("d");
        String topic = "requests/" + device + "/gone";
        Mqtt5BlockingClient watcher = connect(unique("watcher"));
        watcher.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();
        try (var publishes = watcher.publishes(MqttGlobalPublishFilter.ALL)) {
            java.net.Socket socket = rawConnect(mqtt5Connect(unique("mortal"), 60, 60, topic, utf8("gone " + device), 2,
                    "device", device));

            long closedAt = System.nanoTime();
            socket.close(); // no DISCONNECT: the will is due

            Mqtt5Publish will = receive(publishes);
            assertThat(Duration.ofNanos(System.nanoTime() - closedAt)).as("Will Delay Interval 2 s")
                    .isGreaterThanOrEqualTo(Duration.ofMillis(1900));
            assertThat(will.getPayloadAsBytes()).isEqualTo(utf8("gone " + device));
            assertThat(userProperties(will)).containsExactly(Mqtt5UserProperty.of("device", device));
            ConsumerRecord<String, byte[]> record = KafkaTopics.withValue("it-requests", utf8("gone " + device), 1).get(0);
            assertThat(record.key()).isEqualTo(device);
            assertThat(header(record, "device")).isEqualTo(device);
        }
    }

    @Test
    void a_delayed_will_is_not_published_when_the_session_resumes_in_time() throws Exception {
        String clientId = unique("back");
        String topic = "sensors/" + unique("gone");
        Mqtt5BlockingClient watcher = connect(unique("watcher"));
        watcher.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();
        try (var publishes = watcher.publishes(MqttGlobalPublishFilter.ALL)) {
            rawConnect(mqtt5Connect(clientId, 60, 60, topic, utf8("gone"), 2, "k", "v")).close();

            client(clientId).connectWith().cleanStart(false).sessionExpiryInterval(60).send();

            assertThat(publishes.receive(3, TimeUnit.SECONDS)).as("the session resumed within the delay").isEmpty();
        }
    }

    @Test
    void a_disconnect_with_reason_0x04_sends_the_will() throws Exception {
        String topic = "sensors/" + unique("farewell");
        Mqtt5BlockingClient watcher = connect(unique("watcher"));
        watcher.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();
        try (var publishes = watcher.publishes(MqttGlobalPublishFilter.ALL)) {
            Mqtt5BlockingClient leaving = client(unique("leaving"));
            leaving.connectWith().willPublish().topic(topic).payload(utf8("farewell")).qos(MqttQos.AT_LEAST_ONCE)
                    .contentType("text/plain").applyWillPublish().send();

            leaving.disconnectWith().reasonCode(Mqtt5DisconnectReasonCode.DISCONNECT_WITH_WILL_MESSAGE).send();

            Mqtt5Publish will = receive(publishes);
            assertThat(will.getPayloadAsBytes()).isEqualTo(utf8("farewell"));
            assertThat(will.getContentType()).map(Object::toString).contains("text/plain");
        }
    }

    @Test
    void a_silent_client_is_told_keep_alive_timeout_and_a_long_keep_alive_is_capped() throws Exception {
        try (java.net.Socket socket = rawConnect(mqtt5Connect(unique("silent"), 1, 0, null, null, 0, null, null))) {
            // 1.5 keep-alives without a packet: DISCONNECT 0x8D (MQTT-3.1.2-24)
            assertThat(socket.getInputStream().readNBytes(3)).containsExactly(0xE0, 2, 0x8D);
        }
        Mqtt5ConnAck connack = client(unique("sleepy")).connectWith().keepAlive(0).send();
        assertThat(connack.getServerKeepAlive()).as("bridge.broker.max-keep-alive=300s").hasValue(300);
        Mqtt5ConnAck usual = client(unique("usual")).connectWith().keepAlive(60).send();
        assertThat(usual.getServerKeepAlive()).isEmpty();
    }

    // ---- server DISCONNECT, operations

    @Test
    void a_connection_taken_over_by_a_newer_one_is_told_session_taken_over() {
        String clientId = unique("twice");
        Mqtt5BlockingClient first = client(clientId);
        CompletableFuture<Throwable> cause = new CompletableFuture<>();
        first = MqttClient.builder().useMqttVersion5().serverHost("127.0.0.1").serverPort(port).identifier(clientId)
                .addDisconnectedListener(context -> cause.complete(context.getCause())).buildBlocking();
        first.connect();

        connect(clientId);

        await().atMost(Duration.ofSeconds(10)).until(cause::isDone);
        assertThat(cause.join()).isInstanceOfSatisfying(Mqtt5DisconnectException.class, e -> assertThat(
                e.getMqttMessage().getReasonCode()).isEqualTo(Mqtt5DisconnectReasonCode.SESSION_TAKEN_OVER));
    }

    @Test
    void the_rest_api_and_the_metrics_tell_each_clients_protocol_version() throws Exception {
        String clientId = unique("listed");
        connect(clientId);
        Mqtt3BlockingClient old = Devices.connect(port, unique("listed-311"), null);
        try {
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                var clients = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Http.get(clientsApi).body());
                boolean v5 = false;
                boolean v311 = false;
                for (var client : clients) {
                    String id = client.path("id").asText();
                    if (id.equals(clientId)) {
                        v5 = client.path("protocolVersion").asText().equals("5");
                    } else if (id.equals(old.getConfig().getClientIdentifier().get().toString())) {
                        v311 = client.path("protocolVersion").asText().equals("3.1.1");
                    }
                }
                assertThat(v5).as("the MQTT 5 client is listed with protocolVersion 5").isTrue();
                assertThat(v311).as("the 3.1.1 client is listed with protocolVersion 3.1.1").isTrue();
            });
            assertThat(PrometheusMetrics.value(metrics, "mqtt_clients_by_protocol{protocol=\"5\"}")).isGreaterThanOrEqualTo(1);
            assertThat(PrometheusMetrics.value(metrics, "mqtt_clients_by_protocol{protocol=\"3.1.1\"}")).isGreaterThanOrEqualTo(1);
        } finally {
            old.disconnect();
        }
    }

    /** An enhanced authentication the broker does not offer. */
    private static final class ScramMechanism implements com.hivemq.client.mqtt.mqtt5.auth.Mqtt5EnhancedAuthMechanism {
        @Override
        public com.hivemq.client.mqtt.datatypes.MqttUtf8String getMethod() {
            return com.hivemq.client.mqtt.datatypes.MqttUtf8String.of("SCRAM-SHA-256");
        }

        @Override
        public int getTimeout() {
            return 10;
        }

        @Override
        public CompletableFuture<Void> onAuth(com.hivemq.client.mqtt.mqtt5.Mqtt5ClientConfig config,
                com.hivemq.client.mqtt.mqtt5.message.connect.Mqtt5Connect connect,
                com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5EnhancedAuthBuilder builder) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Void> onReAuth(com.hivemq.client.mqtt.mqtt5.Mqtt5ClientConfig config,
                com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5AuthBuilder builder) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Boolean> onServerReAuth(com.hivemq.client.mqtt.mqtt5.Mqtt5ClientConfig config,
                com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5Auth auth,
                com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5AuthBuilder builder) {
            return CompletableFuture.completedFuture(false);
        }

        @Override
        public CompletableFuture<Boolean> onContinue(com.hivemq.client.mqtt.mqtt5.Mqtt5ClientConfig config,
                com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5Auth auth,
                com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5AuthBuilder builder) {
            return CompletableFuture.completedFuture(false);
        }

        @Override
        public CompletableFuture<Boolean> onAuthSuccess(com.hivemq.client.mqtt.mqtt5.Mqtt5ClientConfig config,
                com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck connAck) {
            return CompletableFuture.completedFuture(true);
        }

        @Override
        public CompletableFuture<Boolean> onReAuthSuccess(com.hivemq.client.mqtt.mqtt5.Mqtt5ClientConfig config,
                com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5Auth auth) {
            return CompletableFuture.completedFuture(true);
        }

        @Override
        public void onAuthRejected(com.hivemq.client.mqtt.mqtt5.Mqtt5ClientConfig config,
                com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck connAck) {
        }

        @Override
        public void onReAuthRejected(com.hivemq.client.mqtt.mqtt5.Mqtt5ClientConfig config,
                com.hivemq.client.mqtt.mqtt5.message.disconnect.Mqtt5Disconnect disconnect) {
        }

        @Override
        public void onAuthError(com.hivemq.client.mqtt.mqtt5.Mqtt5ClientConfig config, Throwable cause) {
        }

        @Override
        public void onReAuthError(com.hivemq.client.mqtt.mqtt5.Mqtt5ClientConfig config, Throwable cause) {
        }
    }
}
