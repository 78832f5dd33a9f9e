package io.mqttkafkabridge.journal;

/**
 * When the journal forces its writes to the storage device. A process crash (kill -9) loses nothing the journal has
 * written in any mode: written data is in the operating system's page cache. fsync protects against the loss of
 * the node itself (power, kernel).
 */
public enum FsyncPolicy {
    /** After every entry: survives power loss, costs a device flush per message. */
    ALWAYS,
    /** Every {@code bridge.journal.fsync-interval}, from a background thread. */
    INTERVAL,
    /** Never: the operating system writes back when it likes. */
    NEVER
}
