package dev.leaderpod.annotation;

import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.leaderonly.CallerThread;
import java.util.Objects;
import java.util.Optional;

/**
 * The leadership term a running {@link LeaderOnly} call started under, for code that needs its fencing token or
 * identity without changing its signature:
 *
 * <pre>{@code
 * @Scheduled(fixedDelay = 5_000)
 * @LeaderOnly
 * void publishPrices() {
 *     prices.writeAll(latest(), LeaderOnlyContext.fencingToken());
 * }
 * }</pre>
 *
 * <p>The term is bound to the thread for the duration of the call and restored when it returns, so nested
 * {@code @LeaderOnly} calls see their own term and the caller's is back afterwards. It is not passed to threads
 * the method starts: hand the token over explicitly. The term says when the call <em>started</em>; to know
 * whether it is still current mid-way, ask {@code LeaseElector.isCurrent(term)}.
 */
public final class LeaderOnlyContext {

    private LeaderOnlyContext() {}

    /** The term of the innermost {@code @LeaderOnly} call running on this thread; empty outside such a call. */
    public static Optional<LeadershipTerm> currentTerm() {
        return Optional.ofNullable(CallerThread.current().boundTerm());
    }

    /**
     * The fencing token of the current term: the lease's {@code leaseTransitions}, greater for every later term.
     *
     * @throws IllegalStateException outside a {@code @LeaderOnly} call
     */
    public static long fencingToken() {
        return require().fencingToken();
    }

    /**
     * This instance's identity, the leader's while the call runs.
     *
     * @throws IllegalStateException outside a {@code @LeaderOnly} call
     */
    public static String identity() {
        return require().identity();
    }

    /**
     * Binds {@code term} to this thread until the returned scope is closed, which restores what was bound before.
     * The {@code @LeaderOnly} interceptor uses it around each call; unit tests of a job's body may use it too:
     *
     * <pre>{@code
     * try (LeaderOnlyContext.Scope scope = LeaderOnlyContext.bind(term)) {
     *     job.publishPrices();
     * }
     * }</pre>
     */
    public static Scope bind(LeadershipTerm term) {
        Objects.requireNonNull(term, "term");
        CallerThread caller = CallerThread.current();
        LeadershipTerm previous = caller.boundTerm();
        caller.bindTerm(term);
        return () -> caller.bindTerm(previous);
    }

    private static LeadershipTerm require() {
        LeadershipTerm term = CallerThread.current().boundTerm();
        if (term == null) {
            throw new IllegalStateException("No @LeaderOnly call is running on thread '"
                    + Thread.currentThread().getName() + "': the leadership context exists only inside one");
        }
        return term;
    }

    /** A binding of a term to the current thread; close it on the same thread. */
    @FunctionalInterface
    public interface Scope extends AutoCloseable {

        /** Restores the term bound before. */
        @Override
        void close();
    }
}
