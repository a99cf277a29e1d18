package dev.leaderpod.core;

import java.time.Duration;
import java.time.Instant;

/**
 * The records this candidate writes into the lease, and whether a lease is one it may write at all. Every write
 * names this candidate, its own lease duration and its application (docs/design.md, "One lease, one application").
 * The fencing token is the caller's choice, except that a renew writes its term's own token back, whatever a third
 * party wrote since ("Fencing tokens strictly increase"). Immutable: a stopping elector releases from an I/O thread.
 */
final class LeaseWrites {

    private final String identity;
    private final Duration leaseDuration;
    private final String application;
    private final boolean allowOtherApplications;
    private final ElectionClock clock;

    /**
     * @param application written into every record, or null to write and check none
     * @param allowOtherApplications whether leases of other applications may be taken part in
     */
    LeaseWrites(
            String identity,
            Duration leaseDuration,
            String application,
            boolean allowOtherApplications,
            ElectionClock clock) {
        this.identity = identity;
        this.leaseDuration = leaseDuration;
        this.application = application;
        this.allowOtherApplications = allowOtherApplications;
        this.clock = clock;
    }

    /** This candidate's application, or null. */
    String application() {
        return application;
    }

    /** Whether {@code record} belongs to another application, which this candidate must not take part in. */
    boolean ofAnotherApplication(LeaseRecord record) {
        return !allowOtherApplications
                && application != null
                && record.application() != null
                && !record.application().equals(application);
    }

    /** The write that starts a term (a create or a takeover) at {@code start} with {@code token}. */
    LeaseRecord newTerm(Instant start, long token) {
        return new LeaseRecord(identity, leaseDuration, start, clock.wallTime(), token, application);
    }

    /** A renew of {@code term} over {@code base}: the term's own token; the base's application if we name none. */
    LeaseRecord renewal(LeadershipTerm term, LeaseRecord base) {
        return new LeaseRecord(
                identity,
                leaseDuration,
                term.acquiredAt(),
                clock.wallTime(),
                term.fencingToken(),
                application != null ? application : base.application());
    }

    /** A renew of a lease this candidate created and holds before leading: it stays as created, but for the token. */
    LeaseRecord holding(LeaseRecord created, Long token) {
        return new LeaseRecord(
                identity, leaseDuration, created.acquireTime(), clock.wallTime(), token, created.application());
    }

    /**
     * The release of {@code mine} ({@link LeaseRecord#released}), now, naming its application or else ours.
     *
     * @param successor the candidate the lease is handed to, or null for anyone
     */
    LeaseRecord release(LeaseRecord mine, String successor) {
        return mine.released(
                clock.wallTime(), mine.application() != null ? mine.application() : application, successor);
    }
}
