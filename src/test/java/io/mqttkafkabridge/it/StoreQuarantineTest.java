package io.mqttkafkabridge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.stream.Stream;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.mqttkafkabridge.broker.EmbeddedBroker;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/** A broker store that Moquette cannot open is moved aside, kept, counted, and the bridge starts anyway. */
@QuarkusTest
@TestProfile(StoreQuarantineTest.BrokenStore.class)
@WithTestResource(KafkaTestResource.class)
class StoreQuarantineTest {

    /** An h2 store full of garbage, as a crash can leave it. Shared through a system property: two class loaders. */
    public static class BrokenStore implements QuarkusTestProfile {
        static final Path DIR = Paths.get(dir());

        private static synchronized String dir() {
            String value = System.getProperty("store-quarantine-test.dir");
            if (value == null) {
                try {
                    Files.createDirectories(Paths.get("target"));
                    Path dir = Files.createTempDirectory(Paths.get("target"), "broken-store-");
                    byte[] garbage = new byte[64 * 1024];
                    new java.util.Random(7).nextBytes(garbage);
                    Files.write(dir.resolve("moquette_store.h2"), garbage);
                    value = dir.toString();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                System.setProperty("store-quarantine-test.dir", value);
            }
            return value;
        }

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("bridge.broker.persistence", "h2", "bridge.broker.data-path", DIR.toString());
        }
    }

    @Inject
    EmbeddedBroker broker;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    @Test
    void the_broken_store_is_kept_aside_and_the_broker_serves() throws IOException {
        try (Stream<Path> files = Files.list(BrokenStore.DIR)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .anyMatch(name -> name.startsWith("moquette_store.h2.broken-"));
        }
        assertThat(PrometheusMetrics.value(metrics, "bridge_broker_store_quarantined_total")).isEqualTo(1);
        assertThat(broker.started()).as("the downlink may publish").isCompleted();
        Devices.connect(broker.port(), Devices.unique("after-quarantine"), null).disconnect();
    }
}
