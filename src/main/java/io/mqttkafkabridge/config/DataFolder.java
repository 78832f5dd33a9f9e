package io.mqttkafkabridge.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The folders the bridge writes to (broker store, uplink journal): created when missing, and checked for writing at
 * start-up so that a volume mounted without write access fails the start with the key and the fix named, instead of
 * a stack trace from deep inside the journal or the store.
 */
public final class DataFolder {

    private DataFolder() {
    }

    /**
     * Creates {@code folder} if needed and checks that this process can write to it.
     *
     * @param key the configuration key that names the folder, for the message
     */
    public static Path writable(Path folder, String key) {
        Path dir = folder.toAbsolutePath();
        try {
            Files.createDirectories(dir);
            Path probe = Files.createTempFile(dir, ".write-check-", ".tmp");
            Files.delete(probe);
            return dir;
        } catch (AccessDeniedException e) {
            throw new UncheckedIOException(message(dir, key, "access denied to " + e.getFile()), e);
        } catch (IOException e) {
            throw new UncheckedIOException(message(dir, key, e.getClass().getSimpleName() + ": " + e.getMessage()), e);
        }
    }

    private static String message(Path dir, String key, String reason) {
        return "Cannot write to " + dir + " (" + key + "): " + reason + ". The bridge runs as user '"
                + System.getProperty("user.name") + "': mount a volume it can write there (Kubernetes: a "
                + "PersistentVolumeClaim with securityContext.fsGroup; podman: -v NAME:" + dir + ":U) or set " + key
                + " to a writable folder";
    }
}
