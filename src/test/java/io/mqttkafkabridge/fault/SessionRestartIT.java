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
}
