package dev.leaderpod.core;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

/**
 * Tells the {@link LeadershipListener} what happened, on the event thread and in order (docs/design.md, "No I/O on
 * the thread that ends terms": a slow listener must not delay a renew or a revocation). No {@link Throwable} of a
 * listener reaches the elector ("Nothing but stop ends the election"); it is logged.
 */
final class ListenerCalls {

    /** Whether the current thread is running a listener callback (of any elector): the event thread, busy. */
    private static final ThreadLocal<Boolean> IN_LISTENER = ThreadLocal.withInitial(() -> false);

    private final LeadershipListener listener;
    private final ElectionThreads threads;
    private final ElectionLog log;
    private final CallHistory history;

    ListenerCalls(LeadershipListener listener, ElectionThreads threads, ElectionLog log, CallHistory history) {
        this.listener = listener;
        this.threads = threads;
        this.log = log;
        this.history = history;
    }

    /** A term started (its write succeeded). */
    void started(LeadershipTerm term) {
        threads.onEventThread(
                () -> notify("onStartedLeading", term.fencingToken(), () -> listener.onStartedLeading(term)));
    }

    /** A term ended; the future completes once the listeners ran (null if the runtime is shutting down). */
    Future<?> stopped(LeadershipTerm term, RevocationReason reason) {
        if (IN_LISTENER.get()) {
            // stop() called by a listener: the event thread is this one, busy with that listener, so a revocation
            // queued behind it could only run after stop() gave up waiting, and the release would be skipped. The
            // listeners run here instead, before stop() goes on to release.
            stoppedNow(term, reason);
            return CompletableFuture.completedFuture(null);
        }
        return threads.onEventThread(() -> stoppedNow(term, reason));
    }

    /**
     * A term ended; {@code then} runs on the event thread once the listeners ran (a yield releases only then). The
     * future completes once both ran (null if the runtime is shutting down).
     */
    Future<?> stopped(LeadershipTerm term, RevocationReason reason, Runnable then) {
        return threads.onEventThread(() -> {
            stoppedNow(term, reason);
            then.run();
        });
    }

    /** The lease is seen in {@code record}: listeners hear of a change of holder, as the log does. */
    void seen(LeaseRecord record) {
        if (log.holderSeen(record)) {
            String holder = record.isHeld() ? record.holderIdentity() : null;
            long token = record.transitionsOrZero();
            threads.onEventThread(() -> notify("onNewLeader", token, () -> listener.onNewLeader(holder, token)));
        }
    }

    /** Whether the current thread runs a listener callback: the event thread, busy, cannot run what is queued on it. */
    static boolean inListener() {
        return IN_LISTENER.get();
    }

    private void stoppedNow(LeadershipTerm term, RevocationReason reason) {
        log.noLongerLeads(term, reason, history.failures(), history.lastFailure());
        notify("onStoppedLeading", term.fencingToken(), () -> listener.onStoppedLeading(term, reason));
    }

    private void notify(String callback, long token, Runnable call) {
        boolean nested = IN_LISTENER.get();
        IN_LISTENER.set(true);
        try {
            call.run();
        } catch (Throwable e) {
            log.listenerFailed(callback, token, e);
        } finally {
            IN_LISTENER.set(nested);
        }
    }
}
