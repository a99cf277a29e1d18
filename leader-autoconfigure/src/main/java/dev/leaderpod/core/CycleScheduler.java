package dev.leaderpod.core;

import java.util.concurrent.ScheduledFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * When the elector's next cycle runs. A cycle spans several tasks of the election thread (it waits for its store
 * calls' outcomes), and two cycles must never interleave: a cycle requested while one runs runs after it ends, at the
 * earliest time anybody asked for. Between cycles exactly one is scheduled, and a request replaces it or only brings it
 * forward. Confined to the election thread.
 */
final class CycleScheduler {

    private final ElectionThreads threads;
    private final ElectionClock clock;
    private final BooleanSupplier running;
    private final Runnable cycle;
    private final Consumer<Throwable> onFailure;

    private ScheduledFuture<?> next;
    private long nextAtNanos;
    private boolean inCycle;
    private boolean rerunRequested;
    private long rerunAtNanos;

    /**
     * @param running whether the election runs: no cycle is scheduled, and none starts, when it does not
     * @param cycle the cycle, which begins with {@link #begin()}
     * @param onFailure receives whatever a scheduled cycle throws
     */
    CycleScheduler(
            ElectionThreads threads,
            ElectionClock clock,
            BooleanSupplier running,
            Runnable cycle,
            Consumer<Throwable> onFailure) {
        this.threads = threads;
        this.clock = clock;
        this.running = running;
        this.cycle = cycle;
        this.onFailure = onFailure;
    }

    /** A new run of the election: nothing scheduled, no cycle running, no request pending. */
    void reset() {
        cancel();
        inCycle = false;
        rerunRequested = false;
    }

    /**
     * Called first by every cycle: whether it may go on. It may not when the election has stopped, nor while another
     * cycle runs (it then runs again after that one).
     */
    boolean begin() {
        next = null;
        if (!running.getAsBoolean()) {
            return false;
        }
        if (inCycle) {
            request(0);
            return false;
        }
        inCycle = true;
        return true;
    }

    /** Whether a cycle has begun and not yet finished. */
    boolean inCycle() {
        return inCycle;
    }

    /** The running cycle ended: the next runs in {@code delayNanos}, or earlier if one was requested meanwhile. */
    void finish(long delayNanos) {
        inCycle = false;
        long delay = delayNanos;
        if (rerunRequested) {
            rerunRequested = false;
            delay = Math.min(delay, rerunAtNanos - clock.nanoTime());
        }
        schedule(delay);
    }

    /** Runs the next cycle in {@code delayNanos}, replacing the one scheduled; while a cycle runs, after it. */
    void request(long delayNanos) {
        if (inCycle) {
            long at = clock.nanoTime() + Math.max(0, delayNanos);
            rerunAtNanos = rerunRequested ? Math.min(rerunAtNanos, at) : at;
            rerunRequested = true;
        } else {
            schedule(delayNanos);
        }
    }

    /** Brings the next cycle forward to at most {@code delayNanos} from now. */
    void requestWithin(long delayNanos) {
        if (inCycle) {
            request(delayNanos);
        } else if (next == null || nextAtNanos - (clock.nanoTime() + delayNanos) > 0) {
            schedule(delayNanos);
        }
    }

    /** Cancels the cycle scheduled, if any (a cycle running goes on). */
    void cancel() {
        if (next != null) {
            next.cancel(false);
            next = null;
        }
    }

    private void schedule(long delayNanos) {
        if (!running.getAsBoolean()) {
            return;
        }
        cancel();
        long delay = Math.max(0, delayNanos);
        nextAtNanos = clock.nanoTime() + delay;
        next = threads.schedule(this::run, delay);
    }

    /** Runs a cycle now, on the election thread, guarded as a scheduled one: the first cycle of a run. */
    void runNow() {
        run();
    }

    /** Runs a cycle so that nothing it throws escapes: {@code onFailure} gets it (and ends it). */
    private void run() {
        try {
            cycle.run();
        } catch (Throwable e) {
            onFailure.accept(e);
        }
    }
}
