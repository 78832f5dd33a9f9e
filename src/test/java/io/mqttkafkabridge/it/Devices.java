package io.mqttkafkabridge.it;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;

/** Real MQTT 3.1.1 clients (HiveMQ MQTT client) connected to the embedded broker over 127.0.0.1. */
final class Devices {

    private Devices() {
    }

    static Mqtt3BlockingClient connect(int port, String clientId, String username) {
        Mqtt3BlockingClient client = MqttClient.builder().useMqttVersion3().identifier(clientId)
                .serverHost("127.0.0.1").serverPort(port).buildBlocking();
        if (username == null) {
            client.connect();
        } else {
            client.connectWith().simpleAuth().username(username).applySimpleAuth().send();
        }
        return client;
    }

    static void publish(Mqtt3BlockingClient client, String topic, byte[] payload, int qos, boolean retain) {
        client.publishWith().topic(topic).payload(payload).qos(MqttQos.fromCode(qos)).retain(retain).send();
    }

    static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
