package dev.leaderpod.leaderonly;

import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.leaderonly.LeaderOnlyMethods.Gated;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
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
 *
 * <p>The hot path touches no shared structure: each thread registers its {@link CallerThread} once, at its first
 * call, and a call is an entry on its own thread's state published by one volatile write. That write and the elector's volatile
 * end of the term are what order a call's registration against a drain (both are volatile accesses, so one of the
 * two sides sees the other). Threads that died are dropped as new threads register.
 */
public final class InFlightCalls {

    private static final VarHandle TERM;

    static {
        try {
            TERM = MethodHandles.lookup().findVarHandle(Call.class, "term", LeadershipTerm.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** One running call. Identity semantics: two calls of the same method are two calls. */
    static final class Call {
        private final Gated method;
        private final CallerThread caller;
        private final InFlightCalls registry;

        @SuppressWarnings(
                "unused") // through TERM: a release store is enough, the drain only needs to see it eventually
        private LeadershipTerm term;

        private Call(Gated method, CallerThread caller, InFlightCalls registry) {
            this.method = method;
            this.caller = caller;
            this.registry = registry;
        }

        Gated method() {
            return method;
        }

        LeadershipTerm term() {
            return (LeadershipTerm) TERM.getAcquire(this);
        }

        void startedUnder(LeadershipTerm term) {
            TERM.setRelease(this, term);
        }

        boolean belongsTo(LeadershipTerm ended) {
            LeadershipTerm own = term();
            return own == null || own.equals(ended);
        }

        boolean isOf(InFlightCalls registry) {
            return this.registry == registry;
        }

        @Override
        public String toString() {
            return method.describe() + " on thread '" + caller.thread().getName() + "'";
        }
    }

    private final Set<CallerThread> registered = ConcurrentHashMap.newKeySet();
    private final AtomicInteger sweepAt = new AtomicInteger(64);
    private final Object monitor = new Object();
    private final AtomicInteger draining = new AtomicInteger();

    /** Registers a call of {@code method} on the current thread, before its leadership check. */
    Call enter(Gated method) {
        return enter(CallerThread.current(), method);
    }

    /** Registers a call of {@code method} on {@code caller}, the current thread's state. */
    Call enter(CallerThread caller, Gated method) {
        if (!caller.isRegisteredWith(this)) {
            register(caller);
        }
        Call call = new Call(method, caller, this);
        caller.push(call);
        return call;
    }

    /** The call returned, threw or was skipped; on the thread that entered it. */
    void exit(Call call) {
        call.caller.pop(call);
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
        List<Call> running = new ArrayList<>();
        for (CallerThread caller : registered) {
            caller.collect(this, term, running);
        }
        return running;
    }

    /** Every call running now. */
    List<Call> running() {
        return running(null);
    }

    /** Whether a thread is waiting in {@link #awaitCompletion}; for tests. */
    public boolean isDraining() {
        return draining.get() > 0;
    }

    /** Threads registered now: those that made a call and are alive, or were at the last sweep. */
    int registeredThreads() {
        return registered.size();
    }

    private void register(CallerThread caller) {
        registered.add(caller);
        caller.registeredWith(this);
        int size = registered.size();
        int threshold = sweepAt.get();
        if (size >= threshold && sweepAt.compareAndSet(threshold, Integer.MAX_VALUE)) {
            // Amortised: a sweep costs one pass, and the next comes only when as many threads registered again.
            registered.removeIf(CallerThread::isIdleAndDead);
            sweepAt.set(Math.max(64, registered.size() * 2));
        }
    }
}
