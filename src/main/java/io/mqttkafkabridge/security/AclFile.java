package io.mqttkafkabridge.security;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiPredicate;
import java.util.function.Predicate;

import io.mqttkafkabridge.routing.TopicFilter;

/**
 * Topic permissions from a Mosquitto ACL file ({@code bridge.security.acl-file}), with Mosquitto 2's meaning:
 * <ul>
 * <li>{@code topic [read|write|readwrite|deny] <filter>} lines before the first {@code user} line apply to clients
 * without a user name; after {@code user <name>}, to that user (access defaults to readwrite);</li>
 * <li>{@code pattern [read|write|readwrite|deny] <filter>} lines apply to every client, with {@code %u} replaced by
 * its user name and {@code %c} by its client id; a pattern whose placeholder the client cannot fill (no user name,
 * or a value containing {@code +}, {@code #} or {@code /}) grants nothing;</li>
 * <li>what is not granted is denied, and {@code deny} wins over any grant;</li>
 * <li>PUBLISH needs write access to the topic;</li>
 * <li>as in Mosquitto, read access is checked for each message when it is delivered ({@link #canRead}); a SUBSCRIBE is
 * refused only when its filter can match no topic the client may read: no read line overlaps it, or a deny line covers
 * it whole ({@link #canSubscribe}). So {@code topic deny secret/#} with {@code topic read #} grants a subscription to
 * {@code #} that never delivers {@code secret/x}.</li>
 * </ul>
 * Immutable and thread-safe; never throws from the checks. Lines it cannot use are reported and left out.
 */
public final class AclFile {

    /** What a line grants. */
    public enum Access {
        READ, WRITE, READWRITE, DENY;

        boolean reads() {
            return this == READ || this == READWRITE;
        }

        boolean writes() {
            return this == WRITE || this == READWRITE;
        }
    }

    /** One topic or pattern line; {@code parsed} when it has no placeholder (parsed once, at load). */
    record Rule(Access access, String filter, boolean pattern, TopicFilter parsed) {
    }

    /** A line that was left out, for the log. */
    public record Problem(int line, String reason) {
    }

    private final List<Rule> anonymous;
    private final Map<String, List<Rule>> users;
    private final List<Rule> patterns;
    private final List<Problem> problems;

    private AclFile(List<Rule> anonymous, Map<String, List<Rule>> users, List<Rule> patterns, List<Problem> problems) {
        this.anonymous = anonymous;
        this.users = users;
        this.patterns = patterns;
        this.problems = problems;
    }

    /** Reads the lines of an ACL file. */
    public static AclFile parse(List<String> lines) {
        List<Rule> anonymous = new ArrayList<>();
        Map<String, List<Rule>> users = new HashMap<>();
        List<Rule> patterns = new ArrayList<>();
        List<Problem> problems = new ArrayList<>();
        List<Rule> current = anonymous;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] words = line.split("\\s+", 2);
            String keyword = words[0].toLowerCase(Locale.ROOT);
            String rest = words.length > 1 ? words[1].strip() : "";
            switch (keyword) {
                case "user" -> {
                    if (rest.isEmpty()) {
                        problems.add(new Problem(i + 1, "'user' without a name"));
                        current = new ArrayList<>(); // its topic lines apply to nobody
                    } else {
                        current = users.computeIfAbsent(rest, k -> new ArrayList<>());
                    }
                }
                case "topic", "pattern" -> {
                    Rule rule = rule(rest, keyword.equals("pattern"), i + 1, problems);
                    if (rule != null) {
                        (rule.pattern() ? patterns : current).add(rule);
                    }
                }
                default -> problems.add(new Problem(i + 1, "unknown keyword '" + words[0] + "' (topic, pattern, user)"));
            }
        }
        Map<String, List<Rule>> frozen = new HashMap<>();
        users.forEach((user, rules) -> frozen.put(user, List.copyOf(rules)));
        return new AclFile(List.copyOf(anonymous), Map.copyOf(frozen), List.copyOf(patterns), List.copyOf(problems));
    }

    private static Rule rule(String rest, boolean pattern, int line, List<Problem> problems) {
        Access access = Access.READWRITE;
        String filter = rest;
        String[] words = rest.split("\\s+", 2);
        if (words.length == 2) {
            try {
                access = Access.valueOf(words[0].toUpperCase(Locale.ROOT));
                filter = words[1].strip();
            } catch (IllegalArgumentException notAnAccessWord) {
                // the whole rest is the topic (topics may contain spaces)
            }
        }
        try {
            TopicFilter parsed = TopicFilter.parse(filter.replace("%u", "u").replace("%c", "c"));
            boolean placeholders = pattern && (filter.contains("%u") || filter.contains("%c"));
            return new Rule(access, filter, pattern, placeholders ? null : parsed);
        } catch (IllegalArgumentException e) {
            problems.add(new Problem(line, e.getMessage()));
            return null;
        }
    }

    /** True when the client may publish to {@code topic} (a topic name). */
    public boolean canPublish(String topic, String user, String clientId) {
        return decide(user, clientId, rule -> rule.matches(topic), (access, rule) -> access.writes() && rule.matches(topic));
    }

    /** True when the client may receive a message published to {@code topic} (a topic name). */
    public boolean canRead(String topic, String user, String clientId) {
        return decide(user, clientId, rule -> rule.matches(topic), (access, rule) -> access.reads() && rule.matches(topic));
    }

    /**
     * True when {@code filter} may match a topic the client can read: some read line overlaps it and no deny line
     * covers it whole. What it matches is then checked message by message ({@link #canRead}).
     */
    public boolean canSubscribe(TopicFilter filter, String user, String clientId) {
        return decide(user, clientId, rule -> rule.covers(filter), (access, rule) -> access.reads() && rule.overlaps(filter));
    }

    /**
     * Deny wins: false as soon as a deny line of the client {@code hits}; otherwise true when one of its other lines
     * {@code grants}. The client's lines are its user block (or the anonymous lines), then the patterns, filled in
     * for it; lines without placeholders were parsed at load.
     */
    private boolean decide(String user, String clientId, Predicate<TopicFilter> hits, BiPredicate<Access, TopicFilter> grants) {
        boolean granted = false;
        for (Rule rule : user == null ? anonymous : users.getOrDefault(user, List.of())) {
            if (rule.access() == Access.DENY && hits.test(rule.parsed())) {
                return false;
            }
            granted |= rule.access() != Access.DENY && grants.test(rule.access(), rule.parsed());
        }
        for (Rule rule : patterns) {
            TopicFilter filter = rule.parsed() != null ? rule.parsed() : fillIn(rule.filter(), user, clientId);
            if (filter == null) {
                continue;
            }
            if (rule.access() == Access.DENY && hits.test(filter)) {
                return false;
            }
            granted |= rule.access() != Access.DENY && grants.test(rule.access(), filter);
        }
        return granted;
    }

    /** A pattern with %u and %c filled in, or null when the client cannot fill it (it then grants nothing). */
    private static TopicFilter fillIn(String pattern, String user, String clientId) {
        String filter = pattern;
        if (filter.contains("%u")) {
            if (!usable(user)) {
                return null;
            }
            filter = filter.replace("%u", user);
        }
        if (filter.contains("%c")) {
            if (!usable(clientId)) {
                return null;
            }
            filter = filter.replace("%c", clientId);
        }
        try {
            return TopicFilter.parse(filter);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static boolean usable(String value) {
        return value != null && !value.isEmpty() && value.chars().noneMatch(c -> c == '+' || c == '#' || c == '/');
    }

    public List<Problem> problems() {
        return problems;
    }
}
