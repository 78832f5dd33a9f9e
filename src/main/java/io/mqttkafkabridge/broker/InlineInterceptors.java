package io.mqttkafkabridge.broker;

import java.lang.reflect.Field;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

import io.moquette.broker.Server;

/**
 * Makes Moquette call the interceptors on the thread that handled the message, right after it queued the PUBACK,
 * instead of on its interceptor thread pool. Moquette 0.17 acknowledges a QoS 1 publish before any interceptor sees
 * it; with the pool, every publish waiting in the pool's queue is acknowledged but not yet journaled, so a crash loses
 * them. Inline, the journal append follows the PUBACK within microseconds, on the same thread, in the same order.
 * Moquette has no setting for this: the executor is replaced by reflection once, at start-up (the two fields are
 * registered for the native executable in {@link NativeRegistrations}).
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
