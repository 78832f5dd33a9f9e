package io.mqttkafkabridge.metrics;

import static org.jboss.logging.Logger.Level.DEBUG;
import static org.jboss.logging.Logger.Level.ERROR;
import static org.jboss.logging.Logger.Level.INFO;
import static org.jboss.logging.Logger.Level.WARN;

import org.jboss.logging.BasicLogger;
import org.jboss.logging.Logger;
import org.jboss.logging.annotations.Cause;
import org.jboss.logging.annotations.LogMessage;
import org.jboss.logging.annotations.Message;
import org.jboss.logging.annotations.MessageLogger;

/**
 * Every operational log line of the bridge, each with a stable id ({@code MKB0xxxx}) that alerts can match.
 * Ids are never reused for another meaning.
 */
@MessageLogger(projectCode = "MKB", length = 4)
public interface BridgeLog extends BasicLogger {

    BridgeLog LOG = Logger.getMessageLogger(BridgeLog.class, "io.mqttkafkabridge");

    @LogMessage(level = INFO)
    @Message(id = 1, value = "MQTT broker listening on %s:%d (bridge.broker.port), sessions in %s")
    void brokerStarted(String host, int port, String store);

    @LogMessage(level = INFO)
    @Message(id = 2, value = "MQTT broker stopped")
    void brokerStopped();

    @LogMessage(level = INFO)
    @Message(id = 3, value = "Routes: uplink %s, downlink %s")
    void routes(String uplink, String downlink);

    @LogMessage(level = WARN)
    @Message(id = 4, value = "No uplink route is configured (bridge.uplink.routes.*): what devices publish stays in the broker")
    void noUplinkRoute();

    @LogMessage(level = WARN)
    @Message(id = 5, value = "No downlink route is configured (bridge.downlink.routes.*): no Kafka topic is read")
    void noDownlinkRoute();

    @LogMessage(level = ERROR)
    @Message(id = 6, value = "An MQTT session loop of the broker failed")
    void sessionLoopError(@Cause Throwable cause);

    @LogMessage(level = WARN)
    @Message(id = 7, value = "This Moquette version does not let the bridge run its interceptors on the session loops; "
            + "the client list is updated from Moquette's interceptor pool, a moment later")
    void interceptorsNotInline();

    @LogMessage(level = ERROR)
    @Message(id = 8, value = "The MQTT broker could not start, the bridge exits: %s")
    void startFailed(String reason, @Cause Throwable cause);

    @LogMessage(level = INFO)
    @Message(id = 10, value = "MQTT connection refused: %s (CONNACK %d): %s")
    void connectionRefused(String reason, int returnCode, String detail);

    @LogMessage(level = DEBUG)
    @Message(id = 100, value = "Publish to '%s' by client '%s' matches no uplink route; not sent")
    void unrouted(String topic, String clientId);

    @LogMessage(level = ERROR)
    @Message(id = 101, value = "Kafka did not take the record of uplink route '%s' (Kafka topic '%s', MQTT topic '%s')")
    void uplinkSendFailed(String route, String kafkaTopic, String mqttTopic, @Cause Throwable cause);

    @LogMessage(level = ERROR)
    @Message(id = 102, value = "Uplink could not queue the publish to '%s' for Kafka: %s")
    void uplinkQueueFailed(String mqttTopic, String reason);

    @LogMessage(level = WARN)
    @Message(id = 200, value = "Downlink record %s-%d@%d not published by route '%s': %s")
    void downlinkDropped(String kafkaTopic, int partition, long offset, String route, String reason);

    @LogMessage(level = ERROR)
    @Message(id = 201, value = "Downlink record %s-%d@%d could not be handed to the MQTT broker by route '%s'")
    void downlinkPublishFailed(String kafkaTopic, int partition, long offset, String route, @Cause Throwable cause);

    @LogMessage(level = ERROR)
    @Message(id = 202, value = "The downlink's consumer group '%s' is shared with another consumer: this replica reads %d of the "
            + "%d partitions of its Kafka topics; records of %s go to the other member, and devices on this replica miss them. "
            + "Every replica needs a consumer group of its own (bridge.downlink.group-id; by default one per host name, so "
            + "two bridges on one host need one each)")
    void downlinkGroupShared(String group, int assigned, int total, String missing);

    @LogMessage(level = INFO)
    @Message(id = 203, value = "The downlink's consumer group '%s' gives this replica all %d partitions of its Kafka topics again")
    void downlinkGroupOwn(String group, int total);

    @LogMessage(level = INFO)
    @Message(id = 204, value = "The downlink's consumer group '%s' gave this replica %d of the %d partitions of its Kafka topics "
            + "(not %s); asking Kafka for a rebalance. After a restart with a new downlink topic within the group's session "
            + "timeout, Kafka hands a static member its previous assignment")
    void downlinkAssignmentIncomplete(String group, int assigned, int total, String missing);

    @LogMessage(level = INFO)
    @Message(id = 300, value = "Uplink journal in %s: %d entries to send from #%d, %d of %d bytes used, fsync %s")
    void journalOpened(String dir, long pending, long committed, long bytes, long maxBytes, String fsync);

    @LogMessage(level = ERROR)
    @Message(id = 301, value = "Uplink journal full (%d of %d bytes, bridge.journal.max-bytes): publishes are refused "
            + "(no PUBACK) until Kafka takes the backlog")
    void journalFull(long bytes, long maxBytes);

    @LogMessage(level = INFO)
    @Message(id = 307, value = "Uplink journal backlog %d entries (bridge.journal.max-backlog %d) while Kafka takes records: "
            + "the broker reads from publishing connections only as fast as Kafka takes them (bridge_journal_paced_total; "
            + "logged at most once a minute)")
    void journalPacing(long pending, long maxBacklog);

    @LogMessage(level = INFO)
    @Message(id = 302, value = "Uplink journal has room again (%d of %d bytes): publishes are accepted; %d were refused")
    void journalRoomAgain(long bytes, long maxBytes, long refused);

    @LogMessage(level = ERROR)
    @Message(id = 303, value = "Could not append the publish to '%s' to the uplink journal; it is lost")
    void journalAppendFailed(String topic, @Cause Throwable cause);

    @LogMessage(level = WARN)
    @Message(id = 304, value = "Uplink journal housekeeping in %s failed")
    void journalHousekeepingFailed(String dir, @Cause Throwable cause);

    @LogMessage(level = ERROR)
    @Message(id = 305, value = "The uplink journal reader failed; it tries again in 1 s")
    void journalReaderFailed(@Cause Throwable cause);

    @LogMessage(level = WARN)
    @Message(id = 306, value = "The uplink journal could not be closed cleanly; the next start recovers it")
    void journalCloseFailed(@Cause Throwable cause);

    @LogMessage(level = INFO)
    @Message(id = 310, value = "Shutdown: MQTT listeners closed; draining %d journal entries to Kafka (up to %s, bridge.shutdown.drain-timeout)")
    void draining(long pending, String timeout);

    @LogMessage(level = INFO)
    @Message(id = 311, value = "Shutdown: journal drained to Kafka in %d ms")
    void drained(long millis);

    @LogMessage(level = WARN)
    @Message(id = 312, value = "Shutdown: drain timed out; %d journal entries stay on disk and are sent after the next start")
    void drainTimedOut(long pending);

    @LogMessage(level = WARN)
    @Message(id = 320, value = "Kafka rejected the record of uplink route '%s' for good (Kafka topic '%s', MQTT topic '%s'): %s; sent to dead-letter topic '%s'")
    void deadLettered(String route, String kafkaTopic, String mqttTopic, String reason, String deadLetterTopic);

    @LogMessage(level = ERROR)
    @Message(id = 321, value = "Kafka rejected the record of uplink route '%s' for good (Kafka topic '%s', MQTT topic '%s'): %s; dropped (bridge.uplink.dead-letter-topic %s)")
    void poisonDropped(String route, String kafkaTopic, String mqttTopic, String reason, String deadLetter);

    @LogMessage(level = WARN)
    @Message(id = 323, value = "The payload of a publish to '%s' by client '%s' lacks what uplink route '%s' takes from it: %s; "
            + "sent to dead-letter topic '%s' (bridge_uplink_invalid_payload_total; logged at most every 10 s per route)")
    void invalidPayloadDeadLettered(String mqttTopic, String clientId, String route, String reason, String deadLetterTopic);

    @LogMessage(level = WARN)
    @Message(id = 324, value = "The payload of a publish to '%s' by client '%s' lacks what uplink route '%s' takes from it: %s; "
            + "dropped, as bridge.uplink.dead-letter-topic is not set (bridge_uplink_invalid_payload_total; logged at most "
            + "every 10 s per route)")
    void invalidPayloadDropped(String mqttTopic, String clientId, String route, String reason);

    @LogMessage(level = WARN)
    @Message(id = 322, value = "Kafka send of uplink route '%s' failed and is retried: %s")
    void uplinkRetry(String route, String reason);

    @LogMessage(level = ERROR)
    @Message(id = 400, value = "The MQTT broker's session store in %s could not be opened (%s); moved aside to %s for inspection. Persistent sessions stored there are lost; the broker starts with an empty store")
    void storeQuarantined(String store, String reason, String movedTo);

    @LogMessage(level = ERROR)
    @Message(id = 500, value = "Kafka is unreachable (%s): uplink records wait in the journal, the downlink pauses")
    void kafkaDown(String detail);

    @LogMessage(level = INFO)
    @Message(id = 501, value = "Kafka is reachable again (%d brokers)")
    void kafkaBack(int brokers);

    @LogMessage(level = ERROR)
    @Message(id = 502, value = "Kafka refused the SASL credentials of user '%s' (kafka.sasl.jaas.config, mechanism %s): %s. "
            + "Readiness is DOWN (kafka-access) until Kafka accepts them; uplink records wait in the journal")
    void kafkaSaslRefused(String user, String mechanism, String reason);

    @LogMessage(level = ERROR)
    @Message(id = 503, value = "Kafka's TLS certificate is not trusted (kafka.ssl.truststore.*): %s. Readiness is DOWN "
            + "(kafka-access) until the truststore holds the CA that signed it; uplink records wait in the journal")
    void kafkaTlsRefused(String reason);

    @LogMessage(level = INFO)
    @Message(id = 900, value = "Local Kafka broker (KRaft) for development listening on %s, data in %s")
    void devKafkaStarted(String bootstrap, String dir);

    @LogMessage(level = INFO)
    @Message(id = 901, value = "Local Kafka broker for development stopped")
    void devKafkaStopped();

    @LogMessage(level = WARN)
    @Message(id = 11, value = "MQTT connection from %s closed: %s")
    void connectionClosed(String address, String reason);

    @LogMessage(level = WARN)
    @Message(id = 12, value = "MQTT PUBLISH denied to client %s (user %s) on topic '%s': %s; dropped (further denials of this connection are only counted: mqtt_publish_denied_total)")
    void publishDenied(String clientId, String user, String topic, String reason);

    @LogMessage(level = WARN)
    @Message(id = 13, value = "MQTT SUBSCRIBE denied to client %s (user %s) for filter '%s' (SUBACK 0x80)")
    void subscribeDenied(String clientId, String user, String filter);

    @LogMessage(level = WARN)
    @Message(id = 14, value = "Too many CONNECTs from %s (more than %d per second, bridge.broker.connect-rate-per-address): its new connections are closed for now")
    void connectFlood(String address, int perSecond);

    @LogMessage(level = WARN)
    @Message(id = 15, value = "Session %s holds %d queued messages (bridge.broker.max-queued-messages): new QoS 1/2 messages for it are dropped until it catches up (counted in mqtt_queue_dropped_total)")
    void sessionQueueFull(String clientId, int limit);

    @LogMessage(level = INFO)
    @Message(id = 16, value = "Session %s has room in its queue again; %d messages were dropped meanwhile")
    void sessionQueueRoom(String clientId, long dropped);

    @LogMessage(level = ERROR)
    @Message(id = 17, value = "A command on MQTT session loop %s failed and was skipped; the loop goes on serving its clients: %s at %s (counted in mqtt_session_loop_failures_total; stack trace at DEBUG, MKB0020)")
    void sessionLoopCommandFailed(String loop, String failure, String where);

    @LogMessage(level = DEBUG)
    @Message(id = 20, value = "Stack trace of the failed command on MQTT session loop %s")
    void sessionLoopCommandTrace(String loop, @Cause Throwable cause);

    @LogMessage(level = ERROR)
    @Message(id = 18, value = "MQTT session loop in trouble: %s; liveness is DOWN until it serves again")
    void sessionLoopStalled(String problem);

    @LogMessage(level = WARN)
    @Message(id = 19, value = "MQTT session loop %s serves again")
    void sessionLoopRecovered(String loop);

    @LogMessage(level = WARN)
    @Message(id = 21, value = "MQTT connection closed after a failure on it: %s: %s (stack trace at DEBUG, MKB0022)")
    void connectionFailed(String what, String cause);

    @LogMessage(level = DEBUG)
    @Message(id = 22, value = "Stack trace of the failure on an MQTT connection: %s")
    void connectionFailedTrace(String what, @Cause Throwable cause);

    @LogMessage(level = INFO)
    @Message(id = 600, value = "%s %s loaded: %d %s")
    void securityFileLoaded(String key, String file, int count, String what);

    @LogMessage(level = WARN)
    @Message(id = 601, value = "%s %s, line %d%s: %s")
    void securityFileLine(String key, String file, int line, String user, String problem);

    @LogMessage(level = ERROR)
    @Message(id = 602, value = "%s %s could not be reloaded, the previous version stays in force: %s")
    void securityFileReloadFailed(String key, String file, String reason);

    @LogMessage(level = WARN)
    @Message(id = 603, value = "No password file (bridge.security.password-file) and anonymous clients refused (bridge.security.allow-anonymous=false): every MQTT client will be refused")
    void nobodyCanConnect();
    @LogMessage(level = INFO)
    @Message(id = 25, value = "MQTT 5 session of client %s ended: offline for the Session Expiry Interval it asked for")
    void sessionExpiredEarly(String clientId);

    @LogMessage(level = WARN)
    @Message(id = 23, value = "The will of client %s (topic %s) was delivered here but not journaled (the journal is full or failing): the uplink routes and the other replicas do not get it")
    void willNotJournaled(String clientId, String topic);

    @LogMessage(level = INFO)
    @Message(id = 700, value = "Cluster '%s': node %s (instance %s) loaded %d retained messages, %d subscriptions of %d other nodes, %d sessions in %d ms; topics %s")
    void clusterLoaded(String cluster, String node, String instance, int retained, int filters, int nodes, int sessions, long millis, String topics);

    @LogMessage(level = WARN)
    @Message(id = 701, value = "Cluster: waiting for Kafka to create, check and load the cluster's topics: %s")
    void clusterWaiting(String reason);

    @LogMessage(level = INFO)
    @Message(id = 702, value = "Cluster: node %s joined (instance %s)")
    void clusterNodeJoined(String node, String instance);

    @LogMessage(level = WARN)
    @Message(id = 703, value = "Cluster: node %s is down (no heartbeat for %d ms, bridge.cluster.member-timeout)")
    void clusterNodeDown(String node, long silentMillis);

    @LogMessage(level = INFO)
    @Message(id = 704, value = "Cluster: node %s left")
    void clusterNodeLeft(String node);

    @LogMessage(level = INFO)
    @Message(id = 705, value = "Cluster: client %s connected to node %s, so its connection here is closed (MQTT-3.1.4-2)")
    void clusterTakeover(String clientId, String node);

    @LogMessage(level = WARN)
    @Message(id = 706, value = "Cluster: a record of %s could not be read and was skipped (partition %d offset %d): %s")
    void clusterBadRecord(String topic, int partition, long offset, String reason);

    @LogMessage(level = WARN)
    @Message(id = 707, value = "Cluster: could not write to %s: %s; it is written again when Kafka answers")
    void clusterWriteFailed(String topic, String reason);

    @LogMessage(level = ERROR)
    @Message(id = 708, value = "Cluster: reading %s failed, retrying in 1 s: %s")
    void clusterReadFailed(String topic, String reason);

    @LogMessage(level = INFO)
    @Message(id = 709, value = "Cluster: client %s disconnected at the request of node %s (DELETE /api/v1/clients)")
    void clusterDisconnectRequested(String clientId, String node);

    @LogMessage(level = ERROR)
    @Message(id = 710, value = "Cluster: another process (instance %s) with node id %s heartbeats in cluster '%s'; this one (instance %s) keeps running but the two confuse the cluster: give every replica its own bridge.cluster.node-id")
    void clusterDuplicateNode(String other, String node, String cluster, String instance);

    @LogMessage(level = WARN)
    @Message(id = 24, value = "Client %s connected while the broker was starting, before the connection gate was in place: closed so that it reconnects through the gate (it could not publish or subscribe meanwhile)")
    void ungatedConnection(String clientId);

    @LogMessage(level = INFO)
    @Message(id = 711, value = "Cluster: persistent session of client %s handed over to node %s: %d subscriptions, %d messages")
    void clusterSessionHandedOver(String clientId, String node, int subscriptions, int messages);

    @LogMessage(level = INFO)
    @Message(id = 712, value = "Cluster: persistent session of client %s taken over from node %s: %s")
    void clusterSessionArrived(String clientId, String node, String how);

    @LogMessage(level = INFO)
    @Message(id = 713, value = "Cluster: persistent session of client %s expired (bridge.broker.session-expiry): gone on every replica")
    void clusterSessionExpired(String clientId);

    @LogMessage(level = WARN)
    @Message(id = 714, value = "Cluster: persistent session of client %s could not be moved: %s")
    void clusterSessionMoveFailed(String clientId, String reason);

    @LogMessage(level = INFO)
    @Message(id = 800, value = "Runtime routes: %d read from Kafka topic '%s' and in force")
    void runtimeRoutesLoaded(int count, String topic);

    @LogMessage(level = INFO)
    @Message(id = 801, value = "Route %s/%s %s through the API by user '%s' on replica '%s', read from the routes topic and in force here")
    void runtimeRouteApplied(String direction, String name, String what, String user, String node);

    @LogMessage(level = INFO)
    @Message(id = 802, value = "Route %s/%s %s through the API by user '%s': %s")
    void routeChanged(String direction, String name, String what, String user, String route);

    @LogMessage(level = WARN)
    @Message(id = 803, value = "Runtime routes: waiting for Kafka to create or read topic '%s' (logged at most every 30 s): %s; "
            + "the uplink sends nothing until they are read")
    void runtimeRoutesWaiting(String topic, String reason);

    @LogMessage(level = ERROR)
    @Message(id = 804, value = "Runtime routes are off: Kafka topic '%s' cannot be used (%s). The configured routes are in force; "
            + "the API refuses route changes. Grant the bridge's Kafka user Create, Read, Write and Describe on it, or create "
            + "it with cleanup.policy=compact")
    void runtimeRoutesUnavailable(String topic, String reason);

    @LogMessage(level = WARN)
    @Message(id = 805, value = "Runtime routes: reading Kafka topic '%s' failed, trying again in 1 s: %s")
    void runtimeRoutesReadFailed(String topic, String reason);

    @LogMessage(level = WARN)
    @Message(id = 806, value = "Runtime routes: record at offset %2$d of Kafka topic '%1$s' is left out: %3$s")
    void runtimeRouteUnreadable(String topic, long offset, String reason);

    @LogMessage(level = WARN)
    @Message(id = 807, value = "Runtime route %s/%s is left out: a route of that name is configured (static), and that one is in force")
    void runtimeRouteShadowed(String direction, String name);

    @LogMessage(level = WARN)
    @Message(id = 808, value = "Runtime route %s/%s is left out, it is invalid: %s")
    void runtimeRouteInvalid(String direction, String name, String problems);

    @LogMessage(level = WARN)
    @Message(id = 809, value = "The downlink could not change the Kafka topics it reads to %s: %s; it tries again in 1 s")
    void downlinkResubscribeFailed(String topics, String reason);
}
