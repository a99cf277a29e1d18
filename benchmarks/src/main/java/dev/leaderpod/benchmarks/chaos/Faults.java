package dev.leaderpod.benchmarks.chaos;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The store-level faults of one candidate slot, switched on and off by the harness and applied by the store (or
 * lock) wrapper on the election thread: server errors, 409 storms and pauses that block the calling thread like a
 * stop-the-world GC, before the request leaves or after the answer came back.
 */
public final class Faults {

    private final SplittableRandom random;
    private volatile double serverErrorRate;
    private volatile double conflictRate;
    private final AtomicLong pendingPauseNanos = new AtomicLong();
    private volatile boolean pauseAfterCall;

    public Faults(long seed) {
        this.random = new SplittableRandom(seed);
    }

    public void serverErrors(double rate) {
        serverErrorRate = rate;
    }

    public void conflicts(double rate) {
        conflictRate = rate;
    }

    /** The next store call blocks its thread for {@code nanos}, before the request or after the answer. */
    public void pauseNextCall(long nanos, boolean afterCall) {
        pauseAfterCall = afterCall;
        pendingPauseNanos.set(nanos);
    }

    public void heal() {
        serverErrorRate = 0;
        conflictRate = 0;
        pendingPauseNanos.set(0);
    }

    synchronized boolean serverError() {
        return serverErrorRate > 0 && random.nextDouble() < serverErrorRate;
    }

    synchronized boolean conflict() {
        return conflictRate > 0 && random.nextDouble() < conflictRate;
    }

    /** Blocks if a pause is due at this point of the call. */
    void maybePause(boolean afterCall) {
        if (pauseAfterCall != afterCall) {
            return;
        }
        long nanos = pendingPauseNanos.getAndSet(0);
        if (nanos > 0) {
            try {
                Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
