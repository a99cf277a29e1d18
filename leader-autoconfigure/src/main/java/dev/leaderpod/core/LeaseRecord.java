package dev.leaderpod.core;

import java.time.Duration;
import java.time.Instant;

/**
 * What a lease says, independent of where it is stored. Mirrors the spec of a {@code coordination.k8s.io/v1}
 * Lease.
 *
 * <p>Any field may be {@code null} when the stored object was written by something else; the elector treats
 * such content conservatively rather than failing.
 *
 * @param holderIdentity the candidate holding the lease; {@code null} or empty when the lease is free
 * @param leaseDuration how long candidates wait without seeing a change before taking over
 * @param acquireTime when the current holder acquired the lease (informational)
 * @param renewTime when the current holder last renewed (informational: never compared with a local clock)
 * @param leaseTransitions how many times the holder changed; the fencing token. A full 64-bit value: a store whose
 *     native field is narrower keeps the full value beside it
 * @param application the application the lease belongs to (its {@code spring.application.name}), or {@code null}
 *     when unknown; a candidate of another application refuses the lease (see docs/design.md, "One lease, one
 *     application")
 * @param successor in a released lease, the candidate its holder handed it to, or {@code null}: other candidates let
 *     the successor take it first for a bounded time (docs/design.md, "Hand-over to a successor")
 */
public record LeaseRecord(
        String holderIdentity,
        Duration leaseDuration,
        Instant acquireTime,
        Instant renewTime,
        Long leaseTransitions,
        String application,
        String successor) {

    /** A record that names no successor. */
    public LeaseRecord(
            String holderIdentity,
            Duration leaseDuration,
            Instant acquireTime,
            Instant renewTime,
            Long leaseTransitions,
            String application) {
        this(holderIdentity, leaseDuration, acquireTime, renewTime, leaseTransitions, application, null);
    }

    /** A record that names no application and no successor. */
    public LeaseRecord(
            String holderIdentity,
            Duration leaseDuration,
            Instant acquireTime,
            Instant renewTime,
            Long leaseTransitions) {
        this(holderIdentity, leaseDuration, acquireTime, renewTime, leaseTransitions, null, null);
    }

    /** Whether somebody holds the lease. */
    public boolean isHeld() {
        return holderIdentity != null && !holderIdentity.isEmpty();
    }

    /** Whether {@code identity} holds the lease. */
    public boolean isHeldBy(String identity) {
        return isHeld() && holderIdentity.equals(identity);
    }

    /** The transition count, treating a missing or negative value as zero. */
    public long transitionsOrZero() {
        return (leaseTransitions == null || leaseTransitions < 0) ? 0 : leaseTransitions;
    }

    /** Whether the record names a successor other than {@code identity}. */
    public boolean namesSuccessorOtherThan(String identity) {
        return successor != null && !successor.isEmpty() && !successor.equals(identity);
    }

    /**
     * The release of this record: no holder and the 1 s duration that tells every candidate it may take the lease at
     * once; the acquire time and the token stay, so tokens keep growing.
     *
     * @param renewTime when the release is written
     * @param application the application to name (a release keeps naming the lease's application)
     * @param successor the candidate the lease is handed to, or null for anyone
     */
    public LeaseRecord released(Instant renewTime, String application, String successor) {
        return new LeaseRecord(
                "", ObservedLease.RELEASED_DURATION, acquireTime, renewTime, leaseTransitions, application, successor);
    }
}
