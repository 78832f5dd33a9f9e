package io.mqttkafkabridge.journal;

import java.nio.file.Path;

import io.mqttkafkabridge.metrics.BridgeLog;

/** Keeps the journal's own classes free of CDI while logging through the bridge's typed messages. */
final class JournalLog {

    private JournalLog() {
    }

    static void housekeepingFailed(Path dir, Exception e) {
        BridgeLog.LOG.journalHousekeepingFailed(dir.toString(), e);
    }
}
