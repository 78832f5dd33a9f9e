package io.mqttkafkabridge.routing;

import java.util.List;
import java.util.Objects;

/**
 * An MQTT 3.1.1 topic filter ({@code +} matches one level, {@code #} matches the rest, parent included).
 * Immutable and thread-safe; {@link #parse(String)} rejects filters the MQTT specification forbids.
 */
public final class TopicFilter {

    private final String text;
    private final List<String> levels;
    private final boolean multiLevel;

    private TopicFilter(String text, List<String> levels) {
        this.text = text;
        this.multiLevel = levels.get(levels.size() - 1).equals("#");
        this.levels = multiLevel ? levels.subList(0, levels.size() - 1) : levels;
    }

    /**
     * @throws IllegalArgumentException with a message saying what is wrong with the filter
     */
    public static TopicFilter parse(String filter) {
        if (filter == null || filter.isEmpty()) {
            throw new IllegalArgumentException("an MQTT topic filter must not be empty");
        }
        TopicNames.checkCommon(filter);
        List<String> levels = TopicNames.split(filter);
        for (int i = 0; i < levels.size(); i++) {
            String level = levels.get(i);
            if (level.contains("#") && (!level.equals("#") || i != levels.size() - 1)) {
                throw new IllegalArgumentException("'#' must be the last level of the filter and alone in it: '" + filter + "'");
            }
            if (level.contains("+") && !level.equals("+")) {
                throw new IllegalArgumentException("'+' must stand alone in its level: '" + filter + "'");
            }
        }
        return new TopicFilter(filter, levels);
    }

    /** True when the topic name (no wildcards) matches this filter, per MQTT 3.1.1 section 4.7. */
    public boolean matches(String topic) {
        List<String> topicLevels = TopicNames.split(topic);
        // 4.7.2: a filter starting with a wildcard does not match a topic starting with '$'
        if (topic.startsWith("$") && (levels.isEmpty() || levels.get(0).equals("+"))) {
            return false;
        }
        if (topicLevels.size() < levels.size()) {
            return false;
        }
        if (!multiLevel && topicLevels.size() != levels.size()) {
            return false;
        }
        for (int i = 0; i < levels.size(); i++) {
            String level = levels.get(i);
            if (!level.equals("+") && !level.equals(topicLevels.get(i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * True when every topic {@code other} matches is matched by this filter as well (for example {@code a/#} covers
     * {@code a/+/c}; {@code a/+} does not cover {@code a/#}).
     */
    public boolean covers(TopicFilter other) {
        if (startsWithWildcard() && !other.levels.isEmpty() && other.levels.get(0).startsWith("$")) {
            return false;
        }
        if (multiLevel ? other.levels.size() < levels.size()
                : other.multiLevel || other.levels.size() != levels.size()) {
            return false;
        }
        for (int i = 0; i < levels.size(); i++) {
            String level = levels.get(i);
            if (!level.equals("+") && !level.equals(other.levels.get(i))) {
                return false;
            }
        }
        return true;
    }

    /** True when some topic is matched by both filters (for example {@code a/+/c} and {@code a/b/#}). */
    public boolean overlaps(TopicFilter other) {
        if (startsWithDollar() && other.startsWithWildcard() || other.startsWithDollar() && startsWithWildcard()) {
            return false;
        }
        int common = Math.min(levels.size(), other.levels.size());
        for (int i = 0; i < common; i++) {
            String mine = levels.get(i);
            String theirs = other.levels.get(i);
            if (!mine.equals("+") && !theirs.equals("+") && !mine.equals(theirs)) {
                return false;
            }
        }
        if (levels.size() == other.levels.size()) {
            return true;
        }
        return levels.size() < other.levels.size() ? multiLevel : other.multiLevel;
    }

    private boolean startsWithWildcard() {
        return levels.isEmpty() || levels.get(0).equals("+");
    }

    private boolean startsWithDollar() {
        return !levels.isEmpty() && levels.get(0).startsWith("$");
    }

    /**
     * The number of levels every matching topic is guaranteed to have: all levels for a filter without
     * {@code #}, the levels before it otherwise ({@code a/#} also matches {@code a}).
     */
    public int guaranteedLevels() {
        return levels.size();
    }

    public boolean isMultiLevel() {
        return multiLevel;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TopicFilter other && other.text.equals(text);
    }

    @Override
    public int hashCode() {
        return Objects.hash(text);
    }

    @Override
    public String toString() {
        return text;
    }
}
