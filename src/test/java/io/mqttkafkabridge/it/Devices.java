package io.mqttkafkabridge.it;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3ClientBuilder;

/** Real MQTT 3.1.1 clients (HiveMQ MQTT client) connected to the embedded broker over 127.0.0.1. */
final class Devices {

    private Devices() {
    }

    /**
     * The MQTT port the running bridge listens on, as its REST API reports it ({@code GET /api/v1/broker}): the same
     * call works for {@code @QuarkusTest} (port 0 picks a free port) and for {@code @QuarkusIntegrationTest} (the
     * packaged jar or the container image).
     */
    static int mqttPort(java.net.URI brokerApi) {
        try {
            java.net.http.HttpResponse<String> response = Http.get(brokerApi);
            if (response.statusCode() != 200) {
                throw new IllegalStateException("GET " + brokerApi + " answered " + response.statusCode() + ": " + response.body());
            }
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(response.body()).path("mqttPort").asInt();
        } catch (Exception e) {
            throw new IllegalStateException("could not read the MQTT port from " + brokerApi, e);
        }
    }

    /** An MQTT 3.1.1 client of the broker at 127.0.0.1:{@code port}, not connected; no {@code clientId}: the broker assigns one. */
    static Mqtt3ClientBuilder client(int port, String clientId) {
        Mqtt3ClientBuilder builder = MqttClient.builder().useMqttVersion3().serverHost("127.0.0.1").serverPort(port);
        return clientId == null ? builder : builder.identifier(clientId);
    }

    static Mqtt3BlockingClient connect(int port, String clientId, String username) {
        Mqtt3BlockingClient client = client(port, clientId).buildBlocking();
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
