package io.mqttkafkabridge.fault;

import java.nio.file.Paths;
import java.util.concurrent.CountDownLatch;

import io.mqttkafkabridge.dev.LocalKafka;

/** Runs a {@link LocalKafka} as its own process: {@code LocalKafkaMain <dir> <port>}; prints READY; SIGTERM stops it. */
public final class LocalKafkaMain {

    private LocalKafkaMain() {
    }

    public static void main(String[] args) throws Exception {
        LocalKafka kafka = LocalKafka.start(Paths.get(args[0]), Integer.parseInt(args[1]));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            kafka.close();
            stopped.countDown();
        }));
        System.out.println("READY " + kafka.bootstrapServers());
        System.out.flush();
        stopped.await();
    }
}
