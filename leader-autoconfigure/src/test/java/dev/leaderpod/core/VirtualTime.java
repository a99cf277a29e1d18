package dev.leaderpod.core;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * {@link ManualTime} for tests outside this package (the spreading attack): a stepped clock and runtimes whose
 * election, event and I/O "threads" all run in the test thread when their time comes.
 */
public final class VirtualTime {

    private final ManualTime time = new ManualTime();

    /** The clock every candidate shares (monotonic and wall time move together). */
    public ElectionClock clock() {
        return time.clock();
    }

    /**
     * A runtime of its own for candidate {@code id}: executors named {@code election-<id>}, {@code events-<id>} and
     * {@code io-<id>} (names to {@link #freeze}).
     */
    public ElectionRuntime runtime(String id) {
        return ElectionRuntime.of(
                time.executor("election-" + id), time.executor("events-" + id), time.executor("io-" + id));
    }

    public long nanoTime() {
        return time.nanoTime();
    }

    public void advance(Duration duration) {
        time.advance(duration);
    }

    public void runDue() {
        time.runDue();
    }

    public boolean advanceUntil(BooleanSupplier condition, Duration step, Duration max) {
        return time.advanceUntil(condition, step, max);
    }

    /** The tasks of these executors wait until {@link #thaw}: a thread stuck across test steps. */
    public void freeze(String... executors) {
        time.freeze(executors);
    }

    public void thaw(String... executors) {
        time.thaw(executors);
    }
}
