package io.mqttkafkabridge.fault;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;

/**
 * Persistent sessions across a graceful restart of the packaged bridge (h2 session store on its data folder): the
 * subscription and the QoS 1 messages published while the device was offline are there after the restart.
 */
class SessionRestartIT {

    private static Mqtt3BlockingClient client(int port, String id) {
        return MqttClient.builder().useMqttVersion3().identifier(id).serverHost("127.0.0.1").serverPort(port).buildBlocking();
    }

    @Test
    void a_persistent_session_and_its_queued_messages_survive_a_graceful_restart() throws Exception {
        Path dir = Processes.scratchDir("session-restart");
        try (KafkaProcess kafka = new KafkaProcess(dir)) {
            kafka.start();
            try (BridgeProcess bridge = new BridgeProcess(dir, kafka.bootstrapServers(), "session-restart")) {
                bridge.start();
                Mqtt3BlockingClient device = client(bridge.mqttPort(), "sleepy-device");
                device.connectWith().cleanSession(false).keepAlive(30).send();
                device.subscribeWith().topicFilter("commands/sleepy-device").qos(MqttQos.AT_LEAST_ONCE).send();
                device.disconnect();

                Mqtt3BlockingClient sender = client(bridge.mqttPort(), "sender");
                sender.connect();
                for (String text : List.of("one", "two", "three")) {
                    sender.publishWith().topic("commands/sleepy-device").payload(text.getBytes(StandardCharsets.UTF_8))
                            .qos(MqttQos.AT_LEAST_ONCE).send();
                }
                sender.disconnect();

                Duration exit = bridge.terminate(Duration.ofSeconds(30));
                bridge.start();
                bridge.awaitReady();
                // the reopened store's queue is counted against bridge.broker.max-queued-messages from the start
                double queuedAfterRestart = bridge.metric("mqtt_queued_messages");

                Mqtt3BlockingClient again = client(bridge.mqttPort(), "sleepy-device");
                List<String> received = new ArrayList<>();
                try (Mqtt3BlockingClient.Mqtt3Publishes publishes = again.publishes(MqttGlobalPublishFilter.ALL)) {
                    boolean sessionPresent = again.connectWith().cleanSession(false).keepAlive(30).send().isSessionPresent();
                    for (int i = 0; i < 3; i++) {
                        Optional<Mqtt3Publish> message = publishes.receive(15, TimeUnit.SECONDS);
                        message.ifPresent(m -> received.add(new String(m.getPayloadAsBytes(), StandardCharsets.UTF_8)));
                    }
                    System.out.println("SESSION restart: exited " + exit.toMillis() + " ms after SIGTERM, session present "
                            + sessionPresent + ", queued after restart " + queuedAfterRestart + ", received after restart " + received);
                    assertThat(sessionPresent).isTrue();
                    assertThat(received).containsExactly("one", "two", "three");
                    assertThat(queuedAfterRestart).as("mqtt_queued_messages after the restart").isEqualTo(3.0);
                    assertThat(bridge.metric("mqtt_queued_messages")).as("mqtt_queued_messages once delivered").isZero();
                } finally {
                    again.disconnect();
                }
            }
        }
    }

    @Test
    void persistent_sessions_and_their_queued_messages_survive_a_kill_9() throws Exception {
        // Moquette 0.17 alone cannot reopen its store after a crash ("Can't track for expiration a session without
        // expiry instant") and the bridge used to move the whole store aside (MKB0400): every session lost
        Path dir = Processes.scratchDir("session-kill");
        try (KafkaProcess kafka = new KafkaProcess(dir)) {
            kafka.start();
            try (BridgeProcess bridge = new BridgeProcess(dir, kafka.bootstrapServers(), "session-kill")) {
                bridge.start();
                Mqtt3BlockingClient offline = client(bridge.mqttPort(), "offline-at-crash");
                offline.connectWith().cleanSession(false).keepAlive(30).send();
                offline.subscribeWith().topicFilter("commands/offline-at-crash").qos(MqttQos.AT_LEAST_ONCE).send();
                offline.disconnect();
                Mqtt3BlockingClient online = client(bridge.mqttPort(), "online-at-crash");
                online.connectWith().cleanSession(false).keepAlive(30).send();
                online.subscribeWith().topicFilter("commands/online-at-crash").qos(MqttQos.AT_LEAST_ONCE).send();

                Mqtt3BlockingClient sender = client(bridge.mqttPort(), "sender");
                sender.connect();
                for (String text : List.of("one", "two", "three")) {
                    sender.publishWith().topic("commands/offline-at-crash").payload(text.getBytes(StandardCharsets.UTF_8))
                            .qos(MqttQos.AT_LEAST_ONCE).send();
                }
                sender.disconnect();
                // the h2 store saves every 2 s: what it saved is what a crash leaves
                org.awaitility.Awaitility.await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4)).until(() -> true);
                bridge.kill();
                bridge.start();
                bridge.awaitReady();
                String log = bridge.log();

                Mqtt3BlockingClient back = client(bridge.mqttPort(), "offline-at-crash");
                List<String> received = new ArrayList<>();
                boolean offlinePresent;
                try (Mqtt3BlockingClient.Mqtt3Publishes publishes = back.publishes(MqttGlobalPublishFilter.ALL)) {
                    offlinePresent = back.connectWith().cleanSession(false).keepAlive(30).send().isSessionPresent();
                    for (int i = 0; i < 3; i++) {
                        publishes.receive(15, TimeUnit.SECONDS)
                                .ifPresent(m -> received.add(new String(m.getPayloadAsBytes(), StandardCharsets.UTF_8)));
                    }
                } finally {
                    back.disconnect();
                }
                Mqtt3BlockingClient again = client(bridge.mqttPort(), "online-at-crash");
                Optional<Mqtt3Publish> afterRestart;
                boolean onlinePresent;
                try (Mqtt3BlockingClient.Mqtt3Publishes publishes = again.publishes(MqttGlobalPublishFilter.ALL)) {
                    onlinePresent = again.connectWith().cleanSession(false).keepAlive(30).send().isSessionPresent();
                    Mqtt3BlockingClient sender2 = client(bridge.mqttPort(), "sender-2");
                    sender2.connect();
                    sender2.publishWith().topic("commands/online-at-crash").payload("four".getBytes(StandardCharsets.UTF_8))
                            .qos(MqttQos.AT_LEAST_ONCE).send();
                    sender2.disconnect();
                    afterRestart = publishes.receive(15, TimeUnit.SECONDS);
                } finally {
                    again.disconnect();
                }
                System.out.println("SESSION kill -9: store quarantined " + log.contains("MKB0400") + "; offline session present "
                        + offlinePresent + ", received " + received + "; connected session present " + onlinePresent
                        + ", received without subscribing again " + afterRestart.map(m -> new String(m.getPayloadAsBytes(),
                                StandardCharsets.UTF_8)).orElse("nothing"));
                assertThat(log).doesNotContain("MKB0400");
                assertThat(offlinePresent).isTrue();
                assertThat(received).containsExactly("one", "two", "three");
                assertThat(onlinePresent).isTrue();
                assertThat(afterRestart).isPresent();
            }
        }
    }
}
