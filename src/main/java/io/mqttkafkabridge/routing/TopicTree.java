package io.mqttkafkabridge.routing;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * MQTT topic filters, each held by some owners (the cluster's replicas), in a tree of topic levels: which owners have
 * a filter that matches a topic name, in time proportional to the topic's depth rather than to the number of filters.
 * Filters follow MQTT 3.1.1: {@code +} one level, {@code #} this level and all below (also the parent itself), and a
 * topic starting with {@code $} is matched by no filter starting with a wildcard. Not thread-safe: the owner guards it.
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
        if (size == 0) {
            return owners;
        }
        String[] levels = topic.split("/", -1);
        collect(root, levels, 0, topic.startsWith("$"), owners);
        return owners;
    }

    private void collect(Node<O> node, String[] levels, int depth, boolean system, Set<O> owners) {
        boolean wildcardAllowed = !(system && depth == 0);
        Node<O> multi = wildcardAllowed ? node.children.get("#") : null;
        if (multi != null) {
            owners.addAll(multi.owners.keySet());
        }
        if (depth == levels.length) {
            owners.addAll(node.owners.keySet());
            return;
        }
        Node<O> exact = node.children.get(levels[depth]);
        if (exact != null) {
            collect(exact, levels, depth + 1, system, owners);
        }
        Node<O> single = wildcardAllowed ? node.children.get("+") : null;
        if (single != null) {
            collect(single, levels, depth + 1, system, owners);
        }
    }

    /** Filters held, counted once per owner. */
    public int size() {
        return size;
    }
}
