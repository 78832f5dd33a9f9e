package io.mqttkafkabridge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainLauncher;
import io.quarkus.test.junit.main.QuarkusMainTest;

/** A session-loop queue smaller than Moquette's own 1,024 fails the start, naming the key. */
@QuarkusMainTest
@TestProfile(SessionLoopQueueStartupTest.TooSmall.class)
class SessionLoopQueueStartupTest {

    public static class TooSmall implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("bridge.broker.session-loop-queue-size", "100");
        }
    }

    @Test
    void a_session_loop_queue_below_1024_fails_start_up_naming_the_key(QuarkusMainLauncher launcher) {
        LaunchResult result = launcher.launch();

        assertThat(result.exitCode()).isNotZero();
        assertThat(result.getOutput() + result.getErrorOutput())
                .contains("bridge.broker.session-loop-queue-size must be at least 1024, not 100");
    }
}
