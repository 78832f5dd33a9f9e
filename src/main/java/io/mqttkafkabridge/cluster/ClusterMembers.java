package io.mqttkafkabridge.cluster;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.mqttkafkabridge.metrics.BridgeLog;

/**
 * The replicas of the cluster as {@code <name>.nodes} tells them: the newest heartbeat of each. A replica is live while
 * its newest record says "up" and is younger than {@code bridge.cluster.member-timeout}. Written by the state reader
 * thread, read by any.
 */
public final class ClusterMembers {

    /** One replica as seen here. */
    public record Member(ClusterRecords.Node node, boolean live, double forwardedPerSecond, double receivedPerSecond) {
    }

    private final String self;
    private final long timeoutMillis;
    private final Map<String, ClusterRecords.Node> newest = new ConcurrentHashMap<>();
    private final Map<String, ClusterRecords.Node> previous = new ConcurrentHashMap<>();
    private final Set<String> liveLogged = ConcurrentHashMap.newKeySet();
    private volatile boolean logging;

    ClusterMembers(String self, long timeoutMillis) {
        this.self = self;
        this.timeoutMillis = timeoutMillis;
    }

    void update(String node, ClusterRecords.Node record) {
        if (record == null) {
            newest.remove(node);
            previous.remove(node);
            return;
        }
        ClusterRecords.Node before = newest.put(node, record);
        if (before != null && before.instance().equals(record.instance()) && before.heartbeatAt() < record.heartbeatAt()) {
            previous.put(node, before);
        } else if (before == null || !before.instance().equals(record.instance())) {
            previous.remove(node);
        }
        if (logging && !node.equals(self)) {
            if ("stopped".equals(record.state())) {
                if (liveLogged.remove(node)) {
                    BridgeLog.LOG.clusterNodeLeft(node);
                }
            } else if (liveLogged.add(node)) {
                BridgeLog.LOG.clusterNodeJoined(node, record.instance());
            }
        }
    }

    /** From now on, joins, departures and silences are logged (not while the history is loaded). */
    void startLogging() {
        for (ClusterRecords.Node node : newest.values()) {
            if (isLive(node) && !node.node().equals(self)) {
                liveLogged.add(node.node());
            }
        }
        logging = true;
    }

    /** Logs the replicas that went silent; called with every own heartbeat. */
    void checkSilences() {
        long now = System.currentTimeMillis();
        for (String node : liveLogged) {
            ClusterRecords.Node record = newest.get(node);
            if (record == null || !isLive(record)) {
                liveLogged.remove(node);
                if (record != null && !"stopped".equals(record.state())) {
                    BridgeLog.LOG.clusterNodeDown(node, now - record.heartbeatAt());
                }
            }
        }
    }

    ClusterRecords.Node get(String node) {
        return newest.get(node);
    }

    boolean isLive(String node) {
        ClusterRecords.Node record = newest.get(node);
        return record != null && isLive(record);
    }

    private boolean isLive(ClusterRecords.Node record) {
        return "up".equals(record.state()) && System.currentTimeMillis() - record.heartbeatAt() < timeoutMillis;
    }

    int liveCount() {
        int live = 0;
        for (ClusterRecords.Node node : newest.values()) {
            if (isLive(node)) {
                live++;
            }
        }
        return live;
    }

    List<Member> all() {
        List<Member> members = new ArrayList<>();
        for (ClusterRecords.Node node : newest.values()) {
            ClusterRecords.Node before = previous.get(node.node());
            double seconds = before == null ? 0 : (node.heartbeatAt() - before.heartbeatAt()) / 1000.0;
            members.add(new Member(node, isLive(node),
                    seconds <= 0 ? 0 : Math.max(0, node.forwarded() - before.forwarded()) / seconds,
                    seconds <= 0 ? 0 : Math.max(0, node.received() - before.received()) / seconds));
        }
        members.sort(Comparator.comparing(m -> m.node().node()));
        return members;
    }
}
