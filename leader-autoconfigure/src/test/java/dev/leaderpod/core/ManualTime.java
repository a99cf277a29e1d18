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

    /** A single-"threaded" executor named {@code name}. */
    ScheduledExecutorService executor(String name) {
        return new Executor(name);
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
        java.util.Set<String> stuck = java.util.Set.of(stuckExecutors);
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
                if (stuck.contains(head.owner.name)) {
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
            running = next.owner.name;
            try {
                next.run();
            } finally {
                running = previous;
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
        private boolean shutdown;

        Executor(String name) {
            this.name = name;
        }

        private <V> Task<V> enqueue(Callable<V> callable, long delayNanos) {
            if (shutdown) {
                throw new java.util.concurrent.RejectedExecutionException(name + " is shut down");
            }
            Task<V> task = new Task<>(this, callable, nanos + Math.max(0, delayNanos));
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
