package dev.leaderpod.leaderonly;

import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.leaderonly.LeaderOnlyMethods.Gated;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@code @LeaderOnly} calls running now, each with the term it started under, so that the end of a term can wait
 * for its calls (docs/design.md, "Ordered graceful shutdown").
 *
 * <p>A call is registered <em>before</em> the leadership check and given its term after it. Leadership ends by
 * turning {@code isLeader()} false and only then draining, so a call either registered early enough to be seen by
 * the drain, or checks after the end and does not run: no call of a term can slip past its drain. Calls not yet
 * given a term are waited for too; they resolve within a few instructions.
 */
public final class InFlightCalls {

    /** One running call. Identity semantics: two calls of the same method are two calls. */
    static final class Call {
        private final Gated method;
        private final Thread thread;
        private volatile LeadershipTerm term;

        private Call(Gated method, Thread thread) {
            this.method = method;
            this.thread = thread;
        }

        Gated method() {
            return method;
        }

        LeadershipTerm term() {
            return term;
        }

        void startedUnder(LeadershipTerm term) {
            this.term = term;
        }

        boolean belongsTo(LeadershipTerm ended) {
            LeadershipTerm own = term;
            return own == null || own.equals(ended);
        }

        @Override
        public String toString() {
            return method.describe() + " on thread '" + thread.getName() + "'";
        }
    }

    private final Set<Call> running = ConcurrentHashMap.newKeySet();
    private final Object monitor = new Object();
    private final AtomicInteger draining = new AtomicInteger();

    /** Registers a call of {@code method} on the current thread, before its leadership check. */
    Call enter(Gated method) {
        Call call = new Call(method, Thread.currentThread());
        running.add(call);
        return call;
    }

    /** The call returned, threw or was skipped. */
    void exit(Call call) {
        running.remove(call);
        if (draining.get() > 0) {
            synchronized (monitor) {
                monitor.notifyAll();
            }
        }
    }

    /**
     * Waits until no call of {@code term} runs, or {@code timeout} passed.
     *
     * @return the calls of {@code term} still running when the wait ended; empty if all finished
     */
    List<Call> awaitCompletion(LeadershipTerm term, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        draining.incrementAndGet();
        try {
            synchronized (monitor) {
                while (true) {
                    List<Call> left = running(term);
                    long remaining = deadline - System.nanoTime();
                    if (left.isEmpty() || remaining <= 0) {
                        return left;
                    }
                    TimeUnit.NANOSECONDS.timedWait(monitor, remaining);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return running(term);
        } finally {
            draining.decrementAndGet();
        }
    }

    /** The calls of {@code term} (or not yet given a term) running now. */
    List<Call> running(LeadershipTerm term) {
        return running.stream().filter(call -> call.belongsTo(term)).toList();
    }

    /** Every call running now. */
    List<Call> running() {
        return List.copyOf(running);
    }

    /** Whether a thread is waiting in {@link #awaitCompletion}; for tests. */
    public boolean isDraining() {
        return draining.get() > 0;
    }
}
