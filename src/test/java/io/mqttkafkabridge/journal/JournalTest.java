package io.mqttkafkabridge.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.mqttkafkabridge.routing.MessageProperties;
import io.mqttkafkabridge.routing.MqttPublication;

class JournalTest {

    @TempDir
    Path dir;

    private static MqttPublication publication(int i) {
        return new MqttPublication("devices/d" + i + "/telemetry", ("payload-" + i).getBytes(StandardCharsets.UTF_8),
                i % 3, i % 2 == 0, "client-" + i, i % 4 == 0 ? null : "user-" + i);
    }

    private static List<JournalEntry> readAll(Journal journal) {
        List<JournalEntry> entries = new ArrayList<>();
        for (JournalEntry e = journal.read(); e != null; e = journal.read()) {
            entries.add(e);
        }
        return entries;
    }

    @ParameterizedTest
    @EnumSource(FsyncPolicy.class)
    void entries_come_back_in_order_with_every_field(FsyncPolicy fsync) throws IOException {
        try (Journal journal = Journal.open(dir, 1 << 20, fsync, Duration.ofMillis(10))) {
            for (int i = 0; i < 100; i++) {
                assertThat(journal.append(publication(i))).isEqualTo(i);
            }
            List<JournalEntry> entries = readAll(journal);
            assertThat(entries).hasSize(100);
            for (int i = 0; i < 100; i++) {
                MqttPublication expected = publication(i);
                MqttPublication actual = entries.get(i).publication();
                assertThat(entries.get(i).seq()).isEqualTo(i);
                assertThat(actual.topic()).isEqualTo(expected.topic());
                assertThat(actual.payload()).isEqualTo(expected.payload());
                assertThat(actual.qos()).isEqualTo(expected.qos());
                assertThat(actual.retain()).isEqualTo(expected.retain());
                assertThat(actual.clientId()).isEqualTo(expected.clientId());
                assertThat(actual.username()).isEqualTo(expected.username());
            }
        }
    }

    @Test
    void mqtt5_properties_come_back_with_their_entry_and_a_restart_reads_them_again() throws IOException {
        MessageProperties properties = new MessageProperties(1, "text/plain", "replies/d1", new byte[] { 7, 0, (byte) 0xFF },
                1_800_000_000_000L, List.of(new MessageProperties.UserProperty("k", "v1"),
                        new MessageProperties.UserProperty("k", "v2")));
        MqttPublication withProperties = new MqttPublication("requests/d1", new byte[] { 1 }, 1, false, "c", "u", properties);
        try (Journal journal = Journal.open(dir, 1 << 20, FsyncPolicy.ALWAYS, Duration.ofMillis(10))) {
            journal.append(publication(0));
            journal.append(withProperties);
        }
        try (Journal journal = Journal.open(dir, 1 << 20, FsyncPolicy.ALWAYS, Duration.ofMillis(10))) {
            List<JournalEntry> entries = readAll(journal);
            assertThat(entries.get(0).publication().properties()).isEqualTo(MessageProperties.NONE);
            assertThat(entries.get(1).publication().properties()).isEqualTo(properties);
            assertThat(entries.get(1).publication().payload()).isEqualTo(new byte[] { 1 });
        }
    }

    @Test
    void the_committed_position_is_the_first_entry_not_acked() throws IOException {
        try (Journal journal = Journal.open(dir, 1 << 20, FsyncPolicy.NEVER, Duration.ofSeconds(1))) {
            for (int i = 0; i < 5; i++) {
                journal.append(publication(i));
            }
            readAll(journal);
            journal.ack(0);
            journal.ack(2);
            journal.ack(3);
            assertThat(journal.committed()).isEqualTo(1);
            assertThat(journal.pending()).isEqualTo(4);
            journal.ack(1);
            assertThat(journal.committed()).isEqualTo(4);
            journal.ack(4);
            assertThat(journal.committed()).isEqualTo(5);
            assertThat(journal.pending()).isZero();
        }
    }

    @Test
    void after_a_restart_everything_not_acked_is_read_again() throws IOException {
        try (Journal journal = Journal.open(dir, 1 << 20, FsyncPolicy.NEVER, Duration.ofSeconds(1))) {
            for (int i = 0; i < 10; i++) {
                journal.append(publication(i));
            }
            readAll(journal);
            for (int i = 0; i < 6; i++) {
                journal.ack(i);
            }
            journal.ack(8); // acked out of order: 6 and 7 are not, so 6..9 come again
        }
        try (Journal journal = Journal.open(dir, 1 << 20, FsyncPolicy.NEVER, Duration.ofSeconds(1))) {
            assertThat(readAll(journal)).extracting(JournalEntry::seq).containsExactly(6L, 7L, 8L, 9L);
            assertThat(journal.append(publication(10))).isEqualTo(10);
        }
    }

    @Test
    void a_torn_last_entry_after_a_crash_is_cut_off_and_appending_goes_on() throws IOException {
        try (Journal journal = Journal.open(dir, 1 << 20, FsyncPolicy.NEVER, Duration.ofSeconds(1))) {
            for (int i = 0; i < 3; i++) {
                journal.append(publication(i));
            }
        }
        Path segment;
        try (Stream<Path> files = Files.list(dir)) {
            segment = files.filter(p -> p.toString().endsWith(".log")).findFirst().orElseThrow();
        }
        try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 5); // the process died in the middle of writing entry 2
        }
        try (Journal journal = Journal.open(dir, 1 << 20, FsyncPolicy.NEVER, Duration.ofSeconds(1))) {
            assertThat(journal.append(publication(3))).isEqualTo(2);
            assertThat(readAll(journal)).extracting(e -> e.publication().topic())
                    .containsExactly("devices/d0/telemetry", "devices/d1/telemetry", "devices/d3/telemetry");
        }
    }

    @Test
    void a_corrupt_entry_is_not_delivered() throws IOException {
        try (Journal journal = Journal.open(dir, 1 << 20, FsyncPolicy.NEVER, Duration.ofSeconds(1))) {
            journal.append(publication(0));
            journal.append(publication(1));
        }
        Path segment;
        try (Stream<Path> files = Files.list(dir)) {
            segment = files.filter(p -> p.toString().endsWith(".log")).findFirst().orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(segment);
        bytes[bytes.length - 2] ^= 0x55; // flip bits in the last entry's payload
        Files.write(segment, bytes);
        try (Journal journal = Journal.open(dir, 1 << 20, FsyncPolicy.NEVER, Duration.ofSeconds(1))) {
            assertThat(readAll(journal)).extracting(JournalEntry::seq).containsExactly(0L);
        }
    }

    @Test
    void space_is_bounded_and_freed_once_kafka_has_the_entries() throws Exception {
        long max = 512 * 1024;
        try (Journal journal = Journal.open(dir, max, FsyncPolicy.NEVER, Duration.ofSeconds(1))) {
            byte[] payload = new byte[4096];
            int appended = 0;
            while (journal.hasRoom(payload.length + 1024)) {
                journal.append(new MqttPublication("t", payload, 1, false, "c", null));
                appended++;
            }
            assertThat(journal.bytes()).isLessThanOrEqualTo(max);
            assertThat(appended).isGreaterThan(100);

            for (JournalEntry e = journal.read(); e != null; e = journal.read()) {
                journal.ack(e.seq());
            }
            // housekeeping runs every 100 ms: it checkpoints and deletes the segments before the committed position
            await().atMost(Duration.ofSeconds(5)).until(() -> journal.hasRoom(max / 2));
            assertThat(journal.bytes()).isLessThan(max / 2);
        }
    }
}
