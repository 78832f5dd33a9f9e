package io.mqttkafkabridge.broker;

import java.lang.reflect.Field;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

import io.moquette.broker.Server;

/**
 * Makes Moquette call the interceptors (the bridge's {@link ClientTracker}) on the session loop that handled the
 * event, instead of on its interceptor thread pool: a client is listed as connected, with its subscriptions, as soon as
 * Moquette has answered it, and connect and disconnect of one client id are seen in their order. (The uplink journal
 * no longer depends on it: {@link PublishPath} journals before Moquette acknowledges.) Moquette has no setting for
 * this: the executor is replaced by reflection once, at start-up (the two fields are registered for the native
 * executable in {@link NativeRegistrations}).
 */
final class InlineInterceptors {

    private InlineInterceptors() {
    }

    /** @return false when this Moquette version has a different inside; the broker then keeps its thread pool */
    static boolean install(Server server) {
        try {
            Object interceptor = MoquetteFields.field(Server.class, "interceptor").get(server);
            Field executorField = MoquetteFields.field(interceptor.getClass(), "executor");
            ExecutorService pool = (ExecutorService) executorField.get(interceptor);
            executorField.set(interceptor, new CallerRuns());
            pool.shutdown();
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    /** Runs each task on the calling thread. */
    static final class CallerRuns extends AbstractExecutorService {
        private volatile boolean shutdown;

        @Override
        public void execute(Runnable command) {
            command.run();
        }

        @Override
        public void shutdown() {
            shutdown = true;
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown = true;
            return List.of();
        }

        @Override
        public boolean isShutdown() {
            return shutdown;
        }

        @Override
        public boolean isTerminated() {
            return shutdown;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return true;
        }
    }
}
