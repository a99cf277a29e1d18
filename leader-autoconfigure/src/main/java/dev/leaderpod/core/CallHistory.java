package dev.leaderpod.core;

import dev.leaderpod.core.StoreCalls.Outcome;
import java.time.Duration;
import java.util.Optional;

/**
 * What this candidate's store calls came to, kept for the back-off, the log and the snapshot — never for a decision of
 * who leads: the failures in a row and the kind of the last (a follower backs off by them; the log says when they
 * end), whether a write of the running cycle lost to another writer (cycles that keep losing point to a second writer
 * of the lease), and when the last write that landed was sent. Written on the election thread; the snapshot and the
 * revocation's log line read it from other threads.
 */
final class CallHistory {

    private final ElectionLog log;

    private volatile int failures;
    private volatile LeaseStoreException.Kind lastFailure;
    private volatile long lastWriteSentNanos;
    private volatile boolean wrote;
    private boolean conflictThisCycle;

    CallHistory(ElectionLog log) {
        this.log = log;
    }

    /** A cycle begins: no write of it has conflicted yet. */
    void cycleStarted() {
        conflictThisCycle = false;
    }

    /** Every store call's outcome: an answer (a conflict is one too) ends a series of failures. */
    void answered(Outcome<?> out) {
        if (out.conflict()) {
            conflictThisCycle = true;
        }
        if ((!out.failed() || out.conflict()) && failures > 0) {
            log.recovered(failures);
            failures = 0;
        }
    }

    /** A call failed with {@code kind}; returns the failures in a row, this one included. */
    int failed(LeaseStoreException.Kind kind) {
        int inARow = ++failures;
        lastFailure = kind;
        return inARow;
    }

    /** A write of this candidate that was sent at {@code sentAtNanos} landed. */
    void landed(long sentAtNanos) {
        lastWriteSentNanos = sentAtNanos;
        wrote = true;
    }

    /** Whether a write of the running cycle conflicted. */
    boolean conflictThisCycle() {
        return conflictThisCycle;
    }

    int failures() {
        return failures;
    }

    /** The kind of the last failure, or null if none failed yet. */
    LeaseStoreException.Kind lastFailure() {
        return lastFailure;
    }

    /** Time since the last write that landed was sent, if any did. */
    Optional<Duration> sinceLastWrite(long nowNanos) {
        return wrote ? Optional.of(Duration.ofNanos(nowNanos - lastWriteSentNanos)) : Optional.empty();
    }
}
