package io.mqttkafkabridge.it;

import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * {@link DownlinkTest} against the packaged application: the container image where the build made one (podman
 * installed, pom.xml profile container-image), otherwise the jar. Runs with the %test routes.
 */
@QuarkusIntegrationTest
class DownlinkIT extends DownlinkTest {
}
