package dev.leaderpod.core;

import java.time.Duration;
import java.util.Optional;

/**
 * What one candidate knows about its election at one moment, for diagnostics. Taking it performs no I/O.
 *
 * @param leaseName the lease
 * @param identity this candidate
 * @param leader whether this candidate leads ({@link Leadership#isLeader()})
 * @param term the current term, when leading
 * @param observed the lease as last read, watched or written by this candidate
 * @param sinceObservedChange time since this candidate last saw the lease change
 * @param sinceLastRenew time since the last successful write of this candidate was sent, if any
 * @param consecutiveFailures store calls that failed in a row
 * @param lastFailure kind of the most recent failure, if any
 * @param watching whether a watch on the lease is currently established
 */
public record ElectionSnapshot(
        String leaseName,
        String identity,
        boolean leader,
        Optional<LeadershipTerm> term,
        Optional<VersionedLease> observed,
        Optional<Duration> sinceObservedChange,
        Optional<Duration> sinceLastRenew,
        int consecutiveFailures,
        Optional<LeaseStoreException.Kind> lastFailure,
        boolean watching) {

    /** The holder this candidate last observed, if the lease was held. */
    public Optional<String> observedHolder() {
        return observed.map(VersionedLease::record).filter(LeaseRecord::isHeld).map(LeaseRecord::holderIdentity);
    }
}
