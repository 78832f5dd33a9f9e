package io.mqttkafkabridge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainLauncher;
import io.quarkus.test.junit.main.QuarkusMainTest;

/**
 * The data folder cannot be written (in a container: a volume mounted without write access for uid 185): the bridge
 * refuses to start and names the folder, its key and the fix. A folder below a regular file stands in for the
 * unwritable volume, because the tests may run as root, who may write anywhere else.
 */
@QuarkusMainTest
@TestProfile(DataPathStartupTest.UnderAFile.class)
class DataPathStartupTest {

    /** bridge.broker.data-path below pom.xml, which is a file. */
    public static class UnderAFile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("bridge.broker.data-path", "pom.xml/data");
        }
    }

    @Test
    void a_data_path_that_cannot_be_written_fails_start_up_naming_the_folder_and_the_key(QuarkusMainLauncher launcher) {
        LaunchResult result = launcher.launch();

        assertThat(result.exitCode()).isNotZero();
        assertThat(result.getOutput() + result.getErrorOutput())
                .containsPattern("Cannot write to \\S*pom.xml/data\\S* \\(bridge.broker.data-path\\)")
                .contains("mount a volume it can write there");
    }
}
