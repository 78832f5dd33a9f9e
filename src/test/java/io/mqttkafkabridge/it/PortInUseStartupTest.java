package io.mqttkafkabridge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainLauncher;
import io.quarkus.test.junit.main.QuarkusMainTest;

/** The MQTT port is taken: the bridge refuses to start and names the port and its key. */
@QuarkusMainTest
@TestProfile(PortInUseStartupTest.PortInUse.class)
class PortInUseStartupTest {

    /** The MQTT port is held by another socket. */
    public static class PortInUse implements QuarkusTestProfile {
        static final ServerSocket HOLDER = hold();

        private static ServerSocket hold() {
            try {
                return new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("bridge.broker.host", "127.0.0.1", "bridge.broker.port", Integer.toString(HOLDER.getLocalPort()));
        }
    }

    @Test
    void a_port_in_use_fails_start_up_naming_the_port_and_the_key(QuarkusMainLauncher launcher) {
        int port = PortInUse.HOLDER.getLocalPort();

        LaunchResult result = launcher.launch();

        assertThat(result.exitCode()).isNotZero();
        assertThat(result.getOutput() + result.getErrorOutput())
                .contains("MQTT port " + port + " on 127.0.0.1 is already in use (bridge.broker.port)");
    }
}
