package io.mqttkafkabridge.container;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The podman command line, for tests that run the container image. Every call is bounded in time. */
final class Podman {

    /** The image the build made (profile container-image in pom.xml), or null where podman is not installed. */
    static final String IMAGE = blankToNull(System.getProperty("bridge.container-image"));

    private Podman() {
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() || value.startsWith("${") ? null : value;
    }

    /** Runs {@code podman args...}, fails unless it exits with 0 within two minutes, and returns its output. */
    static String run(String... args) throws IOException, InterruptedException {
        Result result = attempt(args);
        if (result.exit() != 0) {
            throw new IllegalStateException("podman " + String.join(" ", args) + " exited with " + result.exit() + ":\n"
                    + result.output());
        }
        return result.output();
    }

    /** Runs {@code podman args...} and returns its exit code and output, whatever they are. */
    static Result attempt(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("podman"));
        command.addAll(List.of(args));
        Path out = Files.createTempFile("podman-", ".out");
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!process.waitFor(2, TimeUnit.MINUTES)) {
                process.destroyForcibly().waitFor();
                throw new IllegalStateException("podman " + String.join(" ", args) + " did not finish within 2 minutes");
            }
            return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
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

    record Result(int exit, String output) {
    }
}
