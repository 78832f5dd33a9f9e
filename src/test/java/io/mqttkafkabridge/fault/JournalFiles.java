package io.mqttkafkabridge.fault;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import io.mqttkafkabridge.journal.FsyncPolicy;
import io.mqttkafkabridge.journal.Journal;
import io.mqttkafkabridge.journal.JournalEntry;

/** Reads what a killed bridge left in its journal, as the next start will: every entry from the committed position. */
final class JournalFiles {

    private JournalFiles() {
    }

    /** Device id to message sequence numbers (from the load payload {@code <device>:<seq>:}). */
    static Map<String, Set<Long>> pending(Path dir) throws Exception {
        Map<String, Set<Long>> entries = new HashMap<>();
        try (Journal journal = Journal.open(dir, Long.MAX_VALUE / 4, FsyncPolicy.NEVER, Duration.ofSeconds(1))) {
            for (JournalEntry e = journal.read(); e != null; e = journal.read()) {
                String[] parts = new String(e.publication().payload(), StandardCharsets.US_ASCII).split(":", 3);
                entries.computeIfAbsent(parts[0], k -> new HashSet<>()).add(Long.parseLong(parts[1]));
            }
        }
        return entries;
    }
}
