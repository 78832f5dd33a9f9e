package io.mqttkafkabridge.fault;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Small helpers for the processes of the fault suite. */
public final class Processes {

    private Processes() {
    }

    /** What a command printed (standard output and error together) and its exit code. */
    public record Result(int exit, String output) {
    }

    /**
     * Runs a command in {@code directory} (null: this one), fails when it does not finish within {@code timeout}, and
     * returns its exit code and output, whatever they are.
     */
    public static Result run(List<String> command, Path directory, Duration timeout) throws IOException, InterruptedException {
        Path out = Files.createTempFile("command-", ".out");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
            if (directory != null) {
                builder.directory(directory.toFile());
            }
            Process process = builder.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
                throw new IllegalStateException(String.join(" ", command) + " did not finish within " + timeout);
            }
            return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** This JVM's class path: java.class.path under Surefire/Failsafe, the class loader's URLs under exec:java. */
    public static String classpath() {
        ClassLoader loader = Processes.class.getClassLoader();
        if (loader instanceof java.net.URLClassLoader urls && urls.getURLs().length > 1) {
            return java.util.Arrays.stream(urls.getURLs()).map(url -> {
                try {
                    return Path.of(url.toURI()).toString();
                } catch (java.net.URISyntaxException e) {
                    throw new IllegalStateException(e);
                }
            }).collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
        }
        return System.getProperty("java.class.path");
    }

    /** A new folder under target/fault for one test's processes and logs. */
    public static Path scratchDir(String name) throws IOException {
        Files.createDirectories(Path.of("target", "fault"));
        return Files.createTempDirectory(Path.of("target", "fault"), name + "-");
    }

    public static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Waits until the log file contains {@code text}, or fails with the log's tail. */
    public static void awaitLog(Process process, Path log, String text, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log).contains(text)) {
                return;
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("process exited (" + process.exitValue() + ") before '" + text + "':\n" + tail(log));
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
        throw new IllegalStateException("no '" + text + "' within " + timeout + ":\n" + tail(log));
    }

    public static String tail(Path log) throws IOException {
        if (!Files.exists(log)) {
            return "(no log)";
        }
        String content = Files.readString(log);
        return content.substring(Math.max(0, content.length() - 4000));
    }
}
