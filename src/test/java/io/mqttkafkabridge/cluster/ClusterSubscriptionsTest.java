package io.mqttkafkabridge.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ClusterSubscriptionsTest {

    @Test
    void a_filter_is_announced_by_its_first_holder_and_withdrawn_with_its_last() {
        ClusterSubscriptions subscriptions = new ClusterSubscriptions("a");
        assertThat(subscriptions.subscribed("c1", "chat/#")).isTrue();
        assertThat(subscriptions.subscribed("c1", "chat/#")).as("the same client again").isFalse();
        assertThat(subscriptions.subscribed("c2", "chat/#")).as("a second holder").isFalse();
        assertThat(subscriptions.localSize()).isEqualTo(1);

        assertThat(subscriptions.unsubscribed("c1", "chat/#")).isFalse();
        assertThat(subscriptions.unsubscribed("c1", "chat/#")).as("not held by c1 any more").isFalse();
        assertThat(subscriptions.unsubscribed("c2", "chat/#")).isTrue();
        assertThat(subscriptions.localSize()).isZero();
    }

    @Test
    void a_clean_session_that_ends_withdraws_the_filters_only_it_held() {
        ClusterSubscriptions subscriptions = new ClusterSubscriptions("a");
        subscriptions.subscribed("c1", "a/+");
        subscriptions.subscribed("c1", "b/#");
        subscriptions.subscribed("c2", "b/#");
        assertThat(subscriptions.sessionGone("c1")).containsExactly("a/+");
        assertThat(subscriptions.localFilters()).containsExactly("b/#");
        assertThat(subscriptions.sessionGone("c1")).isEmpty();
    }

    @Test
    void the_other_replicas_filters_tell_where_a_publish_goes_and_this_replicas_own_records_are_kept_apart() {
        ClusterSubscriptions subscriptions = new ClusterSubscriptions("a");
        subscriptions.record("b", "chat/#", true);
        subscriptions.record("c", "chat/room", true);
        subscriptions.record("a", "chat/#", true);
        assertThat(subscriptions.targets("chat/room")).containsExactlyInAnyOrder("b", "c");
        assertThat(subscriptions.targets("chat/hall")).containsExactly("b");
        assertThat(subscriptions.targets("telemetry/x")).as("nobody else subscribes: not forwarded").isEmpty();
        assertThat(subscriptions.recordedOwn()).containsExactly("chat/#");

        subscriptions.record("b", "chat/#", false);
        assertThat(subscriptions.targets("chat/hall")).isEmpty();
        assertThat(subscriptions.remoteSize()).isEqualTo(1);
    }

    @Test
    void a_session_handed_over_draws_its_topics_to_its_new_replica_for_its_grace_only() throws Exception {
        ClusterSubscriptions subscriptions = new ClusterSubscriptions("a");
        subscriptions.moved("x", "b", java.util.List.of("room/+/temp", "alarm/#"), 60_000);
        subscriptions.moved("y", "c", java.util.List.of("room/#"), 0);
        assertThat(subscriptions.movedTo("room/1/temp")).containsExactlyInAnyOrder("b", "c");
        assertThat(subscriptions.movedTo("alarm/fire")).containsExactly("b");
        assertThat(subscriptions.movedTo("other")).isEmpty();
        Thread.sleep(5);
        subscriptions.expireMoved();
        assertThat(subscriptions.movedTo("room/1/temp")).as("y's grace is over, x's is not").containsExactly("b");
        subscriptions.movedClientChanged("x", "b");
        assertThat(subscriptions.movedTo("alarm/fire")).as("x's new record, still on b").containsExactly("b");
        subscriptions.movedClientChanged("x", null);
        assertThat(subscriptions.movedTo("alarm/fire")).as("x's session ended").isEmpty();
    }
}
