package io.mqttkafkabridge.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;

import io.mqttkafkabridge.config.BridgeConfig;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.routing.TopicFilter;

/**
 * Who may connect, publish and subscribe: {@code bridge.security.*} with Mosquitto's password and ACL files. The
 * files are read at start-up (a configured file that cannot be read fails the start, naming its key) and read
 * again when they change, checked every {@code reload-interval} by a daemon thread; a changed file that cannot be
 * read leaves the previous version in force (MKB0602). Decisions are pure functions of the current files, called
 * on Netty and Moquette threads: they never block on I/O and never throw.
 */
@Singleton
public class MqttAccess {

    /** The outcome of a CONNECT, with its CONNACK return code (MQTT 3.1.1 §3.2.2.3). */
    public enum Login {
        ACCEPTED(0, "accepted"), BAD_CREDENTIALS(4, "bad-credentials"), NOT_AUTHORIZED(5, "not-authorized");

        public final int returnCode;
        public final String outcome;

        Login(int returnCode, String outcome) {
            this.returnCode = returnCode;
            this.outcome = outcome;
        }
    }

    private static final String PASSWORD_KEY = "bridge.security.password-file";
    private static final String ACL_KEY = "bridge.security.acl-file";

    private final boolean allowAnonymous;
    private final Watched<PasswordFile> passwords;
    private final Watched<AclFile> acl;
    private final ScheduledExecutorService reloader;

    MqttAccess(BridgeConfig config) {
        BridgeConfig.Security security = config.security();
        this.allowAnonymous = security.allowAnonymous();
        this.passwords = new Watched<>(PASSWORD_KEY, security.passwordFile(), MqttAccess::passwords);
        this.acl = new Watched<>(ACL_KEY, security.aclFile(), MqttAccess::acl);
        if (!allowAnonymous && security.passwordFile().isEmpty()) {
            BridgeLog.LOG.nobodyCanConnect();
        }
        if (security.passwordFile().isPresent() || security.aclFile().isPresent()) {
            reloader = Executors.newSingleThreadScheduledExecutor(runnable -> {
                Thread thread = new Thread(runnable, "security-file-reloader");
                thread.setDaemon(true);
                return thread;
            });
            long interval = Math.max(100, security.reloadInterval().toMillis());
            reloader.scheduleWithFixedDelay(() -> {
                passwords.reloadIfChanged();
                acl.reloadIfChanged();
            }, interval, interval, TimeUnit.MILLISECONDS);
        } else {
            reloader = null;
        }
    }

    /** CONNECT: user name and password (bytes as sent; null when absent). */
    public Login login(String username, byte[] password) {
        if (username == null) {
            return allowAnonymous ? Login.ACCEPTED : Login.NOT_AUTHORIZED;
        }
        PasswordFile file = passwords.current();
        if (file == null) {
            return allowAnonymous ? Login.ACCEPTED : Login.NOT_AUTHORIZED;
        }
        try {
            return switch (file.check(username, password)) {
                case ACCEPTED -> Login.ACCEPTED;
                case WRONG_PASSWORD -> Login.BAD_CREDENTIALS;
                case UNKNOWN_USER -> Login.NOT_AUTHORIZED;
            };
        } catch (RuntimeException e) {
            return Login.NOT_AUTHORIZED;
        }
    }

    /**
     * An operator signing in to the REST API with HTTP basic: true only when the password file names the user with
     * this password (checked as a CONNECT is; anonymous access does not apply).
     */
    public boolean verifyPassword(String username, byte[] password) {
        PasswordFile file = passwords.current();
        if (username == null || file == null) {
            return false;
        }
        try {
            return file.check(username, password) == PasswordFile.Check.ACCEPTED;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Whether a password file is configured (HTTP basic on the API needs one). */
    public boolean hasPasswordFile() {
        return passwords.current() != null;
    }

    /** Why a PUBLISH to {@code topic} is refused, or empty when it is allowed. */
    public Optional<String> publishDenial(String topic, String username, String clientId) {
        if (topic == null || topic.isEmpty()) {
            return Optional.of("empty topic");
        }
        if (topic.startsWith("$")) {
            return Optional.of("dollar-topic");
        }
        AclFile rules = acl.current();
        try {
            return rules == null || rules.canPublish(topic, username, clientId) ? Optional.empty() : Optional.of("acl");
        } catch (RuntimeException e) {
            return Optional.of("acl");
        }
    }

    /** True when the client may receive a message published to {@code topic}; checked for each delivery. */
    public boolean mayRead(String topic, String username, String clientId) {
        AclFile rules = acl.current();
        try {
            return rules == null || rules.canRead(topic, username, clientId);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** True when the client may subscribe to {@code filter} (a filter Moquette found valid). */
    public boolean maySubscribe(String filter, String username, String clientId) {
        AclFile rules = acl.current();
        if (rules == null) {
            return true;
        }
        try {
            return rules.canSubscribe(TopicFilter.parse(filter), username, clientId);
        } catch (RuntimeException e) {
            return false;
        }
    }

    @PreDestroy
    void stop() {
        if (reloader != null) {
            reloader.shutdownNow();
        }
    }

    private static PasswordFile passwords(Watched<PasswordFile> watched, List<String> lines) {
        PasswordFile file = PasswordFile.parse(lines);
        for (PasswordFile.Problem problem : file.problems()) {
            BridgeLog.LOG.securityFileLine(watched.key, watched.path.toString(), problem.line(),
                    problem.user() == null ? "" : " (user " + problem.user() + ")",
                    problem.reason() + (problem.lineSkipped() ? "; line ignored" : ""));
        }
        BridgeLog.LOG.securityFileLoaded(watched.key, watched.path.toString(), file.users(), "users");
        return file;
    }

    private static AclFile acl(Watched<AclFile> watched, List<String> lines) {
        AclFile file = AclFile.parse(lines);
        for (AclFile.Problem problem : file.problems()) {
            BridgeLog.LOG.securityFileLine(watched.key, watched.path.toString(), problem.line(), "",
                    problem.reason() + "; line ignored");
        }
        BridgeLog.LOG.securityFileLoaded(watched.key, watched.path.toString(), lines.size(), "lines");
        return file;
    }

    /** A file, its parsed content, and what it looked like when it was read. */
    private static final class Watched<T> {
        final String key;
        final Path path;
        final ParseFunction<T> parse;
        volatile T current;
        byte[] lastContent;

        Watched(String key, Optional<Path> file, ParseFunction<T> parse) {
            this.key = key;
            this.path = file.orElse(null);
            this.parse = parse;
            if (path != null) {
                try {
                    lastContent = Files.readAllBytes(path);
                } catch (IOException e) {
                    throw new IllegalStateException("Cannot read " + path.toAbsolutePath() + " (" + key + "): "
                            + e.getClass().getSimpleName() + " " + e.getMessage(), e);
                }
                current = parse.apply(this, lines(lastContent));
            }
        }

        T current() {
            return current;
        }

        void reloadIfChanged() {
            if (path == null) {
                return;
            }
            try {
                byte[] content = Files.readAllBytes(path);
                if (!Arrays.equals(content, lastContent)) {
                    lastContent = content;
                    current = parse.apply(this, lines(content));
                }
            } catch (IOException | RuntimeException e) {
                BridgeLog.LOG.securityFileReloadFailed(key, path.toString(), e.getClass().getSimpleName() + " " + e.getMessage());
            }
        }

        private static List<String> lines(byte[] content) {
            return new String(content, StandardCharsets.UTF_8).lines().toList();
        }
    }

    @FunctionalInterface
    private interface ParseFunction<T> {
        T apply(Watched<T> watched, List<String> lines);
    }
}
