package dev.leaderpod.leaderonly;

import dev.leaderpod.core.LeadershipTerm;
import java.util.Arrays;
import java.util.List;

/**
 * What one thread that makes {@code @LeaderOnly} calls carries: the term bound for
 * {@link dev.leaderpod.annotation.LeaderOnlyContext} and the calls it is running, innermost last. A call finds both
 * with one {@code ThreadLocal} lookup, and registering a call touches nothing shared.
 *
 * <p>Only its own thread writes it. A drain reads the calls from another thread: the slots below {@code depth},
 * published by the volatile write of {@code depth} (see {@link InFlightCalls} for why that write is what orders a
 * call against the end of its term).
 *
 * <p>Public for {@code LeaderOnlyContext} only; not an API.
 */
public final class CallerThread {

    private static final ThreadLocal<CallerThread> CURRENT = ThreadLocal.withInitial(CallerThread::new);

    private final Thread thread = Thread.currentThread();
    private LeadershipTerm boundTerm;
    private InFlightCalls.Call[] calls = new InFlightCalls.Call[4];
    private volatile int depth;

    /** The registry that last registered this thread; another one (another application context) registers it too. */
    private InFlightCalls registeredWith;

    private CallerThread() {}

    /** The current thread's state, created at its first use. */
    public static CallerThread current() {
        return CURRENT.get();
    }

    /** The term of the innermost {@code @LeaderOnly} call (or explicit binding) on this thread, or {@code null}. */
    public LeadershipTerm boundTerm() {
        return boundTerm;
    }

    /** Binds {@code term} (or nothing, with {@code null}) to this thread. */
    public void bindTerm(LeadershipTerm term) {
        boundTerm = term;
    }

    Thread thread() {
        return thread;
    }

    boolean isRegisteredWith(InFlightCalls registry) {
        return registeredWith == registry;
    }

    void registeredWith(InFlightCalls registry) {
        registeredWith = registry;
    }

    void push(InFlightCalls.Call call) {
        int top = depth;
        if (top == calls.length) {
            calls = Arrays.copyOf(calls, top * 2);
        }
        calls[top] = call;
        depth = top + 1; // volatile: registered before the leadership check that follows
    }

    void pop(InFlightCalls.Call call) {
        int top = depth - 1;
        if (top >= 0 && calls[top] == call) {
            calls[top] = null;
            depth = top;
            return;
        }
        // Not the innermost: only if calls end out of order, which proxies never do.
        for (int i = top; i >= 0; i--) {
            if (calls[i] == call) {
                System.arraycopy(calls, i + 1, calls, i, top - i);
                calls[top] = null;
                depth = top;
                return;
            }
        }
    }

    /** Adds this thread's calls of {@code registry} that belong to {@code term} (all of them if it is null). */
    void collect(InFlightCalls registry, LeadershipTerm term, List<InFlightCalls.Call> into) {
        int seen = depth;
        InFlightCalls.Call[] slots = calls;
        for (int i = 0; i < Math.min(seen, slots.length); i++) {
            InFlightCalls.Call call = slots[i];
            if (call != null && call.isOf(registry) && (term == null || call.belongsTo(term))) {
                into.add(call);
            }
        }
    }

    boolean isIdleAndDead() {
        return depth == 0 && !thread.isAlive();
    }
}
