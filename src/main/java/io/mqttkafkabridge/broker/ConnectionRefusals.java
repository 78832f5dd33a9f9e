package io.mqttkafkabridge.broker;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.metrics.BridgeMetrics;

/**
 * Counts and logs the CONNECTs Moquette refuses. Moquette 0.17 has no hook for them: every refusal goes through
 * {@code MQTTConnection.abortConnection} right after a log line of its own, so this handler on that logger maps
 * each such line to a refusal reason, counts it in {@code mqtt_connections_total{outcome}} and logs MKB0010.
 * Moquette's other lines of that logger at WARN and above still reach the console, but for its ERROR with a stack
 * trace when a client left before its CONNACK was written (nothing is wrong then).
 */
final class ConnectionRefusals extends Handler {

    static final String MOQUETTE_LOGGER = "io.moquette.broker.MQTTConnection";

    /** Start of Moquette's log line, reason, CONNACK return code (MQTT 3.1.1 §3.2.2.3). */
    private static final Map<String, Object[]> REASONS = new LinkedHashMap<>();

    static {
        REASONS.put("MQTT protocol version is not valid", new Object[] {"unsupported-protocol-version", 1});
        REASONS.put("Broker doesn't permit MQTT empty client ID", new Object[] {"identifier-rejected", 2});
        REASONS.put("MQTT client ID cannot be empty for persistent session", new Object[] {"identifier-rejected", 2});
        REASONS.put("MQTT session for client ID", new Object[] {"server-unavailable", 3});
        REASONS.put("Client didn't supply any password", new Object[] {"bad-credentials", 4});
        REASONS.put("Authenticator has rejected the MQTT credentials", new Object[] {"bad-credentials", 4});
        REASONS.put("Client didn't supply any credentials", new Object[] {"bad-credentials", 4}); // Moquette sends 4 for every login failure
    }

    private final Map<String, Counter> refused = new LinkedHashMap<>();

    private ConnectionRefusals(MeterRegistry registry) {
        for (Object[] reason : REASONS.values()) {
            refused.computeIfAbsent((String) reason[0], outcome -> Counter.builder(BridgeMetrics.MQTT_CONNECTIONS)
                    .tag("outcome", outcome).description("MQTT connections, by outcome").register(registry));
        }
    }

    /** Installs the handler on Moquette's connection logger. */
    static void install(MeterRegistry registry) {
        Logger logger = Logger.getLogger(MOQUETTE_LOGGER);
        for (Handler handler : logger.getHandlers()) {
            if (handler instanceof ConnectionRefusals) {
                logger.removeHandler(handler);
            }
        }
        logger.setLevel(Level.INFO);
        logger.setUseParentHandlers(false);
        logger.addHandler(new ConnectionRefusals(registry));
    }

    /** Moquette's ERROR, with a stack trace, when a client closed its connection before the CONNACK: nothing to report. */
    private static final String GONE_BEFORE_CONNACK = "CONNACK send failed";

    @Override
    public void publish(LogRecord record) {
        String message = record.getMessage();
        if (message != null && message.startsWith(GONE_BEFORE_CONNACK)) {
            return;
        }
        if (message != null) {
            for (Map.Entry<String, Object[]> reason : REASONS.entrySet()) {
                if (message.startsWith(reason.getKey())) {
                    refused.get((String) reason.getValue()[0]).increment();
                    BridgeLog.LOG.connectionRefused((String) reason.getValue()[0], (Integer) reason.getValue()[1],
                            format(record));
                    return;
                }
            }
        }
        if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
            for (Handler parent : Logger.getLogger("").getHandlers()) {
                parent.publish(record);
            }
        }
    }

    /** A record's message with its {@code {}} placeholders filled in, as Moquette's slf4j calls meant it. */
    static String format(LogRecord record) {
        Object[] parameters = record.getParameters();
        String message = record.getMessage();
        if (parameters == null) {
            return message;
        }
        for (Object parameter : parameters) {
            message = message.replaceFirst("\\{}", java.util.regex.Matcher.quoteReplacement(String.valueOf(parameter)));
        }
        return message;
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
}
