package io.mqttkafkabridge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainLauncher;
import io.quarkus.test.junit.main.QuarkusMainTest;

/** Broken routes: the bridge refuses to start and names every route and key that is wrong. */
@QuarkusMainTest
@TestProfile(BrokenRoutesStartupTest.BrokenRoutes.class)
class BrokenRoutesStartupTest {

    /** Routes broken in every way the route table checks. */
    public static class BrokenRoutes implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "bridge.uplink.routes.broken-filter.mqtt-filter", "devices/#/telemetry",
                    "bridge.uplink.routes.broken-filter.kafka-topic", "t",
                    "bridge.uplink.routes.no-topic.mqtt-filter", "a/+",
                    "bridge.uplink.routes.bad-key.mqtt-filter", "a/+",
                    "bridge.uplink.routes.bad-key.kafka-topic", "t",
                    "bridge.uplink.routes.bad-key.key", "serial-number",
                    "bridge.downlink.routes.bad-template.kafka-topic", "commands",
                    "bridge.downlink.routes.bad-template.mqtt-topic", "devices/{device}/commands");
        }
    }

    @Test
    void broken_routes_fail_start_up_naming_each_route_and_key(QuarkusMainLauncher launcher) {
        LaunchResult result = launcher.launch();

        assertThat(result.exitCode()).isNotZero();
        assertThat(result.getOutput() + result.getErrorOutput())
                .contains("Invalid route configuration (4 problems)")
                .contains("bridge.uplink.routes.broken-filter.mqtt-filter='devices/#/telemetry' is not a valid MQTT topic filter")
                .contains("bridge.uplink.routes.no-topic.kafka-topic is missing")
                .contains("bridge.uplink.routes.bad-key.key: unknown key strategy 'serial-number'")
                .contains("bridge.downlink.routes.bad-template.mqtt-topic='devices/{device}/commands' is not a valid topic template")
                .doesNotContain("MKB0001");
    }

}
