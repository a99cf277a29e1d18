package dev.leaderpod.benchmarks.chaos;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The store-level faults of one candidate slot, switched on and off by the harness and applied by the store (or
 * lock) wrapper on the election thread: server errors, 409 storms, an outage (every call fails), pauses that block
 * the calling thread like a stop-the-world GC (before the request leaves or after the answer came back), and
 * {@link Error}s thrown from a call (an {@code OutOfMemoryError} in the HTTP client, say).
 */
public final class Faults {

    private final SplittableRandom random;
    private volatile double serverErrorRate;
    private volatile double conflictRate;
    private volatile boolean outage;
    private final AtomicLong pendingPauseNanos = new AtomicLong();
    private volatile boolean pauseAfterCall;
    private final AtomicReference<Error> pendingError = new AtomicReference<>();
    private volatile boolean errorAfterCall;

    public Faults(long seed) {
        this.random = new SplittableRandom(seed);
    }

    public void serverErrors(double rate) {
        serverErrorRate = rate;
    }

    public void conflicts(double rate) {
        conflictRate = rate;
    }

    /** While on, every call fails as if the store could not be reached (the local store's "API outage"). */
    public void outage(boolean on) {
        outage = on;
    }

    /** The next store call blocks its thread for {@code nanos}, before the request or after the answer. */
    public void pauseNextCall(long nanos, boolean afterCall) {
        pauseAfterCall = afterCall;
        pendingPauseNanos.set(nanos);
    }

    /**
     * The next store call throws {@code error}: before the request leaves, or after the answer came back (the
     * write, if it was one, took effect).
     */
    public void throwOnNextCall(Error error, boolean afterCall) {
        errorAfterCall = afterCall;
        pendingError.set(error);
    }

    public void heal() {
        serverErrorRate = 0;
        conflictRate = 0;
        outage = false;
        pendingPauseNanos.set(0);
        pendingError.set(null);
    }

    boolean outage() {
        return outage;
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

    /** Throws the pending error if one is due at this point of the call. */
    void maybeThrow(boolean afterCall) {
        if (errorAfterCall != afterCall) {
            return;
        }
        Error error = pendingError.getAndSet(null);
        if (error != null) {
            throw error;
        }
    }
}
