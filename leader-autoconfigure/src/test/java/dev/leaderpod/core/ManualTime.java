package dev.leaderpod.core;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RunnableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * A stepped clock and the executors that run on it, all in the test thread. Time moves only through
 * {@link #advance}; tasks run when their time comes, in order. Awaiting a future of one of these executors runs
 * the tasks that are due instead of blocking, so code that submits and waits works as on real threads.
 */
final class ManualTime {

    private final PriorityQueue<Task<?>> queue = new PriorityQueue<>();
    private long nanos = 1_000_000_000L;
    private long sequence;
    private String running;
    /** Executors whose tasks do not run until {@link #thaw}: threads that are stuck across test steps. */
    private final java.util.Set<String> frozen = new java.util.HashSet<>();
    /**
     * Executors stuck in the enclosing {@link #advanceExcept}: a task that itself moves time (a hung call) does not
     * let the threads that are stuck around it run.
     */
    private java.util.Set<String> stuckAround = java.util.Set.of();

    /** A clock on this time whose wall clock is {@code wallOffset} away from the shared wall time. */
    ElectionClock clock(Duration wallOffset) {
        return new ElectionClock() {
            @Override
            public long nanoTime() {
                return nanos;
            }

            @Override
            public Instant wallTime() {
                return Instant.parse("2026-01-01T00:00:00Z").plusNanos(nanos).plus(wallOffset);
            }
        };
    }

    ElectionClock clock() {
        return clock(Duration.ZERO);
    }

    /**
     * A clock whose monotonic time runs at {@code rate} times the shared time from now on (0.99: 1 % slow), and whose
     * wall clock is {@code wallOffset} away and runs at the same rate. Pair it with {@link #executor(String, double)}
     * of the same rate, so that the delays the elector computes on this clock are waited on it.
     */
    ElectionClock clock(Duration wallOffset, double rate) {
        long origin = nanos;
        return new ElectionClock() {
            @Override
            public long nanoTime() {
                return origin + (long) ((nanos - origin) * rate);
            }

            @Override
            public Instant wallTime() {
                return Instant.parse("2026-01-01T00:00:00Z")
                        .plusNanos(nanoTime())
                        .plus(wallOffset);
            }
        };
    }

    /** Tasks of {@code names} do not run until {@link #thaw}: threads stuck for several test steps. */
    void freeze(String... names) {
        frozen.addAll(List.of(names));
    }

    void thaw(String... names) {
        frozen.removeAll(List.of(names));
    }

    /** A single-"threaded" executor named {@code name}. */
    ScheduledExecutorService executor(String name) {
        return new Executor(name, 1.0);
    }

    /** An executor whose delays are measured on a clock running at {@code rate} (see {@link #clock(Duration, double)}). */
    ScheduledExecutorService executor(String name, double rate) {
        return new Executor(name, rate);
    }

    /** The name of the executor whose task is running, or null. */
    String runningExecutor() {
        return running;
    }

    long nanoTime() {
        return nanos;
    }

    /** Runs the tasks that are due now. */
    void runDue() {
        runUntil(() -> false, nanos);
    }

    /** Moves time forward by {@code duration}, running each task at its time. */
    void advance(Duration duration) {
        advanceExcept(duration);
    }

    /**
     * Moves time forward, running the tasks of every executor but {@code stuckExecutors}: what the other threads do
     * while some threads are stuck or starved.
     */
    void advanceExcept(Duration duration, String... stuckExecutors) {
        long target = nanos + duration.toNanos();
        runUntil(() -> false, target, stuckExecutors);
        nanos = Math.max(nanos, target); // a task may itself have moved time further (a call that hung)
        runUntil(() -> false, nanos, stuckExecutors);
    }

    /** Moves time forward in steps of {@code step}, running tasks, until {@code condition} holds or {@code max}. */
    boolean advanceUntil(BooleanSupplier condition, Duration step, Duration max) {
        long end = nanos + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (nanos >= end) {
                return false;
            }
            advance(step);
        }
        return true;
    }

    int pending() {
        return (int) queue.stream().filter(task -> !task.isDone()).count();
    }

    private void runUntil(BooleanSupplier done, long until, String... stuckExecutors) {
        java.util.Set<String> stuck = new java.util.HashSet<>(stuckAround);
        stuck.addAll(List.of(stuckExecutors));
        while (!done.getAsBoolean()) {
            Task<?> next = null;
            List<Task<?>> skipped = new ArrayList<>();
            while (!queue.isEmpty()) {
                Task<?> head = queue.poll();
                if (head.isDone()) {
                    continue;
                }
                if (head.dueNanos > until) {
                    queue.add(head);
                    break;
                }
                if (stuck.contains(head.owner.name) || frozen.contains(head.owner.name)) {
                    skipped.add(head);
                    continue;
                }
                next = head;
                break;
            }
            queue.addAll(skipped);
            if (next == null) {
                return;
            }
            nanos = Math.max(nanos, next.dueNanos);
            String previous = running;
            java.util.Set<String> previousStuck = stuckAround;
            running = next.owner.name;
            stuckAround = stuck;
            try {
                next.run();
            } finally {
                running = previous;
                stuckAround = previousStuck;
            }
        }
    }

    private final class Task<V> extends FutureTask<V> implements ScheduledFuture<V>, RunnableFuture<V> {
        final long dueNanos;
        final long seq = sequence++;
        final Executor owner;

        Task(Executor owner, Callable<V> callable, long dueNanos) {
            super(callable);
            this.owner = owner;
            this.dueNanos = dueNanos;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(dueNanos - nanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed other) {
            Task<?> that = (Task<?>) other;
            int byTime = Long.compare(dueNanos, that.dueNanos);
            return byTime != 0 ? byTime : Long.compare(seq, that.seq);
        }

        @Override
        public V get() throws InterruptedException, ExecutionException {
            runUntil(this::isDone, nanos);
            if (!isDone()) {
                throw new IllegalStateException("awaited a task that is not due: it would block forever");
            }
            return super.get();
        }

        /**
         * Waits as a real thread would: time moves on, up to the timeout, while the other executors run their tasks
         * (not the waiting executor's own: its thread is the one waiting).
         */
        @Override
        public V get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
            long until = nanos + unit.toNanos(timeout);
            String waiter = running;
            runUntil(this::isDone, until, waiter == null ? new String[0] : new String[] {waiter});
            if (!isDone()) {
                nanos = Math.max(nanos, until);
                throw new TimeoutException("not done within " + Duration.ofNanos(unit.toNanos(timeout)));
            }
            return super.get();
        }
    }

    private final class Executor extends AbstractExecutorService implements ScheduledExecutorService {
        private final String name;
        private final double rate;
        private boolean shutdown;

        Executor(String name, double rate) {
            this.name = name;
            this.rate = rate;
        }

        private <V> Task<V> enqueue(Callable<V> callable, long delayNanos) {
            if (shutdown) {
                throw new java.util.concurrent.RejectedExecutionException(name + " is shut down");
            }
            long delay = rate == 1.0 ? Math.max(0, delayNanos) : (long) Math.ceil(Math.max(0, delayNanos) / rate);
            Task<V> task = new Task<>(this, callable, nanos + delay);
            queue.add(task);
            return task;
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            return enqueue(java.util.concurrent.Executors.callable(command), unit.toNanos(delay));
        }

        @Override
        public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
            return enqueue(callable, unit.toNanos(delay));
        }

        @Override
        public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(
                Runnable command, long initialDelay, long delay, TimeUnit unit) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected <T> RunnableFuture<T> newTaskFor(Runnable runnable, T value) {
            return enqueue(java.util.concurrent.Executors.callable(runnable, value), 0);
        }

        @Override
        protected <T> RunnableFuture<T> newTaskFor(Callable<T> callable) {
            return enqueue(callable, 0);
        }

        @Override
        public void execute(Runnable command) {
            if (command instanceof Task<?>) {
                return; // already queued by newTaskFor
            }
            enqueue(java.util.concurrent.Executors.callable(command), 0);
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
