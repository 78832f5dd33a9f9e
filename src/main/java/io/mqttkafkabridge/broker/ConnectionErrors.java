package io.mqttkafkabridge.broker;

import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import io.mqttkafkabridge.metrics.BridgeLog;

/**
 * Moquette's own handler logs, at ERROR with a stack trace, any exception it meets while it processes one client's
 * packet, and then closes that client's connection: any client could fill the log with them. This handler on that
 * logger turns each into one WARN line without a stack trace (MKB0021; the trace at DEBUG, MKB0022). The gate
 * ({@link MqttGate#exceptionCaught}) does the same for exceptions that reach it first.
 */
final class ConnectionErrors extends Handler {

    static final String MOQUETTE_LOGGER = "io.moquette.broker.NewNettyMQTTHandler";

    private ConnectionErrors() {
    }

    /** Installs the handler on Moquette's Netty handler logger. */
    static void install() {
        Logger logger = Logger.getLogger(MOQUETTE_LOGGER);
        for (Handler handler : logger.getHandlers()) {
            if (handler instanceof ConnectionErrors) {
                logger.removeHandler(handler);
            }
        }
        logger.setUseParentHandlers(false);
        logger.addHandler(new ConnectionErrors());
    }

    @Override
    public void publish(LogRecord record) {
        if (record.getLevel().intValue() < Level.WARNING.intValue()) {
            return;
        }
        closed(record.getMessage() == null ? "" : ConnectionRefusals.format(record), record.getThrown());
    }

    /** One connection closed by an exception: a WARN line without a stack trace, the trace at DEBUG. */
    static void closed(String what, Throwable thrown) {
        Throwable cause = thrown;
        while (cause != null && cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        BridgeLog.LOG.connectionFailed(what, cause == null ? "" : cause.toString());
        if (thrown != null) {
            BridgeLog.LOG.connectionFailedTrace(what, thrown);
        }
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
}
