package io.mqttkafkabridge.security;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The users of a Mosquitto password file ({@code bridge.security.password-file}): one {@code user:hash} line per
 * user, as {@code mosquitto_passwd} writes them; blank lines and lines starting with {@code #} are skipped. Lines
 * that cannot be used are reported (line number and reason, never the hash) and left out; users with the weaker
 * {@code $6$} hash are accepted and reported as weak. Immutable: a changed file is read into a new instance.
 */
public final class PasswordFile {

    /** The outcome of a password check. */
    public enum Check {
        ACCEPTED, WRONG_PASSWORD, UNKNOWN_USER
    }

    /** Something about one line of the file, for the log. */
    public record Problem(int line, String user, String reason, boolean lineSkipped) {
    }

    private final Map<String, PasswordHash> users;
    private final List<Problem> problems;

    private PasswordFile(Map<String, PasswordHash> users, List<Problem> problems) {
        this.users = users;
        this.problems = problems;
    }

    /** Reads the lines of a password file. */
    public static PasswordFile parse(List<String> lines) {
        Map<String, PasswordHash> users = new HashMap<>();
        List<Problem> problems = new java.util.ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                problems.add(new Problem(i + 1, null, "not a user:hash line", true));
                continue;
            }
            String user = line.substring(0, colon);
            try {
                PasswordHash hash = PasswordHash.parse(line.substring(colon + 1));
                if (users.putIfAbsent(user, hash) != null) {
                    problems.add(new Problem(i + 1, user, "user listed again; the first line counts", true));
                } else if (hash.type() != PasswordHash.Type.PBKDF2_SHA512) {
                    problems.add(new Problem(i + 1, user, "weak $6$ SHA-512 hash: set the password again with "
                            + "mosquitto_passwd (PBKDF2-SHA512, $7$)", false));
                }
            } catch (IllegalArgumentException e) {
                problems.add(new Problem(i + 1, user, e.getMessage(), true));
            }
        }
        return new PasswordFile(Map.copyOf(users), List.copyOf(problems));
    }

    /** Checks a user name and the password bytes a client sent (null: none). */
    public Check check(String user, byte[] password) {
        PasswordHash hash = user == null ? null : users.get(user);
        if (hash == null) {
            return Check.UNKNOWN_USER;
        }
        return password != null && hash.matches(password) ? Check.ACCEPTED : Check.WRONG_PASSWORD;
    }

    public int users() {
        return users.size();
    }

    public List<Problem> problems() {
        return problems;
    }
}
