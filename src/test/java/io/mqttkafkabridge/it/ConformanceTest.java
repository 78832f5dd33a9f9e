package io.mqttkafkabridge.it;

import static io.mqttkafkabridge.it.Devices.unique;
import static io.mqttkafkabridge.it.Devices.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3ConnAckException;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAckReturnCode;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/** MQTT 3.1.1 behaviour a client relies on, with the specification's clause in each test's name or comment. */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
class ConformanceTest {

    @TestHTTPResource("/api/v1/broker")
    URI brokerApi;

    @TestHTTPResource("/api/v1/clients")
    URI clientsApi;

    private java.util.Set<String> clientIds() throws Exception {
        java.util.Set<String> ids = new java.util.HashSet<>();
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(Http.get(clientsApi).body()).forEach(c -> ids.add(c.path("id").asText()));
        return ids;
    }

    @TestHTTPResource("/api/v1/publish")
    URI publishApi;

    private int port() {
        return Devices.mqttPort(brokerApi);
    }

    @Test
    void a_zero_length_client_id_with_clean_session_is_accepted_and_without_it_refused_with_connack_2() throws Exception {
        // MQTT-3.1.3-6: the server assigns an id; MQTT-3.1.3-8: CONNACK 2 when clean session is 0
        java.util.Set<String> before = clientIds();
        Mqtt3BlockingClient anonymousId = Devices.client(port(), null).buildBlocking();
        anonymousId.connectWith().cleanSession(true).send();
        anonymousId.publishWith().topic("conformance/no-id").payload(utf8("x")).qos(MqttQos.AT_LEAST_ONCE).send();
        // listed under the id the broker assigned, and gone once it leaves
        java.util.Set<String> assigned = new java.util.HashSet<>(clientIds());
        assigned.removeAll(before);
        assertThat(assigned).as("the id the broker assigned").hasSize(1).allMatch(id -> id.length() == 32);
        anonymousId.disconnect();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(clientIds()).as("client ids listed after the disconnect").doesNotContainAnyElementsOf(assigned));

        Mqtt3BlockingClient persistent = Devices.client(port(), null).buildBlocking();
        Mqtt3ConnAckException refused = catchThrowableOfType(Mqtt3ConnAckException.class,
                () -> persistent.connectWith().cleanSession(false).send());
        assertThat(refused).isNotNull();
        assertThat(refused.getMqttMessage().getReturnCode()).isEqualTo(Mqtt3ConnAckReturnCode.IDENTIFIER_REJECTED);
    }

    @Test
    void a_will_is_published_when_the_connection_ends_without_disconnect_to_subscribers_and_to_the_uplink() throws Exception {
        // MQTT-3.1.2-8: the will is published when the network connection is closed without a DISCONNECT. The bridge
        // publishes it (Moquette is handed the CONNECT without it), so it is also journaled as a publish of its client
        String id = unique("will");
        String topic = "sensors/" + id + "/status";
        Mqtt3BlockingClient watcher = Devices.connect(port(), unique("watcher"), null);
        try (Mqtt3BlockingClient.Mqtt3Publishes received = watcher.publishes(MqttGlobalPublishFilter.ALL)) {
            watcher.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();
            try (java.net.Socket socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port())) {
                socket.setSoTimeout(10_000);
                java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
                // clean session, will flag, will QoS 1
                body.writeBytes(new byte[] {0, 4, 'M', 'Q', 'T', 'T', 4, 0x0E, 0, 60});
                io.mqttkafkabridge.fault.PacketFuzzer.string(body, id);
                io.mqttkafkabridge.fault.PacketFuzzer.string(body, topic);
                io.mqttkafkabridge.fault.PacketFuzzer.string(body, "offline");
                socket.getOutputStream().write(io.mqttkafkabridge.fault.PacketFuzzer.packet(0x10, body.toByteArray()));
                PersistentSessionTest.RawMqtt.connackSessionPresent(socket);
            } // closed without DISCONNECT
            Optional<Mqtt3Publish> will = received.receive(10, TimeUnit.SECONDS);
            assertThat(will).isPresent();
            assertThat(will.get().getTopic().toString()).isEqualTo(topic);
            assertThat(new String(will.get().getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("offline");
            assertThat(will.get().getQos()).isEqualTo(MqttQos.AT_LEAST_ONCE);
            assertThat(received.receive(1, TimeUnit.SECONDS)).as("published once").isEmpty();
        }
        assertThat(KafkaTopics.withValue("it-sensors", utf8("offline"), 1))
                .anySatisfy(r -> assertThat(KafkaTopics.header(r, "mqtt.client-id")).isEqualTo(id));
    }

    @Test
    void a_will_is_not_published_after_a_disconnect_and_is_published_when_the_client_id_is_taken_over() throws Exception {
        // MQTT-3.14.4-3: DISCONNECT discards the will. A takeover closes the old connection without one, so its will is
        // published, as Mosquitto does and MQTT 5 (3.1.4) says
        String id = unique("will-takeover");
        String topic = "conformance/wills/" + id;
        Mqtt3BlockingClient watcher = Devices.connect(port(), unique("watcher"), null);
        try (Mqtt3BlockingClient.Mqtt3Publishes received = watcher.publishes(MqttGlobalPublishFilter.ALL)) {
            watcher.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();
            Mqtt3BlockingClient polite = Devices.client(port(), id).buildBlocking();
            polite.connectWith().willPublish().topic(topic).payload(utf8("polite")).applyWillPublish().send();
            polite.disconnect();
            assertThat(received.receive(1, TimeUnit.SECONDS)).as("no will after DISCONNECT").isEmpty();

            Mqtt3BlockingClient first = Devices.client(port(), id).buildBlocking();
            first.connectWith().willPublish().topic(topic).payload(utf8("taken over")).applyWillPublish().send();
            Mqtt3BlockingClient second = Devices.client(port(), id).buildBlocking();
            second.connect();
            Optional<Mqtt3Publish> will = received.receive(10, TimeUnit.SECONDS);
            assertThat(will).isPresent();
            assertThat(new String(will.get().getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("taken over");
            second.disconnect();
            assertThat(received.receive(1, TimeUnit.SECONDS)).as("nothing more").isEmpty();
        }
    }

    @Test
    void a_client_id_ending_in_meta_is_refused_with_connack_2() {
        // Moquette 0.18.1's fix (#964): the h2 store keeps a client's queue index under "<client id>_meta", so a
        // client named "<victim>_meta" would read and change another client's stored queue
        Mqtt3BlockingClient client = Devices.client(port(), unique("victim") + "_meta").buildBlocking();
        Mqtt3ConnAckException refused = catchThrowableOfType(Mqtt3ConnAckException.class, () -> client.connectWith()
                .cleanSession(false).send());
        assertThat(refused).isNotNull();
        assertThat(refused.getMqttMessage().getReturnCode()).isEqualTo(Mqtt3ConnAckReturnCode.IDENTIFIER_REJECTED);
    }

    @Test
    void topics_and_filters_deeper_than_max_topic_levels_are_refused() throws Exception {
        // bridge.broker.max-topic-levels (200 by default, as Mosquitto's limit): a deeper filter gets SUBACK 0x80, a
        // deeper PUBLISH closes the connection (Moquette 0.18.1 limits topic depth too)
        String deep = "conformance/" + "level/".repeat(199) + "end"; // 201 levels
        Mqtt3BlockingClient client = Devices.connect(port(), unique("deep"), null);
        com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3SubAckException denied = catchThrowableOfType(
                com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3SubAckException.class,
                () -> client.subscribeWith().topicFilter(deep).qos(MqttQos.AT_LEAST_ONCE).send());
        assertThat(denied).isNotNull();
        assertThat(client.subscribeWith().topicFilter("conformance/" + "level/".repeat(198) + "end").qos(MqttQos.AT_LEAST_ONCE)
                .send().getReturnCodes()).as("200 levels").hasSize(1)
                .allMatch(code -> !code.isError());
        Throwable closed = org.assertj.core.api.Assertions.catchThrowable(() -> client.publishWith().topic(deep)
                .payload(utf8("deep")).qos(MqttQos.AT_LEAST_ONCE).send());
        assertThat(closed).as("the connection is closed for the PUBLISH").isNotNull();
        assertThat(client.getState().isConnected()).isFalse();
    }

    @Test
    void packets_sent_right_after_connect_before_the_connack_are_served() throws Exception {
        // MQTT 3.1.4: "Clients are allowed to send further Control Packets immediately after sending a CONNECT". Moquette
        // 0.17 alone drops a connection whose SUBSCRIBE it reads before its CONNACK write completed; here CONNECT and
        // SUBSCRIBE arrive in one TCP segment
        String id = unique("eager");
        try (java.net.Socket socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port())) {
            socket.setSoTimeout(10_000);
            java.io.ByteArrayOutputStream both = new java.io.ByteArrayOutputStream();
            both.writeBytes(PersistentSessionTest.RawMqtt.connectPacket(id, true));
            both.writeBytes(PersistentSessionTest.RawMqtt.subscribePacket("conformance/eager/" + id));
            socket.getOutputStream().write(both.toByteArray());
            PersistentSessionTest.RawMqtt.connackSessionPresent(socket);
            byte[] suback = PersistentSessionTest.RawMqtt.read(socket, 0x90);
            assertThat(suback[2]).as("granted QoS").isEqualTo((byte) 1);
        }
    }

    @Test
    void nothing_is_ever_published_to_a_dollar_topic_so_wildcard_subscriptions_never_see_one() throws Exception {
        // MQTT 4.7.2: '#' and '+/...' must not match topics starting with '$'. Moquette's matching does not exclude
        // them, so the bridge lets nobody publish there: devices (ACL layer, see BrokerSecurityTest), the REST API and
        // downlink routes (topic names starting with '$' are refused).
        assertThat(Http.post(publishApi, "{\"topic\":\"$SYS/uptime\",\"payload\":\"1\"}").statusCode()).isEqualTo(400);

        Mqtt3BlockingClient everything = Devices.connect(port(), unique("everything"), null);
        try (Mqtt3BlockingClient.Mqtt3Publishes received = everything.publishes(MqttGlobalPublishFilter.ALL)) {
            everything.subscribeWith().topicFilter("#").qos(MqttQos.AT_LEAST_ONCE).send();
            Mqtt3BlockingClient device = Devices.connect(port(), unique("dollar"), null);
            device.publishWith().topic("$SYS/broker/clients").payload(utf8("forged")).qos(MqttQos.AT_LEAST_ONCE).send();
            device.publishWith().topic("conformance/visible").payload(utf8("seen")).qos(MqttQos.AT_LEAST_ONCE).send();
            device.disconnect();
            Optional<Mqtt3Publish> first = received.receive(10, TimeUnit.SECONDS);
            while (first.isPresent() && first.get().isRetain()) {
                first = received.receive(10, TimeUnit.SECONDS); // what other tests retained comes first
            }
            assertThat(first).isPresent();
            assertThat(first.get().getTopic().toString()).isEqualTo("conformance/visible");
        } finally {
            everything.disconnect();
        }
    }

    @Test
    void a_retained_message_goes_to_new_subscribers_and_a_qos_0_retained_publish_replaces_it() throws Exception {
        String topic = "conformance/retained/" + unique("t");
        Mqtt3BlockingClient device = Devices.connect(port(), unique("retainer"), null);
        device.publishWith().topic(topic).payload(utf8("kept")).qos(MqttQos.AT_LEAST_ONCE).retain(true).send();

        // MQTT-3.3.1-6: a new subscription gets the retained message
        assertThat(firstMessageOnSubscribe(topic)).contains("kept");

        // MQTT-3.3.1-10: an empty retained publish removes it
        device.publishWith().topic(topic).payload(new byte[0]).qos(MqttQos.AT_LEAST_ONCE).retain(true).send();
        assertThat(firstMessageOnSubscribe(topic)).isEmpty();

        // MQTT-3.3.1-7: a QoS 0 retained publish replaces the message retained before it, and is kept, as Mosquitto
        // keeps it (Moquette 0.17 alone discards it)
        device.publishWith().topic(topic).payload(utf8("kept again")).qos(MqttQos.AT_LEAST_ONCE).retain(true).send();
        device.publishWith().topic(topic).payload(utf8("qos 0")).qos(MqttQos.AT_MOST_ONCE).retain(true).send();
        assertThat(firstMessageOnSubscribe(topic)).contains("qos 0");
        device.publishWith().topic(topic).payload(new byte[0]).qos(MqttQos.AT_MOST_ONCE).retain(true).send();
        assertThat(firstMessageOnSubscribe(topic)).as("cleared by an empty QoS 0 retained publish").isEmpty();
        device.disconnect();
    }

    @Test
    void a_message_sent_to_a_new_subscription_from_the_retained_store_has_retain_set_and_a_live_one_does_not() throws Exception {
        // MQTT-3.3.1-8: RETAIN=1 on what a new subscription gets from the retained store; MQTT-3.3.1-9: RETAIN=0 on a
        // message published while the subscription exists (Moquette 0.17 alone sends both with RETAIN=0)
        String topic = "conformance/retain-flag/" + unique("t");
        Mqtt3BlockingClient device = Devices.connect(port(), unique("retainer"), null);
        device.publishWith().topic(topic).payload(utf8("stored")).qos(MqttQos.AT_LEAST_ONCE).retain(true).send();
        Mqtt3BlockingClient subscriber = Devices.connect(port(), unique("late"), null);
        try (Mqtt3BlockingClient.Mqtt3Publishes received = subscriber.publishes(MqttGlobalPublishFilter.ALL)) {
            subscriber.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();
            Mqtt3Publish fromStore = received.receive(5, TimeUnit.SECONDS).orElseThrow();
            assertThat(fromStore.isRetain()).as("RETAIN of the stored message").isTrue();
            device.publishWith().topic(topic).payload(utf8("live")).qos(MqttQos.AT_LEAST_ONCE).retain(true).send();
            Mqtt3Publish live = received.receive(5, TimeUnit.SECONDS).orElseThrow();
            assertThat(new String(live.getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("live");
            assertThat(live.isRetain()).as("RETAIN of a message published while subscribed").isFalse();
        } finally {
            subscriber.disconnect();
            device.publishWith().topic(topic).payload(new byte[0]).qos(MqttQos.AT_LEAST_ONCE).retain(true).send();
            device.disconnect();
        }
    }

    @Test
    void no_message_for_a_filter_arrives_after_its_unsuback() throws Exception {
        // MQTT-3.10.4-2: after UNSUBSCRIBE the server stops adding messages for the filter; Mosquitto delivers none once
        // the UNSUBACK is out. A publisher keeps sending QoS 1 while the subscriber unsubscribes. The subscriber reads
        // the wire itself: a client library hands publishes and the UNSUBACK to the application on different threads
        // (HiveMQ's client observes each on its own scheduler worker), so only the wire tells what came after what.
        String topic = "conformance/unsubscribe/" + unique("t");
        java.util.concurrent.atomic.AtomicBoolean publishing = new java.util.concurrent.atomic.AtomicBoolean(true);
        Mqtt3AsyncClient publisher = Devices.client(port(), unique("talker")).buildAsync();
        Thread load = new Thread(() -> {
            java.util.concurrent.Semaphore window = new java.util.concurrent.Semaphore(200);
            for (int i = 0; i < 50_000 && publishing.get(); i++) {
                try {
                    if (!window.tryAcquire(5, TimeUnit.SECONDS)) {
                        return;
                    }
                } catch (InterruptedException e) {
                    return;
                }
                publisher.publishWith().topic(topic).payload(utf8("m" + i)).qos(MqttQos.AT_LEAST_ONCE).send()
                        .whenComplete((ack, failure) -> window.release());
            }
        });
        int before = 0;
        int after = 0;
        boolean unsubacked = false;
        try (java.net.Socket subscriber = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port())) {
            subscriber.setSoTimeout(10_000);
            PersistentSessionTest.RawMqtt.connect(subscriber, unique("leaver"), true);
            PersistentSessionTest.RawMqtt.subscribe(subscriber, topic);
            publisher.connectWith().cleanSession(true).send().get(10, TimeUnit.SECONDS);
            load.start();
            long until = Long.MAX_VALUE;
            while (System.nanoTime() < until) {
                PersistentSessionTest.RawMqtt.Packet packet;
                try {
                    packet = PersistentSessionTest.RawMqtt.next(subscriber);
                } catch (java.net.SocketTimeoutException quiet) {
                    assertThat(unsubacked).as("UNSUBACK received").isTrue();
                    break;
                }
                if (packet.type() == 0x30) {
                    if (unsubacked) {
                        after++;
                    } else if (++before == 200) {
                        subscriber.getOutputStream().write(PersistentSessionTest.RawMqtt.unsubscribePacket(2, topic));
                    }
                    PersistentSessionTest.RawMqtt.puback(subscriber, packet.publishPacketId());
                } else if (packet.type() == 0xB0 && packet.packetId() == 2) {
                    unsubacked = true;
                    until = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
                    subscriber.setSoTimeout(1_000);
                }
            }
        } finally {
            publishing.set(false);
            load.join(10_000);
            publisher.disconnect().get(10, TimeUnit.SECONDS);
        }
        assertThat(before).isGreaterThanOrEqualTo(200);
        assertThat(unsubacked).as("UNSUBACK received").isTrue();
        assertThat(after).as("messages received after the UNSUBACK").isZero();
    }

    private Optional<String> firstMessageOnSubscribe(String topic) throws InterruptedException {
        Mqtt3BlockingClient subscriber = Devices.connect(port(), unique("late"), null);
        try (Mqtt3BlockingClient.Mqtt3Publishes received = subscriber.publishes(MqttGlobalPublishFilter.ALL)) {
            subscriber.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();
            return received.receive(2, TimeUnit.SECONDS).map(p -> new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8));
        } finally {
            subscriber.disconnect();
        }
    }

    @Test
    void an_unacknowledged_qos_1_message_is_sent_again_when_the_persistent_session_reconnects() throws Exception {
        // MQTT-4.4.0-1: on reconnect with clean session 0 the server re-sends unacknowledged PUBLISH packets
        String id = unique("forgetful");
        String topic = "conformance/resend/" + id;
        Mqtt3AsyncClient device = Devices.client(port(), id).buildAsync();
        java.util.concurrent.CompletableFuture<Mqtt3Publish> firstDelivery = new java.util.concurrent.CompletableFuture<>();
        device.publishes(MqttGlobalPublishFilter.ALL, firstDelivery::complete, true); // manual acknowledgement: never acked
        device.connectWith().cleanSession(false).send().get(10, TimeUnit.SECONDS);
        device.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send().get(10, TimeUnit.SECONDS);

        Mqtt3BlockingClient publisher = Devices.connect(port(), unique("sender"), null);
        publisher.publishWith().topic(topic).payload(utf8("important")).qos(MqttQos.AT_LEAST_ONCE).send();
        publisher.disconnect();
        assertThat(new String(firstDelivery.get(10, TimeUnit.SECONDS).getPayloadAsBytes(), StandardCharsets.UTF_8))
                .isEqualTo("important");
        device.disconnect().get(10, TimeUnit.SECONDS);

        Mqtt3BlockingClient again = Devices.client(port(), id).buildBlocking();
        try (Mqtt3BlockingClient.Mqtt3Publishes received = again.publishes(MqttGlobalPublishFilter.ALL)) {
            assertThat(again.connectWith().cleanSession(false).send().isSessionPresent()).isTrue();
            // at once, as Mosquitto does: well before Moquette 0.17's 5 s resend timer would
            Optional<Mqtt3Publish> resent = received.receive(2, TimeUnit.SECONDS);
            assertThat(resent).as("the unacknowledged message, again").isPresent();
            assertThat(new String(resent.get().getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("important");
        } finally {
            again.disconnect();
        }
    }
}
