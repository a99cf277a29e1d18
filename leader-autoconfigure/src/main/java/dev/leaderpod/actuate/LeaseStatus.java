package dev.leaderpod.actuate;

import dev.leaderpod.autoconfigure.LeaderElections;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.ElectionSnapshot;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.VersionedLease;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One candidate's election as the metrics, the health contributor and the endpoint present it, derived from a
 * {@link ElectionSnapshot} (no I/O).
 *
 * <p><b>Renewal overdue</b> (client-go's healthz semantics): this candidate's last observation of the lease still
 * names it as holder, and its last successful renew (or acquire) was sent more than {@code renewDeadline +
 * retryPeriod} ago. That is what a stuck leader looks like: the renew deadline passed (so it already stopped
 * leading, by the elector's call-time check and step-down timer) and one more retry period went by without it
 * renewing, re-acquiring, or seeing another holder — because its calls fail or hang, or the process is starved.
 * A follower is never overdue, nor is a leader that released or lost the lease and has seen it.
 */
final class LeaseStatus {

    private final ElectionSnapshot snapshot;
    private final ElectionSettings settings;

    private LeaseStatus(ElectionSnapshot snapshot, ElectionSettings settings) {
        this.snapshot = snapshot;
        this.settings = settings;
    }

    static LeaseStatus of(LeaseElector elector) {
        return new LeaseStatus(elector.snapshot(), elector.settings());
    }

    /** The electors of the named elections this instance is a candidate in, by name. */
    static Map<String, LeaseElector> named(LeaderElections elections) {
        Map<String, LeaseElector> named = new LinkedHashMap<>(elections.electors());
        named.remove(LeaderElections.DEFAULT);
        return named;
    }

    static LeaseStatus of(ElectionSnapshot snapshot, ElectionSettings settings) {
        return new LeaseStatus(snapshot, settings);
    }

    ElectionSnapshot snapshot() {
        return snapshot;
    }

    ElectionSettings settings() {
        return settings;
    }

    boolean leader() {
        return snapshot.leader();
    }

    String role() {
        return snapshot.leader() ? "leader" : "follower";
    }

    Optional<LeaseRecord> record() {
        return snapshot.observed().map(VersionedLease::record);
    }

    /** The holder as last observed, if the lease was held. */
    Optional<String> holder() {
        return snapshot.observedHolder();
    }

    /** The lease's {@code leaseTransitions} as last observed: the fencing token of the current (or last) term. */
    OptionalLong fencingToken() {
        if (snapshot.term().isPresent()) {
            return OptionalLong.of(snapshot.term().get().fencingToken());
        }
        return record().map(record -> OptionalLong.of(record.transitionsOrZero()))
                .orElse(OptionalLong.empty());
    }

    /** Whether the lease, as last observed, names this candidate as holder (it may have stopped leading). */
    boolean holdsLeaseAsObserved() {
        return snapshot.observedHolder().filter(snapshot.identity()::equals).isPresent();
    }

    /**
     * Time since this candidate's last successful renew (or acquire) was sent, while it leads or the lease it last
     * saw still names it; empty otherwise, as the age of a term that is over means nothing.
     */
    Optional<Duration> lastRenewAge() {
        if (snapshot.leader() || holdsLeaseAsObserved()) {
            return snapshot.sinceLastRenew();
        }
        return Optional.empty();
    }

    /** How old the last successful renew may get before the renewal counts as overdue. */
    Duration overdueAfter() {
        return settings.renewDeadline().plus(settings.retryPeriod());
    }

    /** Whether this candidate's renewal is overdue; see the class comment. */
    boolean renewOverdue() {
        return holdsLeaseAsObserved()
                && snapshot.sinceLastRenew()
                        .filter(age -> age.compareTo(overdueAfter()) > 0)
                        .isPresent();
    }

    /** ISO-8601, to the millisecond: the form every JSON mapper prints the same. */
    static String format(Duration duration) {
        return duration.truncatedTo(ChronoUnit.MILLIS).toString();
    }
}
