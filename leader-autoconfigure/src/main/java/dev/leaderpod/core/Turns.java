package dev.leaderpod.core;

import java.time.Duration;

/**
 * Whose turn it is to take a lease that is free, released or expired as observed (docs/design.md, "Hand-over to a
 * successor"): the successor a release names takes it at once; the others wait out the successor's turn, two retry
 * periods (enough to poll once), then their candidacy's patience. Confined to the election thread.
 */
final class Turns {

    private final String identity;
    private final ElectionClock clock;
    private final ObservedLease observed;
    private final Candidacy candidacy;
    private final long successorTurnNanos;

    Turns(String identity, ElectionClock clock, ObservedLease observed, Candidacy candidacy, Duration retryPeriod) {
        this.identity = identity;
        this.clock = clock;
        this.observed = observed;
        this.candidacy = candidacy;
        this.successorTurnNanos = retryPeriod.toNanos() * 2;
    }

    /** Nanoseconds until this candidate may take {@code record}, the lease as observed; zero or less: now. */
    long untilOurTurnNanos(LeaseRecord record) {
        if (handedToUs(record)) {
            return 0;
        }
        boolean released = ObservedLease.isRelease(record);
        long freeAt = observed.changedAtNanos() + (released ? 0 : observed.expiryNanos(record));
        if (released && record.namesSuccessorOtherThan(identity)) {
            freeAt += successorTurnNanos;
        }
        return freeAt + candidacy.patience().toNanos() - clock.nanoTime();
    }

    /**
     * Whether {@code record} is a release to another candidate that did not take it within its turn: then even a
     * candidate holding off after its own yield may take it, rather than leave the election without a leader for the
     * rest of its hold-off (a move to a candidate that had died).
     */
    boolean successorMissedItsTurn(LeaseRecord record) {
        return ObservedLease.isRelease(record)
                && record.namesSuccessorOtherThan(identity)
                && clock.nanoTime() - (observed.changedAtNanos() + successorTurnNanos) >= 0;
    }

    /** Whether {@code record} is a release that names this candidate as the successor. */
    boolean handedToUs(LeaseRecord record) {
        return ObservedLease.isRelease(record) && identity.equals(record.successor());
    }
}
