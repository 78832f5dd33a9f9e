package io.mqttkafkabridge.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;

import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

import io.mqttkafkabridge.journal.FsyncPolicy;
import io.mqttkafkabridge.journal.Journal;
import io.mqttkafkabridge.journal.JournalEntry;
import io.mqttkafkabridge.routing.MqttPublication;

/**
 * Appends of 100-byte publications to the uplink journal, per fsync mode, with H2 MVStore (the store Moquette already
 * ships) as the baseline measured in the same run, then one sequential read of our journal. Run:
 * {@code ./mvnw -q test-compile exec:java@journal-bench}. Bounded: at most 300,000 appends per row (3,000 with
 * fsync always), in a scratch folder under target/.
 */
public final class JournalBenchmark {

    private static final int N = 300_000;
    private static final int N_ALWAYS = 3_000;

    private JournalBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path root = Files.createTempDirectory(Files.createDirectories(Paths.get("target")), "journal-bench-");
        MqttPublication[] publications = new MqttPublication[64];
        for (int i = 0; i < publications.length; i++) {
            byte[] payload = new byte[100];
            byte[] text = ("dev" + i + ":0:").getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(text, 0, payload, 0, text.length);
            publications[i] = new MqttPublication("load/dev" + i + "/data", payload, 1, false, "dev" + i, null);
        }
        System.out.println("| store | fsync | appends | appends/s | µs/append | ratio to MVStore |");
        System.out.println("| --- | --- | ---: | ---: | ---: | ---: |");
        for (FsyncPolicy fsync : FsyncPolicy.values()) {
            int n = fsync == FsyncPolicy.ALWAYS ? N_ALWAYS : N;
            double mv = mvstore(root.resolve("mv-" + fsync), fsync, publications, n);
            double ours = journal(root.resolve("journal-" + fsync), fsync, publications, n);
            row("uplink journal (ours)", fsync, n, ours, ours / mv);
            row("H2 MVStore 2.1", fsync, n, mv, 1.0);
        }
        long start = System.nanoTime();
        long read = 0;
        try (Journal journal = Journal.open(root.resolve("journal-NEVER"), Long.MAX_VALUE / 4, FsyncPolicy.NEVER, Duration.ofSeconds(1))) {
            for (JournalEntry e = journal.read(); e != null; e = journal.read()) {
                read++;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(Locale.ROOT, "%nsequential read of our journal: %d entries, %.0f entries/s%n", read, read / seconds);
        delete(root);
    }

    private static void row(String store, FsyncPolicy fsync, int n, double perSecond, double ratio) {
        System.out.printf(Locale.ROOT, "| %s | %s | %,d | %,.0f | %.1f | %.2f |%n", store, fsync.name().toLowerCase(Locale.ROOT),
                n, perSecond, 1e6 / perSecond, ratio);
    }

    private static double journal(Path dir, FsyncPolicy fsync, MqttPublication[] publications, int n) throws Exception {
        try (Journal journal = Journal.open(dir, Long.MAX_VALUE / 4, fsync, Duration.ofSeconds(1))) {
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                journal.append(publications[i % publications.length]);
            }
            return n / ((System.nanoTime() - start) / 1e9);
        }
    }

    /** The same work with MVStore: entry = seq -> encoded publication; commit (and sync) as the fsync mode says. */
    private static double mvstore(Path dir, FsyncPolicy fsync, MqttPublication[] publications, int n) throws Exception {
        Files.createDirectories(dir);
        MVStore store = new MVStore.Builder().fileName(dir.resolve("store.mv").toString()).open();
        try {
            MVMap<Long, byte[]> map = store.openMap("journal");
            long lastSync = System.nanoTime();
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                MqttPublication p = publications[i % publications.length];
                byte[] topic = p.topic().getBytes(StandardCharsets.UTF_8);
                byte[] value = new byte[topic.length + p.payload().length + 16];
                System.arraycopy(topic, 0, value, 0, topic.length);
                System.arraycopy(p.payload(), 0, value, topic.length, p.payload().length);
                map.put((long) i, value);
                if (fsync == FsyncPolicy.ALWAYS) {
                    store.commit();
                    store.sync();
                } else if (fsync == FsyncPolicy.INTERVAL && System.nanoTime() - lastSync > 1_000_000_000L) {
                    store.commit();
                    store.sync();
                    lastSync = System.nanoTime();
                }
            }
            return n / ((System.nanoTime() - start) / 1e9);
        } finally {
            store.close();
        }
    }

    private static void delete(Path root) throws Exception {
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
