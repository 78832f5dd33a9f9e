package io.mqttkafkabridge.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.mqttkafkabridge.routing.TopicFilter;

/** Mosquitto ACL files, read the way Mosquitto 2 reads them. */
class AclFileTest {

    private static final AclFile ACL = AclFile.parse(List.of(
            "# anonymous clients",
            "topic read public/#",
            "topic write public/anonymous-inbox",
            "",
            "user alice",
            "topic readwrite devices/alice/#",
            "topic read sensors/#",
            "topic deny sensors/secret/#",
            "topic fleet/status with spaces",
            "user bob",
            "topic write devices/bob/+/telemetry",
            "pattern write clients/%c/out",
            "pattern read users/%u/in/#"));

    private static boolean sub(String filter, String user, String client) {
        return ACL.canSubscribe(TopicFilter.parse(filter), user, client);
    }

    @Test
    void lines_before_the_first_user_line_are_for_clients_without_a_user_name() {
        assertThat(ACL.canPublish("public/anonymous-inbox", null, "c1")).isTrue();
        assertThat(ACL.canPublish("public/news", null, "c1")).as("read only").isFalse();
        assertThat(sub("public/#", null, "c1")).isTrue();
        assertThat(sub("public/news/+", null, "c1")).isTrue();
        assertThat(ACL.canPublish("public/anonymous-inbox", "alice", "c1")).as("not alice's").isFalse();
    }

    @Test
    void a_user_block_grants_its_user_what_it_lists_and_nothing_else() {
        assertThat(ACL.canPublish("devices/alice/temp", "alice", "a1")).isTrue();
        assertThat(sub("devices/alice/#", "alice", "a1")).isTrue();
        assertThat(ACL.canPublish("devices/bob/x/telemetry", "alice", "a1")).isFalse();
        assertThat(ACL.canPublish("devices/bob/x/telemetry", "bob", "b1")).isTrue();
        assertThat(ACL.canPublish("devices/bob/x/status", "bob", "b1")).isFalse();
        assertThat(sub("devices/bob/x/telemetry", "bob", "b1")).as("write only").isFalse();
        assertThat(ACL.canPublish("devices/alice/temp", "mallory", "m1")).as("unknown user").isFalse();
        assertThat(ACL.canPublish("fleet/status with spaces", "alice", "a1")).as("default access readwrite, spaces kept").isTrue();
    }

    @Test
    void read_access_is_checked_per_message_and_a_subscription_is_refused_only_when_nothing_readable_can_match() {
        // Mosquitto: each message is checked against the subscriber's read access at delivery; SUBACK 0x80 only for a
        // filter that can match no topic the client may read
        assertThat(sub("sensors/+/temp", "alice", "a1")).as("sensors/room1/temp is readable").isTrue();
        assertThat(ACL.canRead("sensors/room1/temp", "alice", "a1")).isTrue();
        assertThat(ACL.canRead("sensors/secret/temp", "alice", "a1")).as("deny wins at delivery").isFalse();
        assertThat(sub("#", "alice", "a1")).as("overlaps what alice may read").isTrue();
        assertThat(ACL.canRead("weather/today", "alice", "a1")).as("granted by no line").isFalse();
        assertThat(sub("sensors/#", "alice", "a1")).isTrue();
        assertThat(sub("sensors/secret/key", "alice", "a1")).as("covered whole by the deny line").isFalse();
        assertThat(sub("sensors/secret/#", "alice", "a1")).as("covered whole by the deny line").isFalse();
        assertThat(sub("weather/#", "alice", "a1")).as("no read line overlaps it").isFalse();
        assertThat(sub("devices/bob/x/telemetry", "bob", "b1")).as("write only").isFalse();
        assertThat(ACL.canPublish("sensors/secret/key", "alice", "a1")).isFalse();
    }

    @Test
    void a_client_id_or_user_name_with_wildcards_cannot_widen_a_pattern() {
        // Moquette 0.18.1's fix: '%c' and '%u' filled with '+' or '#' would match every client's topics
        assertThat(ACL.canPublish("clients/victim/out", null, "+")).isFalse();
        assertThat(ACL.canPublish("clients/victim/out", null, "#")).isFalse();
        assertThat(ACL.canRead("users/alice/in/mail", "+", "c1")).isFalse();
        assertThat(ACL.canRead("users/alice/in/mail", "#", "c1")).isFalse();
        assertThat(sub("users/+/in/#", "+", "c1")).isFalse();
        assertThat(ACL.canRead("users/alice/in/mail", "alice", "c1")).as("the user's own inbox").isTrue();
        assertThat(ACL.canPublish("clients/c7/out", null, "c7")).as("the client's own topic").isTrue();
    }

    @Test
    void patterns_apply_to_every_client_with_its_user_name_and_client_id() {
        assertThat(ACL.canPublish("clients/c42/out", null, "c42")).isTrue();
        assertThat(ACL.canPublish("clients/c42/out", "bob", "c42")).isTrue();
        assertThat(ACL.canPublish("clients/c43/out", "bob", "c42")).isFalse();
        assertThat(sub("users/bob/in/#", "bob", "b1")).isTrue();
        assertThat(sub("users/alice/in/#", "bob", "b1")).isFalse();
        assertThat(sub("users/+/in/#", null, "c1")).as("%u without a user name grants nothing, never throws").isFalse();
        assertThat(ACL.canPublish("clients/+/out", "bob", "+")).as("a wildcard client id grants nothing").isFalse();
        assertThat(sub("users/a/b/in/#", "a/b", "x")).as("a user name with '/' grants nothing").isFalse();
    }

    @Test
    void dollar_topics_are_not_granted_by_a_leading_wildcard() {
        AclFile everything = AclFile.parse(List.of("topic readwrite #"));
        assertThat(everything.canPublish("a/b", null, "c")).isTrue();
        assertThat(everything.canPublish("$SYS/broker/load", null, "c")).isFalse();
        assertThat(everything.canSubscribe(TopicFilter.parse("$SYS/#"), null, "c")).isFalse();
    }

    @Test
    void unusable_lines_are_reported_and_left_out() {
        AclFile acl = AclFile.parse(List.of("topic read a/#/b", "user", "topic write x", "permit all", "topic write ok"));
        assertThat(acl.problems()).extracting(AclFile.Problem::line).containsExactly(1, 2, 4);
        assertThat(acl.canPublish("x", null, "c")).as("belongs to the nameless user block").isFalse();
        assertThat(acl.canPublish("ok", null, "c")).as("still in the nameless user block").isFalse();
    }
}
