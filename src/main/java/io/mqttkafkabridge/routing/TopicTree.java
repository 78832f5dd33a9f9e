package io.mqttkafkabridge.routing;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * MQTT topic filters, each held by some owners (the cluster's replicas), in a tree of topic levels: which owners have
 * a filter that matches a topic name, in time proportional to the topic's depth rather than to the number of filters.
 * Filters follow MQTT 3.1.1: {@code +} one level, {@code #} this level and all below (also the parent itself), and a
 * topic starting with {@code $} is matched by no filter starting with a wildcard. Not thread-safe: the owner guards it;
 * once no longer changed and safely published (say through a final field), it may be matched from several threads.
 *
 * @param <O> what holds a filter
 */
public final class TopicTree<O> {

    private final Node<O> root = new Node<>();
    private int size;

    private static final class Node<O> {
        final Map<String, Node<O>> children = new HashMap<>(4);
        final Map<O, Integer> owners = new HashMap<>(2);
    }

    /** Adds one hold of {@code filter} by {@code owner}; returns true when the owner did not hold it before. */
    public boolean add(String filter, O owner) {
        Node<O> node = root;
        for (String level : filter.split("/", -1)) {
            node = node.children.computeIfAbsent(level, l -> new Node<>());
        }
        boolean first = node.owners.merge(owner, 1, Integer::sum) == 1;
        if (first) {
            size++;
        }
        return first;
    }

    /** Removes every hold of {@code filter} by {@code owner}; returns true when it held it. */
    public boolean remove(String filter, O owner) {
        Node<O> node = root;
        for (String level : filter.split("/", -1)) {
            node = node.children.get(level);
            if (node == null) {
                return false;
            }
        }
        boolean held = node.owners.remove(owner) != null;
        if (held) {
            size--;
        }
        return held;
    }

    /** The owners with at least one filter matching {@code topic} (a topic name, no wildcards). */
    public Set<O> match(String topic) {
        Set<O> owners = new HashSet<>(4);
        forEachMatch(topic, owners::add);
        return owners;
    }

    /**
     * Gives {@code visitor} the owners of each filter matching {@code topic}, without gathering them: an owner is given
     * once per matching filter it holds (and once more per topic level that is literally {@code +} or {@code #}).
     */
    public void forEachMatch(String topic, Consumer<? super O> visitor) {
        if (size > 0) {
            collect(root, topic, 0, visitor);
        }
    }

    /** {@code start}: where the topic's next level begins, past the topic's end once every level is consumed. */
    private void collect(Node<O> node, String topic, int start, Consumer<? super O> visitor) {
        boolean wildcardAllowed = start > 0 || !topic.startsWith("$");
        Node<O> multi = wildcardAllowed ? node.children.get("#") : null;
        if (multi != null) {
            multi.owners.keySet().forEach(visitor);
        }
        if (start > topic.length()) {
            node.owners.keySet().forEach(visitor);
            return;
        }
        if (node.children.isEmpty()) {
            return;
        }
        int end = topic.indexOf('/', start);
        if (end < 0) {
            end = topic.length();
        }
        Node<O> exact = node.children.get(topic.substring(start, end));
        if (exact != null) {
            collect(exact, topic, end + 1, visitor);
        }
        Node<O> single = wildcardAllowed ? node.children.get("+") : null;
        if (single != null) {
            collect(single, topic, end + 1, visitor);
        }
    }

    /** Filters held, counted once per owner. */
    public int size() {
        return size;
    }
}
