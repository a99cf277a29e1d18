package dev.leaderpod.actuate;

import dev.leaderpod.autoconfigure.LeaderElections;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.ElectionSnapshot;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * The {@code leader} actuator endpoint. Reading returns the lease as this instance last observed it, from the
 * elector's snapshot: no call to the store, so the elector's cached version is never disturbed (docs/design.md, "One write per renew").
 * Writing asks this instance to yield leadership of the default election, for a maintenance hand-over; it acts only
 * on the leader.
 *
 * <p>Like every endpoint it is only reachable once exposed ({@code management.endpoints.web.exposure.include}).
 * {@code management.endpoint.leader.access=read-only} exposes reading without the write operation.
 */
@Endpoint(id = "leader")
public class LeaderEndpoint {

    private final LeaseElector elector;
    private final Supplier<Map<String, LeaseElector>> namedElectors;

    /** The endpoint of an application with the default election only. */
    public LeaderEndpoint(LeaseElector elector) {
        this(elector, Map::of);
    }

    /** The endpoint of every election: the default one, and the named ones under {@code elections}. */
    public LeaderEndpoint(LeaderElections elections) {
        this(elections.electors().get(LeaderElections.DEFAULT), () -> LeaseStatus.named(elections));
    }

    private LeaderEndpoint(LeaseElector elector, Supplier<Map<String, LeaseElector>> namedElectors) {
        this.elector = elector;
        this.namedElectors = namedElectors;
    }

    /**
     * The default election as this instance last observed it and, under {@code elections}, each named election this
     * instance is a candidate in.
     */
    @ReadOperation
    public LeaderDescriptor lease() {
        return LeaderDescriptor.of(elector, namedElectors.get());
    }

    /**
     * Asks this instance to give leadership up: it stops leading, waits for leader-only work to drain, releases the
     * lease so another instance takes over at once, and does not try to lead again for one lease duration. Does
     * nothing on a follower. Returns at once; the hand-over completes in the background.
     */
    @WriteOperation
    public YieldResponse yieldLeadership() {
        Optional<LeadershipTerm> term = elector.currentTerm();
        ElectionSettings settings = elector.settings();
        if (term.isEmpty()) {
            Optional<String> holder = elector.snapshot().observedHolder();
            return new YieldResponse(
                    false,
                    elector.identity(),
                    holder.orElse(null),
                    null,
                    "This instance does not lead " + elector.leaseName() + "; nothing was done. "
                            + holder.map(h -> "Send the request to the leader, " + h + ".")
                                    .orElse("No leader is known to this instance."));
        }
        elector.yieldLeadership();
        return new YieldResponse(
                true,
                elector.identity(),
                elector.identity(),
                term.get().fencingToken(),
                "This instance yields " + elector.leaseName() + " (term "
                        + term.get().fencingToken()
                        + "): it stops leading, releases the lease once leader-only work has drained, and does not"
                        + " try to lead again for " + LeaseStatus.format(settings.leaseDuration())
                        + ". Read this endpoint on any instance to see the new holder.");
    }

    /**
     * The election as one instance last observed it. Times are ISO-8601; ages are measured on this instance's
     * monotonic clock; {@code acquireTime} and {@code renewTime} are the holder's wall-clock times as written in
     * the lease.
     *
     * @param lease name of the lease (the election)
     * @param identity this instance's identity
     * @param leader whether this instance leads right now
     * @param holder the holder as last observed; null when the lease was free or not yet seen
     * @param leaseTransitions the lease's transition count as last observed: the current term's fencing token
     * @param acquireTime when the holder acquired the lease
     * @param renewTime when the holder last renewed the lease
     * @param leaseDuration the lease duration written in the lease
     * @param lastObservedChangeAge time since this instance last saw the lease change
     * @param lastRenewAge time since this instance's last successful renew, while it leads or the lease names it
     * @param renewOverdue whether the lease names this instance but its renewal is overdue (health DOWN)
     * @param watching whether this instance currently watches the lease
     * @param consecutiveFailures store calls of this instance that failed in a row
     * @param lastFailure kind of this instance's latest store failure, if any
     * @param term this instance's current term, while it leads
     * @param settings this instance's election timings
     * @param elections the named elections this instance is a candidate in, by name; null when there are none (and
     *     in a named election's own descriptor)
     */
    public record LeaderDescriptor(
            String lease,
            String identity,
            boolean leader,
            String holder,
            Long leaseTransitions,
            String acquireTime,
            String renewTime,
            String leaseDuration,
            String lastObservedChangeAge,
            String lastRenewAge,
            boolean renewOverdue,
            boolean watching,
            int consecutiveFailures,
            String lastFailure,
            TermDescriptor term,
            TimingsDescriptor settings,
            Map<String, LeaderDescriptor> elections) {

        /** A descriptor without named elections. */
        public LeaderDescriptor(
                String lease,
                String identity,
                boolean leader,
                String holder,
                Long leaseTransitions,
                String acquireTime,
                String renewTime,
                String leaseDuration,
                String lastObservedChangeAge,
                String lastRenewAge,
                boolean renewOverdue,
                boolean watching,
                int consecutiveFailures,
                String lastFailure,
                TermDescriptor term,
                TimingsDescriptor settings) {
            this(
                    lease,
                    identity,
                    leader,
                    holder,
                    leaseTransitions,
                    acquireTime,
                    renewTime,
                    leaseDuration,
                    lastObservedChangeAge,
                    lastRenewAge,
                    renewOverdue,
                    watching,
                    consecutiveFailures,
                    lastFailure,
                    term,
                    settings,
                    null);
        }

        /** The default election's descriptor, with the named elections' under {@code elections}. */
        static LeaderDescriptor of(LeaseElector elector, Map<String, LeaseElector> named) {
            Map<String, LeaderDescriptor> elections = new LinkedHashMap<>();
            named.forEach((name, namedElector) -> elections.put(name, of(LeaseStatus.of(namedElector))));
            return of(LeaseStatus.of(elector), elections.isEmpty() ? null : Collections.unmodifiableMap(elections));
        }

        static LeaderDescriptor of(LeaseStatus status) {
            return of(status, null);
        }

        private static LeaderDescriptor of(LeaseStatus status, Map<String, LeaderDescriptor> elections) {
            ElectionSnapshot snapshot = status.snapshot();
            Optional<LeaseRecord> record = status.record();
            return new LeaderDescriptor(
                    snapshot.leaseName(),
                    snapshot.identity(),
                    snapshot.leader(),
                    status.holder().orElse(null),
                    record.map(LeaseRecord::transitionsOrZero).orElse(null),
                    record.map(LeaseRecord::acquireTime).map(Instant::toString).orElse(null),
                    record.map(LeaseRecord::renewTime).map(Instant::toString).orElse(null),
                    record.map(LeaseRecord::leaseDuration)
                            .map(LeaseStatus::format)
                            .orElse(null),
                    snapshot.sinceObservedChange().map(LeaseStatus::format).orElse(null),
                    status.lastRenewAge().map(LeaseStatus::format).orElse(null),
                    status.renewOverdue(),
                    snapshot.watching(),
                    snapshot.consecutiveFailures(),
                    snapshot.lastFailure()
                            .map(kind -> kind.name().toLowerCase(Locale.ROOT))
                            .orElse(null),
                    snapshot.term().map(TermDescriptor::of).orElse(null),
                    TimingsDescriptor.of(status.settings()),
                    elections);
        }
    }

    /**
     * This instance's current term.
     *
     * @param fencingToken the term's fencing token
     * @param acquiredAt when the term started (wall clock)
     */
    public record TermDescriptor(long fencingToken, String acquiredAt) {

        static TermDescriptor of(LeadershipTerm term) {
            return new TermDescriptor(
                    term.fencingToken(),
                    term.acquiredAt() == null ? null : term.acquiredAt().toString());
        }
    }

    /**
     * The election timings this instance runs with.
     *
     * @param leaseDuration how long followers wait, after they last saw the lease change, before taking over
     * @param renewDeadline how long the leader keeps leading after its last successful renew
     * @param retryPeriod how often the leader renews and polling followers retry
     * @param requestTimeout upper bound of one store call
     */
    public record TimingsDescriptor(
            String leaseDuration, String renewDeadline, String retryPeriod, String requestTimeout) {

        static TimingsDescriptor of(ElectionSettings settings) {
            return new TimingsDescriptor(
                    format(settings.leaseDuration()),
                    format(settings.renewDeadline()),
                    format(settings.retryPeriod()),
                    format(settings.requestTimeout()));
        }

        private static String format(Duration duration) {
            return LeaseStatus.format(duration);
        }
    }

    /**
     * What a yield request did.
     *
     * @param yielded whether this instance led and is now giving leadership up
     * @param identity this instance's identity
     * @param holder the holder as this instance knows it (itself, when it yields)
     * @param fencingToken the fencing token of the term given up, when yielded
     * @param message what happened, for the operator
     */
    public record YieldResponse(boolean yielded, String identity, String holder, Long fencingToken, String message) {}
}
