package io.mqttkafkabridge.container;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.mqttkafkabridge.fault.Processes;

/** The podman command line, for tests that run the container image. Every call is bounded in time. */
final class Podman {

    /** The image the build made (profile container-image in pom.xml), or null where podman is not installed. */
    static final String IMAGE = blankToNull(System.getProperty("bridge.container-image"));

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private Podman() {
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() || value.startsWith("${") ? null : value;
    }

    /** Runs {@code podman args...}, fails unless it exits with 0 within two minutes, and returns its output. */
    static String run(String... args) throws IOException, InterruptedException {
        Processes.Result result = attempt(args);
        if (result.exit() != 0) {
            throw new IllegalStateException("podman " + String.join(" ", args) + " exited with " + result.exit() + ":\n"
                    + result.output());
        }
        return result.output();
    }

    /** Runs {@code podman args...} (at most two minutes) and returns its exit code and output, whatever they are. */
    static Processes.Result attempt(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("podman"));
        command.addAll(List.of(args));
        return Processes.run(command, null, Duration.ofMinutes(2));
    }

    /** Removes containers, pods and volumes by name; what does not exist is ignored. */
    static void remove(String kind, String... names) throws IOException, InterruptedException {
        for (String name : names) {
            switch (kind) {
                case "container" -> attempt("rm", "-f", "-t", "0", name);
                case "pod" -> attempt("pod", "rm", "-f", "-t", "0", name);
                case "volume" -> attempt("volume", "rm", "-f", name);
                default -> throw new IllegalArgumentException(kind);
            }
        }
    }

    /**
     * Waits until the bridge in {@code container} answers 200 on {@code /q/health/ready} at 127.0.0.1:{@code httpPort};
     * fails with the last answer and the container's log.
     */
    static void awaitReady(int httpPort, Duration timeout, String container) throws IOException, InterruptedException {
        URI ready = URI.create("http://127.0.0.1:" + httpPort + "/q/health/ready");
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
                last = response.statusCode() + " " + response.body();
            } catch (IOException notYet) {
                // not listening yet
            }
            TimeUnit.MILLISECONDS.sleep(250);
        }
        throw new AssertionError(container + " was not ready within " + timeout + " (" + last + "); its log:\n"
                + attempt("logs", container).output());
    }

}
