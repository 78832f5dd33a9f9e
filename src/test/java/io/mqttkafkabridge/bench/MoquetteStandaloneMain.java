package io.mqttkafkabridge.bench;

import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import io.moquette.broker.Server;
import io.moquette.broker.config.IConfig;
import io.moquette.broker.config.MemoryConfig;

/**
 * The baseline: Moquette 0.17 alone, as a user would embed it, in its own JVM: {@code MoquetteStandaloneMain <port>}.
 * Its defaults, except what would skew or break the run: telemetry off (it calls out to the internet), in-memory
 * sessions (its fastest store), and session-loop queues as large as the bridge's ({@code session_queue_size} 65,536:
 * with its default of 1,024 it drops publishes under this load, thousands per run, and its publishers stall without
 * their PUBACKs). Prints READY; SIGTERM stops it.
 */
public final class MoquetteStandaloneMain {

    private MoquetteStandaloneMain() {
    }

    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        p.setProperty(IConfig.HOST_PROPERTY_NAME, "127.0.0.1");
        p.setProperty(IConfig.PORT_PROPERTY_NAME, args[0]);
        p.setProperty(IConfig.ENABLE_TELEMETRY_NAME, "false");
        p.setProperty(IConfig.PERSISTENCE_ENABLED_PROPERTY_NAME, "false");
        p.setProperty(IConfig.ALLOW_ANONYMOUS_PROPERTY_NAME, "true");
        p.setProperty(IConfig.SESSION_QUEUE_SIZE, "65536");
        Server server = new Server();
        server.startServer(new MemoryConfig(p));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stopServer();
            stopped.countDown();
        }));
        System.out.println("READY");
        System.out.flush();
        stopped.await();
    }
}
