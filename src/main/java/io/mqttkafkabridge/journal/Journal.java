package io.mqttkafkabridge.journal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.routing.MqttPublication;

/**
 * The uplink journal: an append-only log of every publication the broker acknowledged, in segment files under one
 * folder, each entry framed as {@code int length | int CRC32C | body}. Entries get consecutive sequence numbers.
 * The committed position (every entry before it is in Kafka) is checkpointed to a file; segments wholly before it
 * are deleted. After a crash, a torn last entry is cut off and everything from the committed position is read
 * again (at-least-once).
 *
 * <p>Threads: one writer ({@link #append}, the broker's interceptor thread), one reader ({@link #read}), any thread
 * for {@link #ack}; a background thread writes the checkpoint, deletes segments and, with {@link FsyncPolicy#INTERVAL},
 * forces writes to disk.
 */
public final class Journal implements AutoCloseable {

    static final String SEGMENT_SUFFIX = ".log";
    static final String CHECKPOINT = "committed";
    private static final int HEADER = 8;
    private static final int MAX_ENTRY = 64 * 1024 * 1024;

    private final Path dir;
    private final long maxBytes;
    private final long segmentBytes;
    private final FsyncPolicy fsync;
    private final ConcurrentSkipListMap<Long, Path> segments = new ConcurrentSkipListMap<>();
    private final ScheduledExecutorService housekeeping;
    private final CRC32C writeCrc = new CRC32C();
    private final Object commitLock = new Object();
    private final TreeSet<Long> inFlight = new TreeSet<>();

    // writer state (guarded by this)
    private FileChannel writer;
    private long writerSize;
    private volatile boolean dirty;
    // the next sequence number to assign; volatile publication point for the reader
    private volatile long appendedNext;
    private volatile long bytes;

    // reader state (reader thread only)
    private FileChannel readChannel;
    private long readSegment = -1;
    private long readPosition;
    private final ByteBuffer readHeader = ByteBuffer.allocate(HEADER);

    // commit state (guarded by commitLock)
    private long readNext;
    private long checkpointed;

    private Journal(Path dir, long maxBytes, long segmentBytes, FsyncPolicy fsync) {
        this.dir = dir;
        this.maxBytes = maxBytes;
        this.segmentBytes = segmentBytes;
        this.fsync = fsync;
        this.housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "uplink-journal-housekeeping");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Opens (or creates) the journal in {@code dir}, recovering from a crash if needed.
     *
     * @param maxBytes the most disk space the segments may take; {@link #hasRoom} says when it is reached
     */
    public static Journal open(Path dir, long maxBytes, FsyncPolicy fsync, Duration fsyncInterval) throws IOException {
        long segmentBytes = Math.max(64 * 1024, Math.min(64L * 1024 * 1024, maxBytes / 8));
        Journal journal = new Journal(dir, maxBytes, segmentBytes, fsync);
        journal.recover();
        journal.housekeeping.scheduleWithFixedDelay(journal::housekeep, 100, 100, TimeUnit.MILLISECONDS);
        if (fsync == FsyncPolicy.INTERVAL) {
            long ms = Math.max(1, fsyncInterval.toMillis());
            journal.housekeeping.scheduleWithFixedDelay(journal::forceQuietly, ms, ms, TimeUnit.MILLISECONDS);
        }
        return journal;
    }

    private void recover() throws IOException {
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(dir)) {
            files.filter(p -> p.getFileName().toString().endsWith(SEGMENT_SUFFIX))
                    .forEach(p -> segments.put(firstSeqOf(p), p));
        }
        long committed = readCheckpoint();
        long next = committed;
        if (!segments.isEmpty()) {
            Map.Entry<Long, Path> last = segments.lastEntry();
            next = truncateTornTail(last.getKey(), last.getValue());
        }
        if (committed > next) {
            committed = next;
        }
        appendedNext = next;
        readNext = committed;
        checkpointed = committed;
        deleteSegmentsBefore(committed);
        long total = 0;
        for (Path p : segments.values()) {
            total += Files.size(p);
        }
        bytes = total;
        positionReader(committed);
    }

    /** Scans the last segment, cuts it after its last whole entry, and returns the next sequence number. */
    private long truncateTornTail(long firstSeq, Path segment) throws IOException {
        try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = channel.size();
            long position = 0;
            long next = firstSeq;
            CRC32C crc = new CRC32C();
            ByteBuffer header = ByteBuffer.allocate(HEADER);
            while (position + HEADER <= size) {
                header.clear();
                readFully(channel, header, position);
                int length = header.getInt(0);
                int expected = header.getInt(4);
                if (length <= 0 || length > MAX_ENTRY || position + HEADER + length > size) {
                    break;
                }
                ByteBuffer body = ByteBuffer.allocate(length);
                readFully(channel, body, position + HEADER);
                crc.reset();
                crc.update(body.array(), 0, length);
                if ((int) crc.getValue() != expected) {
                    break;
                }
                next = body.getLong(0) + 1;
                position += HEADER + length;
            }
            if (position < size) {
                channel.truncate(position);
                channel.force(true);
            }
            return next;
        }
    }

    /** True while the journal has room for another message of {@code margin} bytes. */
    public boolean hasRoom(long margin) {
        return bytes + margin + HEADER <= maxBytes;
    }

    /**
     * Appends one publication and returns its sequence number. Single writer thread.
     *
     * @throws IOException when the entry could not be written; nothing was appended then
     */
    public synchronized long append(MqttPublication publication) throws IOException {
        long seq = appendedNext;
        byte[] body = PublicationCodec.encode(seq, System.currentTimeMillis(), publication);
        int entry = HEADER + body.length;
        if (writer == null || (writerSize > 0 && writerSize + entry > segmentBytes)) {
            roll(seq);
        }
        writeCrc.reset();
        writeCrc.update(body, 0, body.length);
        ByteBuffer framed = ByteBuffer.allocate(entry);
        framed.putInt(body.length).putInt((int) writeCrc.getValue()).put(body).flip();
        long start = writerSize;
        try {
            while (framed.hasRemaining()) {
                writer.write(framed, writerSize + framed.position());
            }
            if (fsync == FsyncPolicy.ALWAYS) {
                writer.force(false);
            } else {
                dirty = true;
            }
        } catch (IOException e) {
            writer.truncate(start);
            throw e;
        }
        writerSize += entry;
        bytes += entry;
        appendedNext = seq + 1;
        return seq;
    }

    private void roll(long firstSeq) throws IOException {
        if (writer == null) {
            // first append since opening: continue the last segment while it has room
            Map.Entry<Long, Path> last = segments.lastEntry();
            if (last != null && Files.size(last.getValue()) < segmentBytes) {
                writer = FileChannel.open(last.getValue(), StandardOpenOption.WRITE);
                writerSize = writer.size();
                return;
            }
        } else {
            if (fsync != FsyncPolicy.NEVER) {
                writer.force(false);
            }
            writer.close();
        }
        Path path = dir.resolve(String.format("%020d%s", firstSeq, SEGMENT_SUFFIX));
        writer = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        writerSize = 0;
        segments.put(firstSeq, path);
    }

    /**
     * Reads the next entry not yet handed out, or returns {@code null} when the reader has caught up with the writer.
     * The entry counts as in flight until {@link #ack}. Single reader thread.
     */
    public JournalEntry read() {
        long seq;
        synchronized (commitLock) {
            seq = readNext;
        }
        if (seq >= appendedNext) {
            return null;
        }
        try {
            JournalEntry entry = readAt(seq);
            synchronized (commitLock) {
                inFlight.add(entry.seq());
                readNext = entry.seq() + 1;
            }
            return entry;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the uplink journal in " + dir, e);
        }
    }

    private JournalEntry readAt(long seq) throws IOException {
        while (true) {
            if (readChannel == null) {
                positionReader(seq);
            }
            readHeader.clear();
            int n = readChannel.read(readHeader, readPosition);
            if (n < HEADER) {
                // end of this segment: the writer has moved on to the next one
                Map.Entry<Long, Path> next = segments.higherEntry(readSegment);
                if (next == null) {
                    throw new IOException("Journal entry " + seq + " missing: no segment after " + readSegment);
                }
                openReader(next.getKey(), next.getValue(), 0);
                continue;
            }
            int length = readHeader.getInt(0);
            ByteBuffer body = ByteBuffer.allocate(length);
            readFully(readChannel, body, readPosition + HEADER);
            readPosition += HEADER + length;
            body.flip();
            JournalEntry entry = PublicationCodec.decode(body);
            if (entry.seq() >= seq) {
                return entry;
            }
        }
    }

    private void positionReader(long seq) throws IOException {
        Map.Entry<Long, Path> segment = segments.floorEntry(seq);
        if (segment == null) {
            segment = segments.ceilingEntry(seq);
        }
        if (segment != null) {
            openReader(segment.getKey(), segment.getValue(), 0);
        }
    }

    private void openReader(long firstSeq, Path path, long position) throws IOException {
        if (readChannel != null) {
            readChannel.close();
        }
        readChannel = FileChannel.open(path, StandardOpenOption.READ);
        readSegment = firstSeq;
        readPosition = position;
    }

    /** The entry with this sequence number has been fully handled (in Kafka, or dropped by policy). Any thread. */
    public void ack(long seq) {
        synchronized (commitLock) {
            inFlight.remove(seq);
        }
    }

    /** Every entry before this sequence number is done. */
    public long committed() {
        synchronized (commitLock) {
            return inFlight.isEmpty() ? readNext : inFlight.first();
        }
    }

    /** The sequence number the next append gets. */
    public long appended() {
        return appendedNext;
    }

    /** Entries appended and not yet done. */
    public long pending() {
        return appendedNext - committed();
    }

    /** Disk space the segments take. */
    public long bytes() {
        return bytes;
    }

    public long maxBytes() {
        return maxBytes;
    }

    private void housekeep() {
        try {
            long committed = committed();
            if (committed != checkpointed) {
                writeCheckpoint(committed);
                checkpointed = committed;
                deleteSegmentsBefore(committed);
            }
        } catch (IOException | RuntimeException e) {
            BridgeLog.LOG.journalHousekeepingFailed(dir.toString(), e);
        }
    }

    private void deleteSegmentsBefore(long committed) throws IOException {
        Map.Entry<Long, Path> first = segments.firstEntry();
        while (first != null) {
            Map.Entry<Long, Path> next = segments.higherEntry(first.getKey());
            // a segment is done when the one after it starts at or before the committed position
            if (next == null || next.getKey() > committed) {
                return;
            }
            long size = Files.exists(first.getValue()) ? Files.size(first.getValue()) : 0;
            Files.deleteIfExists(first.getValue());
            segments.remove(first.getKey());
            synchronized (this) {
                bytes -= size;
            }
            first = next;
        }
    }

    private long readCheckpoint() throws IOException {
        Path file = dir.resolve(CHECKPOINT);
        if (!Files.exists(file)) {
            return segments.isEmpty() ? 0 : segments.firstKey();
        }
        byte[] content = Files.readAllBytes(file);
        if (content.length != 12) {
            return segments.isEmpty() ? 0 : segments.firstKey();
        }
        ByteBuffer b = ByteBuffer.wrap(content);
        long seq = b.getLong();
        CRC32C crc = new CRC32C();
        crc.update(content, 0, 8);
        return (int) crc.getValue() == b.getInt() ? seq : (segments.isEmpty() ? 0 : segments.firstKey());
    }

    private void writeCheckpoint(long committed) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(12).putLong(committed);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, 8);
        b.putInt((int) crc.getValue()).flip();
        Path tmp = dir.resolve(CHECKPOINT + ".tmp");
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (b.hasRemaining()) {
                out.write(b);
            }
            if (fsync != FsyncPolicy.NEVER) {
                out.force(false);
            }
        }
        try {
            Files.move(tmp, dir.resolve(CHECKPOINT), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, dir.resolve(CHECKPOINT), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private void forceQuietly() {
        if (!dirty) {
            return;
        }
        dirty = false;
        try {
            FileChannel channel;
            synchronized (this) {
                channel = writer;
            }
            if (channel != null && channel.isOpen()) {
                channel.force(false);
            }
        } catch (IOException e) {
            BridgeLog.LOG.journalHousekeepingFailed(dir.toString(), e);
        }
    }

    /** Writes the checkpoint and closes the files. */
    @Override
    public void close() throws IOException {
        housekeeping.shutdown();
        try {
            housekeeping.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            if (writer != null) {
                if (fsync != FsyncPolicy.NEVER) {
                    writer.force(false);
                }
                writer.close();
                writer = null;
            }
        }
        writeCheckpoint(committed());
        if (readChannel != null) {
            readChannel.close();
        }
    }

    private static long firstSeqOf(Path segment) {
        String name = segment.getFileName().toString();
        return Long.parseLong(name.substring(0, name.length() - SEGMENT_SUFFIX.length()));
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, at);
            if (n < 0) {
                throw new IOException("Unexpected end of journal segment");
            }
            at += n;
        }
    }
}
