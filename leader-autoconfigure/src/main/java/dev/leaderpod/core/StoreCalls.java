package dev.leaderpod.core;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the elector's store calls off the election thread and hands each outcome back to it, bounded by the elector's
 * own clock (docs/design.md, "Bounded store calls" and "No I/O on the thread that ends terms").
 *
 * <p>A call runs on the I/O executor. Its outcome — a value, a failure, or, once the bound passes, a timeout — is
 * delivered exactly once, on the election thread. A call that outlives the bound is abandoned: its late result is
 * dropped (a write it made shows up later as a changed version, which the algorithm handles like any other writer's).
 * Any {@link Throwable} of a store, {@link Error}s included, becomes a failed outcome: nothing a store does ends the
 * election.
 */
final class StoreCalls {

    private static final Logger log = LoggerFactory.getLogger(StoreCalls.class);

    /** A finished call: exactly one of value or failure is meaningful. */
    record Outcome<T>(T value, Throwable failure) {

        boolean failed() {
            return failure != null;
        }

        boolean conflict() {
            return failure instanceof LeaseConflictException;
        }

        /** The failure as the store's own kind; anything that is not a store exception is {@code OTHER}. */
        LeaseStoreException.Kind kind() {
            return failure instanceof LeaseStoreException e ? e.kind() : LeaseStoreException.Kind.OTHER;
        }
    }

    /** Receives an outcome on the election thread. */
    interface Continuation<T> {
        void accept(Outcome<T> outcome);
    }

    private final String lease;
    private final Executor io;
    private final ScheduledExecutorService election;
    private final ElectionClock clock;
    private final Duration bound;
    private final ElectionMonitor monitor;
    private final Consumer<Throwable> onContinuationFailure;
    private final Consumer<Outcome<?>> onOutcome;
    private volatile boolean closed;
    /** Calls of this election abandoned while they ran and still running: each holds an I/O thread. */
    private final AtomicInteger hung = new AtomicInteger();

    /**
     * @param onOutcome sees every outcome (but a watch's) before its continuation, on the election thread
     * @param onContinuationFailure receives anything a continuation throws, on the election thread
     */
    StoreCalls(
            String lease,
            Executor io,
            ScheduledExecutorService election,
            ElectionClock clock,
            Duration bound,
            ElectionMonitor monitor,
            Consumer<Outcome<?>> onOutcome,
            Consumer<Throwable> onContinuationFailure) {
        this.onOutcome = onOutcome;
        this.onContinuationFailure = onContinuationFailure;
        this.lease = lease;
        this.io = io;
        this.election = election;
        this.clock = clock;
        this.bound = bound;
        this.monitor = monitor;
    }

    /**
     * Drops the outcomes of every call still in flight: they belong to a run of the election that has ended (a
     * stopped elector may be started again, with new calls).
     */
    void close() {
        closed = true;
    }

    /**
     * Starts {@code call} on the I/O executor; {@code then} gets its outcome on the election thread. Must be called on
     * the election thread.
     */
    <T> void call(StoreOperation operation, Supplier<T> call, Continuation<T> then) {
        call(operation, call, then, late -> {});
    }

    /**
     * As {@link #call(StoreOperation, Supplier, Continuation)}; {@code discardLate} receives a value that arrived after
     * the call was abandoned (a watch that started too late, to be closed).
     */
    <T> void call(StoreOperation operation, Supplier<T> call, Continuation<T> then, Consumer<T> discardLate) {
        long start = clock.nanoTime();
        AtomicBoolean done = new AtomicBoolean();
        // 0 waiting for a thread, 1 running, 2 answered, 3 abandoned while running (counted in hung until it returns)
        AtomicInteger state = new AtomicInteger();
        ScheduledFuture<?>[] timeout = new ScheduledFuture<?>[1];
        Continuation<T> once = outcome -> {
            if (!done.compareAndSet(false, true)) {
                return;
            }
            if (timeout[0] != null) {
                timeout[0].cancel(false);
            }
            if (closed) {
                if (!outcome.failed()) {
                    discardQuietly(discardLate, outcome.value());
                }
                return;
            }
            LeaseStoreException.Kind failure = outcome.failed() ? outcome.kind() : null;
            try {
                if (operation != StoreOperation.WATCH) {
                    monitor.storeCall(operation, Duration.ofNanos(clock.nanoTime() - start), failure);
                }
            } catch (Throwable e) {
                log.warn("Election monitor failed for {} of {}", operation.key(), lease, e);
            }
            try {
                if (operation != StoreOperation.WATCH) {
                    onOutcome.accept(outcome);
                }
                then.accept(outcome);
            } catch (Throwable e) {
                onContinuationFailure.accept(e);
            }
        };
        try {
            timeout[0] = election.schedule(
                    () -> {
                        if (state.compareAndSet(1, 3)) {
                            hung.incrementAndGet();
                        }
                        once.accept(new Outcome<>(
                                null,
                                new LeaseStoreException(
                                        LeaseStoreException.Kind.TIMEOUT,
                                        operation.key() + " of " + lease + " got no answer within " + bound
                                                + "; the call was abandoned")));
                    },
                    bound.toNanos(),
                    TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            return; // the elector is shutting down
        }
        if (hung.get() > 0) {
            // A call of this election that was abandoned still holds an I/O thread: starting more would let one hung
            // store take every I/O thread, and the other elections' calls with them. Fail at once, as a timeout.
            fail(once, operation.key() + " of " + lease + " not started: an earlier call of it is still hung");
            return;
        }
        try {
            io.execute(() -> {
                if (done.get() || closed || !state.compareAndSet(0, 1)) {
                    return; // abandoned while it waited for an I/O thread: never started
                }
                Outcome<T> outcome;
                try {
                    outcome = new Outcome<>(call.get(), null);
                } catch (Throwable e) { // Errors too: a store must not end the election
                    outcome = new Outcome<>(null, e);
                }
                if (!state.compareAndSet(1, 2)) {
                    hung.decrementAndGet(); // it was abandoned while it ran, and has now returned its thread
                }
                if (done.get() || closed) {
                    log.debug("{} of {} answered after it was abandoned: {}", operation.key(), lease, outcome);
                    if (!outcome.failed()) {
                        discardQuietly(discardLate, outcome.value());
                    }
                    return;
                }
                Outcome<T> result = outcome;
                try {
                    election.execute(() -> once.accept(result));
                } catch (RejectedExecutionException e) {
                    // the elector is shutting down
                }
            });
        } catch (RejectedExecutionException e) {
            // Every I/O thread is stuck in a call that has not returned: fail this one at once instead of queueing.
            fail(once, operation.key() + " of " + lease + " not started: earlier store calls are still hung");
        }
    }

    /** Delivers a timeout that needed no call, on the election thread. */
    private <T> void fail(Continuation<T> once, String message) {
        LeaseStoreException stuck = new LeaseStoreException(LeaseStoreException.Kind.TIMEOUT, message);
        try {
            election.execute(() -> once.accept(new Outcome<>(null, stuck)));
        } catch (RejectedExecutionException shuttingDown) {
            // nothing to report to
        }
    }

    private static <T> void discardQuietly(Consumer<T> discard, T value) {
        try {
            discard.accept(value);
        } catch (Throwable e) {
            log.debug("Discarding a late result failed", e);
        }
    }
}
