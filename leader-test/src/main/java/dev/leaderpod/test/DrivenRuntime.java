package dev.leaderpod.test;

import dev.leaderpod.core.ElectionClock;
import dev.leaderpod.core.ElectionRuntime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The time and the threads of the elections in a test. Time stands still: the clock's monotonic time never moves, so
 * no term reaches its renew deadline, no lease expires and no timer fires. The three executors of the
 * {@link ElectionRuntime} (election, events, I/O) start no thread: their tasks wait in one queue, in the order they
 * were submitted, until the kit runs them on the thread that asks ({@link #runAll}). A task submitted with a delay is
 * a timer on the standing clock and never runs.
 *
 * <p>One thread at a time runs tasks: the <em>driver</em>. Another thread that wants to run them waits until the
 * driver is done, so the tasks of each executor run one at a time and in order, as on the runtime's own threads.
 * Awaiting the future of a task runs the queue instead of blocking, so code that submits and then waits (an elector's
 * {@code stop}) works on any thread. A task that awaits a task of its own executor would wait for itself: that fails
 * at once instead of blocking forever.
 */
final class DrivenRuntime {

    /** The executors of the runtime. */
    enum Lane {
        ELECTION,
        EVENTS,
        IO
    }

    /** The monotonic time of the clock: it never moves. */
    static final long NANOS = 1_000_000_000L;

    /** More tasks than this in one run: the elections do not settle (a bug, or a listener that keeps asking). */
    private static final int MAX_TASKS_PER_RUN = 100_000;

    private final Object lock = new Object();
    private final ArrayDeque<Task<?>> ready = new ArrayDeque<>(); // guarded by lock
    private final Duration driverWait;
    private Thread driver; // guarded by lock
    private int depth; // guarded by lock
    /** Lanes whose task is on the driver's stack: their next task cannot run before it returns. Driver-confined. */
    private final Set<Lane> busy = EnumSet.noneOf(Lane.class);

    private final Instant wallTime;
    private final ElectionClock clock;
    private final LaneExecutor election = new LaneExecutor(Lane.ELECTION);
    private final LaneExecutor events = new LaneExecutor(Lane.EVENTS);
    private final LaneExecutor io = new LaneExecutor(Lane.IO);
    private final ElectionRuntime runtime;

    /**
     * @param wallTime the wall time of the clock, written into leases for humans: it stands still too
     * @param driverWait how long a thread waits for another thread that runs the tasks before it gives up
     */
    DrivenRuntime(Instant wallTime, Duration driverWait) {
        this.wallTime = wallTime;
        this.driverWait = driverWait;
        this.clock = new StandingClock(wallTime);
        this.runtime = ElectionRuntime.of(election, events, io);
    }

    /** The clock of the elections: time stands still. */
    ElectionClock clock() {
        return clock;
    }

    /** The wall time of the clock. */
    Instant wallTime() {
        return wallTime;
    }

    /** The runtime on these executors. */
    ElectionRuntime runtime() {
        return runtime;
    }

    /** Runs every task there is, and those they submit, until none is left (timers never run). */
    void runAll() {
        run(lane -> true);
    }

    /** Runs the tasks of the election and I/O executors until none is left; the events wait. */
    void runAllButEvents() {
        run(lane -> lane != Lane.EVENTS);
    }

    /** The tasks waiting to run (not the timers). */
    int pending() {
        synchronized (lock) {
            return (int) ready.stream().filter(task -> !task.isDone()).count();
        }
    }

    /** Runs {@code action} as the driver: no other thread runs tasks meanwhile. */
    <T> T drive(Supplier<T> action) {
        acquire();
        try {
            return action.get();
        } finally {
            release();
        }
    }

    /**
     * Makes {@code next} the driver in place of the calling thread, which must be the driver outside any task: for a
     * thread that goes on running the tasks after the caller returns. {@code next} must call {@link #release()} once
     * it is done.
     *
     * @throws IllegalStateException if the caller is not the driver, or is running a task
     */
    void handOver(Thread next) {
        synchronized (lock) {
            requireHandOverPossible();
            driver = next;
        }
    }

    /**
     * @throws IllegalStateException unless the calling thread is the driver outside any task (and outside any
     *     {@link #drive})
     */
    void requireHandOverPossible() {
        synchronized (lock) {
            if (driver != Thread.currentThread() || depth != 1 || !busy.isEmpty()) {
                throw new IllegalStateException("The rest of a revocation can be left to another thread only by a"
                        + " test's own thread: not from a listener, an event or a task of the elections");
            }
        }
    }

    void acquire() {
        Thread me = Thread.currentThread();
        synchronized (lock) {
            long deadline = System.nanoTime() + driverWait.toNanos();
            while (driver != null && driver != me) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("The elections' tasks have been run by thread '" + driver.getName()
                            + "' for more than " + driverWait + " (a revocation waiting for @LeaderOnly calls to"
                            + " return, or a listener that does not return): this thread gave up waiting for it");
                }
                try {
                    lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("Interrupted while waiting to run the elections' tasks", e);
                }
            }
            driver = me;
            depth++;
        }
    }

    void release() {
        synchronized (lock) {
            if (--depth == 0) {
                driver = null;
                lock.notifyAll();
            }
        }
    }

    private void run(Predicate<Lane> allowed) {
        runUntil(() -> false, allowed);
    }

    private void runUntil(BooleanSupplier done, Predicate<Lane> allowed) {
        acquire();
        try {
            int count = 0;
            while (!done.getAsBoolean()) {
                Task<?> next = take(allowed);
                if (next == null) {
                    return;
                }
                if (++count > MAX_TASKS_PER_RUN) {
                    throw new IllegalStateException("The elections did not settle: more than " + MAX_TASKS_PER_RUN
                            + " tasks in a row, the last one of the " + next.lane + " executor");
                }
                busy.add(next.lane);
                try {
                    next.run();
                } finally {
                    busy.remove(next.lane);
                }
            }
        } finally {
            release();
        }
    }

    /** The first task in submission order that may run now: of an allowed lane, and not of one busy on the stack. */
    private Task<?> take(Predicate<Lane> allowed) {
        synchronized (lock) {
            for (Iterator<Task<?>> it = ready.iterator(); it.hasNext(); ) {
                Task<?> task = it.next();
                if (task.isDone()) {
                    it.remove(); // cancelled
                } else if (allowed.test(task.lane) && !busy.contains(task.lane)) {
                    it.remove();
                    return task;
                }
            }
            return null;
        }
    }

    private void enqueue(Task<?> task) {
        synchronized (lock) {
            ready.add(task);
        }
    }

    /** A clock whose time stands still. */
    private record StandingClock(Instant wall) implements ElectionClock {

        @Override
        public long nanoTime() {
            return NANOS;
        }

        @Override
        public Instant wallTime() {
            return wall;
        }
    }

    /** A task of one executor; with a delay, a timer on the standing clock, which never comes due. */
    private final class Task<V> extends FutureTask<V> implements ScheduledFuture<V> {
        private final Lane lane;
        private final long delayNanos;

        Task(Lane lane, Callable<V> callable, long delayNanos) {
            super(callable);
            this.lane = lane;
            this.delayNanos = Math.max(0, delayNanos);
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(delayNanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed other) {
            return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
        }

        @Override
        public V get() throws InterruptedException, ExecutionException {
            await();
            if (!isDone()) {
                throw new IllegalStateException(never());
            }
            return super.get();
        }

        /** Runs the queue instead of waiting; time does not move, so waiting longer would change nothing. */
        @Override
        public V get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
            await();
            if (!isDone()) {
                throw new TimeoutException(never());
            }
            return super.get();
        }

        private void await() {
            if (!isDone() && delayNanos == 0) {
                runUntil(this::isDone, lane -> true);
            }
        }

        private String never() {
            return delayNanos > 0
                    ? "A timer of the " + lane + " executor was awaited: the test's clock stands still, it never fires"
                    : "A task of the " + lane + " executor was awaited by a task of the same executor: it would"
                            + " wait for itself";
        }
    }

    /** One executor of the runtime: its tasks wait in the shared queue. */
    private final class LaneExecutor extends AbstractExecutorService implements ScheduledExecutorService {
        private final Lane lane;
        private volatile boolean shutdown;

        LaneExecutor(Lane lane) {
            this.lane = lane;
        }

        private <V> Task<V> submitted(Callable<V> callable, long delayNanos) {
            if (shutdown) {
                throw new RejectedExecutionException("the " + lane + " executor of the test's elections is shut down");
            }
            Task<V> task = new Task<>(lane, callable, delayNanos);
            if (task.delayNanos == 0) {
                enqueue(task);
            }
            return task;
        }

        @Override
        protected <T> RunnableFuture<T> newTaskFor(Runnable runnable, T value) {
            return new Task<>(lane, Executors.callable(runnable, value), 0);
        }

        @Override
        protected <T> RunnableFuture<T> newTaskFor(Callable<T> callable) {
            return new Task<>(lane, callable, 0);
        }

        @Override
        public void execute(Runnable command) {
            if (shutdown) {
                throw new RejectedExecutionException("the " + lane + " executor of the test's elections is shut down");
            }
            if (command instanceof Task<?> task && task.lane == lane) {
                enqueue(task); // made by newTaskFor for submit()
            } else {
                enqueue(new Task<>(lane, Executors.callable(command), 0));
            }
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            return submitted(Executors.callable(command), unit.toNanos(delay));
        }

        @Override
        public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
            return submitted(callable, unit.toNanos(delay));
        }

        @Override
        public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
            throw new UnsupportedOperationException("periodic tasks: the elections schedule one task at a time");
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(
                Runnable command, long initialDelay, long delay, TimeUnit unit) {
            throw new UnsupportedOperationException("periodic tasks: the elections schedule one task at a time");
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
            return shutdown;
        }
    }
}
