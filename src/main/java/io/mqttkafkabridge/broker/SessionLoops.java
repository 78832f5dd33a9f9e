package io.mqttkafkabridge.broker;

import static io.mqttkafkabridge.broker.MoquetteFields.field;

import java.util.AbstractQueue;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.moquette.broker.Server;
import io.mqttkafkabridge.metrics.BridgeLog;
import io.mqttkafkabridge.metrics.BridgeMetrics;

/**
 * Moquette 0.17's session loops, kept alive and watched. Every client is hashed to one of the loops (one per core);
 * each loop is a thread that runs its clients' commands one after the other. In 0.17, a command that throws ends the
 * thread for good (upstream #957, fixed in 0.18.1): every client hashed to that loop then gets no CONNACK, no PUBACK
 * and no delivery, while the process looks alive.
 * <ul>
 * <li><b>Containment.</b> Each loop's command queue is wrapped so that every command is run inside a task that
 * catches what it throws: the failure is logged once (MKB0017, without a stack trace at ERROR), counted
 * ({@code mqtt_session_loop_failures_total}) and the loop goes on with its next command.</li>
 * <li><b>Watchdog.</b> Once a second, {@link #problem()} is computed for each loop: a thread that is no longer alive,
 * or a command running for longer than {@code bridge.broker.session-loop-stall-timeout}, is logged (MKB0018, with
 * where the thread is) and turns liveness DOWN ({@code BrokerLiveness}) so that Kubernetes restarts the pod instead
 * of leaving it half alive. A loop that catches up is logged as recovered (MKB0019).</li>
 * </ul>
 * Installed once into a started {@link Server} by reflection on {@code PostOffice.sessionLoops}; a command queued in
 * the moment between Moquette's start and the install is not contained (no client is connected by then).
 */
final class SessionLoops implements AutoCloseable {

    private final Thread[] loops;
    private final BlockingQueue<?>[] queues;
    /** Per loop: when the command running now started ({@link System#nanoTime()}), or 0 while it waits. */
    private final AtomicLongArray runningSince;
    private final long stallNanos;
    private final Counter failures;
    private final Thread watchdog;
    private final String[] problems;
    private volatile String problem;

    private SessionLoops(Thread[] loops, BlockingQueue<?>[] queues, long stallMillis, MeterRegistry registry) {
        this.loops = loops;
        this.queues = queues;
        this.runningSince = new AtomicLongArray(loops.length);
        this.problems = new String[loops.length];
        this.stallNanos = TimeUnit.MILLISECONDS.toNanos(stallMillis);
        this.failures = Counter.builder(BridgeMetrics.MQTT_SESSION_LOOP_FAILURES)
                .description("Commands of Moquette's session loops that threw; the loop went on with the next one")
                .register(registry);
        this.watchdog = new Thread(this::watch, "session-loop-watchdog");
        this.watchdog.setDaemon(true);
    }

    /**
     * Wraps the command queues of a started broker's session loops and starts the watchdog.
     *
     * @throws IllegalStateException when Moquette's internals are not those of 0.17
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static SessionLoops install(Server moquette, long stallMillis, MeterRegistry registry) {
        try {
            Object postOffice = MoquetteFields.postOffice(moquette);
            Object group = field(postOffice.getClass(), "sessionLoops").get(postOffice);
            Thread[] loops = (Thread[]) field(group.getClass(), "sessionExecutors").get(group);
            BlockingQueue[] queues = (BlockingQueue[]) field(group.getClass(), "sessionQueues").get(group);
            SessionLoops sessionLoops = new SessionLoops(Arrays.copyOf(loops, loops.length), queues, stallMillis, registry);
            for (int i = 0; i < queues.length; i++) {
                if (!(queues[i] instanceof Contained)) {
                    queues[i] = sessionLoops.new Contained(i, (BlockingQueue<FutureTask<String>>) queues[i]);
                }
            }
            sessionLoops.watchdog.start();
            return sessionLoops;
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalStateException("cannot watch Moquette's session loops (a Moquette version other than 0.17?): " + e, e);
        }
    }

    /**
     * Runs {@code command} on the session loop of {@code clientId}, after what is queued there (contained like
     * Moquette's own commands). Not run, and false, when that loop's queue is full.
     */
    boolean run(String clientId, Runnable command) {
        @SuppressWarnings("unchecked")
        BlockingQueue<FutureTask<String>> queue = (BlockingQueue<FutureTask<String>>) queues[Math.abs(clientId.hashCode()) % queues.length];
        return queue.offer(new FutureTask<>(command, null));
    }

    /** The command queues (wrapped), for {@link SessionQueues}' congestion check. */
    BlockingQueue<?>[] queues() {
        return queues;
    }

    /** What is wrong with a session loop now (dead, or stuck in one command), or empty when every loop serves. */
    Optional<String> problem() {
        return Optional.ofNullable(problem);
    }

    /** Runs one of Moquette's commands on loop {@code loop}, catching what it throws. */
    private void runContained(int loop, FutureTask<String> command) {
        runningSince.set(loop, System.nanoTime() | 1); // never 0 while running
        try {
            command.run();
            command.get();
        } catch (ExecutionException e) {
            failed(loop, e.getCause() == null ? e : e.getCause());
        } catch (CancellationException e) {
            // Moquette cancelled it: nothing ran
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // shutdown: Moquette's loop sees the flag and ends
        } catch (RuntimeException | Error e) {
            failed(loop, e);
        } finally {
            runningSince.set(loop, 0);
        }
    }

    private void failed(int loop, Throwable cause) {
        failures.increment();
        // the first frame of Moquette's or the bridge's own, which says more than a Netty or JDK helper's
        StackTraceElement[] trace = cause.getStackTrace();
        String where = trace.length == 0 ? "?" : trace[0].toString();
        for (StackTraceElement frame : trace) {
            if (frame.getClassName().startsWith("io.moquette.") || frame.getClassName().startsWith("io.mqttkafkabridge.")) {
                where = frame.toString();
                break;
            }
        }
        BridgeLog.LOG.sessionLoopCommandFailed(loops[loop].getName(), cause.toString(), where);
        BridgeLog.LOG.sessionLoopCommandTrace(loops[loop].getName(), cause);
    }

    private void watch() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                TimeUnit.SECONDS.sleep(1);
            } catch (InterruptedException e) {
                return;
            }
            check();
        }
    }

    /** One look at every loop; sets {@link #problem()}. Package-private for the test of the watchdog itself. */
    void check() {
        String first = null;
        long now = System.nanoTime();
        for (int i = 0; i < loops.length; i++) {
            Thread loop = loops[i];
            long since = runningSince.get(i);
            String trouble = null;
            if (!loop.isAlive()) {
                trouble = loop.getName() + " has ended: the clients hashed to it get no answer";
            } else if (since != 0 && now - since > stallNanos) {
                trouble = loop.getName() + " has been running one command for " + TimeUnit.NANOSECONDS.toMillis(now - since)
                        + " ms (bridge.broker.session-loop-stall-timeout " + TimeUnit.NANOSECONDS.toMillis(stallNanos)
                        + " ms), at " + where(loop);
            }
            if (trouble != null && problems[i] == null) {
                BridgeLog.LOG.sessionLoopStalled(trouble);
            } else if (trouble == null && problems[i] != null) {
                BridgeLog.LOG.sessionLoopRecovered(loop.getName());
            }
            problems[i] = trouble;
            if (first == null) {
                first = trouble;
            }
        }
        problem = first;
    }

    private static String where(Thread thread) {
        StackTraceElement[] trace = thread.getStackTrace();
        StringBuilder where = new StringBuilder();
        for (int i = 0; i < Math.min(3, trace.length); i++) {
            where.append(i == 0 ? "" : " < ").append(trace[i]);
        }
        return where.length() == 0 ? "?" : where.toString();
    }

    @Override
    public void close() {
        watchdog.interrupt();
    }

    /** A task around one of Moquette's commands that never completes exceptionally. */
    private final class ContainedTask extends FutureTask<String> {
        ContainedTask(int loop, FutureTask<String> command) {
            super(() -> runContained(loop, command), null);
        }
    }

    /**
     * One loop's command queue, as Moquette offers commands to it: each command is wrapped in a
     * {@link ContainedTask}. The loop thread takes from the queue underneath (it holds its own reference), which only
     * ever receives wrapped tasks.
     */
    private final class Contained extends AbstractQueue<FutureTask<String>> implements BlockingQueue<FutureTask<String>> {
        private final int loop;
        private final BlockingQueue<FutureTask<String>> delegate;

        Contained(int loop, BlockingQueue<FutureTask<String>> delegate) {
            this.loop = loop;
            this.delegate = delegate;
        }

        private FutureTask<String> wrap(FutureTask<String> task) {
            return task instanceof ContainedTask ? task : new ContainedTask(loop, task);
        }

        @Override
        public boolean offer(FutureTask<String> task) {
            return delegate.offer(wrap(task));
        }

        @Override
        public void put(FutureTask<String> task) throws InterruptedException {
            delegate.put(wrap(task));
        }

        @Override
        public boolean offer(FutureTask<String> task, long timeout, TimeUnit unit) throws InterruptedException {
            return delegate.offer(wrap(task), timeout, unit);
        }

        @Override
        public FutureTask<String> take() throws InterruptedException {
            return delegate.take();
        }

        @Override
        public FutureTask<String> poll(long timeout, TimeUnit unit) throws InterruptedException {
            return delegate.poll(timeout, unit);
        }

        @Override
        public FutureTask<String> poll() {
            return delegate.poll();
        }

        @Override
        public FutureTask<String> peek() {
            return delegate.peek();
        }

        @Override
        public int remainingCapacity() {
            return delegate.remainingCapacity();
        }

        @Override
        public int drainTo(Collection<? super FutureTask<String>> c) {
            return delegate.drainTo(c);
        }

        @Override
        public int drainTo(Collection<? super FutureTask<String>> c, int maxElements) {
            return delegate.drainTo(c, maxElements);
        }

        @Override
        public Iterator<FutureTask<String>> iterator() {
            return delegate.iterator();
        }

        @Override
        public int size() {
            return delegate.size();
        }
    }
}
