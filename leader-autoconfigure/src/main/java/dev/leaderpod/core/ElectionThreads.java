package dev.leaderpod.core;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * How an elector gets onto the threads of its {@link ElectionRuntime} (docs/design.md, "No I/O on the thread that ends
 * terms"): work and timers on the election thread, listener calls on the event thread, the blocking release of
 * {@link LeaseElector#stop} on an I/O thread. Each run of the election (start to stop) uses the shared runtime, or a
 * private one opened at start and closed at stop.
 *
 * <p>A runtime that is shutting down refuses work; that is not an error here (the work belongs to a run that is
 * ending), so it is dropped quietly and reported as a missing future.
 */
final class ElectionThreads {

    private final ElectionRuntime shared;
    private final String name;
    private final ElectionClock clock;
    private final ElectionLog log;
    private final BooleanSupplier running;
    private final Consumer<Throwable> onFailure;
    private volatile ElectionRuntime runtime;

    /**
     * @param shared the runtime shared with other elections, or null to open a private one per run
     * @param running whether the election runs: work hopped onto the election thread is dropped when it does not
     * @param onFailure receives, on the election thread, any {@link Throwable} of such work
     */
    ElectionThreads(
            ElectionRuntime shared,
            String name,
            ElectionClock clock,
            ElectionLog log,
            BooleanSupplier running,
            Consumer<Throwable> onFailure) {
        this.shared = shared;
        this.name = name;
        this.clock = clock;
        this.log = log;
        this.running = running;
        this.onFailure = onFailure;
    }

    /** A new run of the election starts: the runtime it runs on. */
    ElectionRuntime open() {
        runtime = shared != null ? shared : ElectionRuntime.create(name);
        runtime.attach();
        return runtime;
    }

    /** The run ends: a private runtime's threads end; a shared one is its owner's to close. */
    void close() {
        runtime.detach();
        if (shared == null) {
            runtime.close();
        }
    }

    /** The runtime of the current (or last) run. */
    ElectionRuntime runtime() {
        return runtime;
    }

    /** Runs {@code work} on the election thread if the election is running then; no {@link Throwable} escapes it. */
    void whileRunning(Runnable work) {
        if (runtime == null) {
            return; // never started: the election does not run, and its start looks at everything anyway
        }
        onElectionThread(() -> {
            if (!running.getAsBoolean()) {
                return;
            }
            try {
                work.run();
            } catch (Throwable e) {
                onFailure.accept(e);
            }
        });
    }

    /** Runs {@code task} on the election thread, whether the election runs or not (the end of a run). */
    Future<?> onElectionThread(Runnable task) {
        return submit(runtime.election(), task);
    }

    /** Runs {@code event} on the event thread, after the events submitted before it. */
    Future<?> onEventThread(Runnable event) {
        return submit(runtime.events(), event);
    }

    /** Runs {@code task} on an I/O thread. */
    Future<?> onIoThread(Runnable task) {
        return submit(runtime.io(), task);
    }

    /** Runs {@code task} on the election thread in {@code delayNanos}; null when the runtime is shutting down. */
    ScheduledFuture<?> schedule(Runnable task, long delayNanos) {
        try {
            return runtime.election().schedule(task, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            return null; // shutting down
        }
    }

    /**
     * Waits for {@code future} until {@code deadlineNanos}; whether it finished. An interrupt does not cut the wait
     * short: {@link LeaseElector#stop} is bounded by its timeout anyway, and giving up early would skip the ordered
     * shutdown (the revocation before the release, the release, the watch's close: docs/design.md, "Ordered graceful
     * shutdown"). The interrupt is kept for the caller.
     */
    boolean await(Future<?> future, long deadlineNanos, String what) {
        if (future == null) {
            return false;
        }
        Duration timeout = Duration.ofNanos(Math.max(0, deadlineNanos - clock.nanoTime()));
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    future.get(Math.max(0, deadlineNanos - clock.nanoTime()), TimeUnit.NANOSECONDS);
                    return true;
                } catch (InterruptedException e) {
                    interrupted = true; // wait on, within the deadline
                } catch (ExecutionException e) {
                    log.waitFailed(what, timeout, e.getCause());
                    return true;
                } catch (TimeoutException e) {
                    log.waitFailed(what, timeout, null);
                    return false;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Future<?> submit(Executor executor, Runnable task) {
        try {
            if (executor instanceof ExecutorService service) {
                return service.submit(task); // its own future: an executor on a test's clock can run it while awaited
            }
            FutureTask<Void> future = new FutureTask<>(task, null);
            executor.execute(future);
            return future;
        } catch (RejectedExecutionException e) {
            return null; // shutting down
        }
    }
}
