package io.mqttkafkabridge.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class TopicTreeTest {

    @Test
    void exact_single_level_and_multi_level_filters_match_as_mqtt_says() {
        TopicTree<String> tree = new TopicTree<>();
        tree.add("chat/room", "a");
        tree.add("chat/+", "b");
        tree.add("chat/#", "c");
        tree.add("#", "d");
        tree.add("other/+/x", "e");

        assertThat(tree.match("chat/room")).containsExactlyInAnyOrder("a", "b", "c", "d");
        assertThat(tree.match("chat/hall")).containsExactlyInAnyOrder("b", "c", "d");
        assertThat(tree.match("chat")).as("'#' also matches its parent level").containsExactlyInAnyOrder("c", "d");
        assertThat(tree.match("chat/room/deep")).containsExactlyInAnyOrder("c", "d");
        assertThat(tree.match("other/1/x")).containsExactlyInAnyOrder("d", "e");
        assertThat(tree.match("other/1/y")).containsExactly("d");
    }

    @Test
    void empty_levels_count_as_levels() {
        TopicTree<String> tree = new TopicTree<>();
        tree.add("a/+/c", "x");
        tree.add("/+", "y");
        assertThat(tree.match("a//c")).containsExactly("x");
        assertThat(tree.match("/finance")).containsExactly("y");
        assertThat(tree.match("a/c")).isEmpty();
    }

    @Test
    void topics_starting_with_dollar_are_not_matched_by_a_leading_wildcard() {
        TopicTree<String> tree = new TopicTree<>();
        tree.add("#", "all");
        tree.add("+/monitor", "plus");
        tree.add("$SYS/#", "sys");
        assertThat(tree.match("$SYS/monitor")).containsExactly("sys");
        assertThat(tree.match("x/monitor")).containsExactlyInAnyOrder("all", "plus");
    }

    @Test
    void an_owner_holds_a_filter_once_and_removing_it_stops_the_match() {
        TopicTree<String> tree = new TopicTree<>();
        assertThat(tree.add("s/#", "a")).isTrue();
        assertThat(tree.add("s/#", "a")).isFalse();
        assertThat(tree.add("s/#", "b")).isTrue();
        assertThat(tree.size()).isEqualTo(2);
        assertThat(tree.remove("s/#", "a")).isTrue();
        assertThat(tree.remove("s/#", "a")).isFalse();
        assertThat(tree.remove("never/there", "a")).isFalse();
        assertThat(tree.match("s/1")).containsExactly("b");
        tree.remove("s/#", "b");
        assertThat(tree.size()).isZero();
        assertThat(tree.match("s/1")).isEmpty();
    }

    @Test
    void for_each_match_gives_an_owner_once_per_matching_filter() {
        TopicTree<String> tree = new TopicTree<>();
        tree.add("a/#", "x");
        tree.add("a/+", "x");
        tree.add("a/c", "y");
        List<String> visited = new ArrayList<>();
        tree.forEachMatch("a/b", visited::add);
        assertThat(visited).containsExactlyInAnyOrder("x", "x");
        visited.clear();
        new TopicTree<String>().forEachMatch("a/b", visited::add);
        assertThat(visited).isEmpty();
    }
}
