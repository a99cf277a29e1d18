package dev.leaderpod.actuate;

import dev.leaderpod.autoconfigure.LeaderElections;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.ElectionSnapshot;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.spread.ElectionSpreader;
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
import org.springframework.lang.Nullable;

/**
 * The {@code leader} actuator endpoint. Reading returns the lease as this instance last observed it, from the
 * elector's snapshot: no call to the store, so the elector's cached version is never disturbed (docs/design.md, "One write per renew").
 * Writing asks this instance to yield leadership of an election (the default one unless {@code election} is given),
 * for a maintenance hand-over, optionally to a chosen {@code successor}; it acts only on the leader.
 *
 * <p>Like every endpoint it is only reachable once exposed ({@code management.endpoints.web.exposure.include}).
 * {@code management.endpoint.leader.access=read-only} exposes reading without the write operation.
 */
@Endpoint(id = "leader")
public class LeaderEndpoint {

    private final LeaseElector elector;
    private final Supplier<Map<String, LeaseElector>> namedElectors;
    private final Supplier<Optional<ElectionSpreader>> spreader;

    /** The endpoint of an application with the default election only. */
    public LeaderEndpoint(LeaseElector elector) {
        this(elector, Map::of, Optional::empty);
    }

    /** The endpoint of every election: the default one, and the named ones under {@code elections}. */
    public LeaderEndpoint(LeaderElections elections) {
        this(
                elections.electors().get(LeaderElections.DEFAULT),
                () -> LeaseStatus.named(elections),
                elections::spreader);
    }

    private LeaderEndpoint(
            LeaseElector elector,
            Supplier<Map<String, LeaseElector>> namedElectors,
            Supplier<Optional<ElectionSpreader>> spreader) {
        this.elector = elector;
        this.namedElectors = namedElectors;
        this.spreader = spreader;
    }

    /**
     * The default election as this instance last observed it and, under {@code elections}, each named election this
     * instance is a candidate in.
     */
    @ReadOperation
    public LeaderDescriptor lease() {
        return LeaderDescriptor.of(
                elector,
                namedElectors.get(),
                spreader.get().map(SpreadDescriptor::of).orElse(null));
    }

    /**
     * Asks this instance to give leadership of the default election up: it stops leading, waits for leader-only work
     * to drain, releases the lease so another instance takes over at once, and does not try to lead again for one
     * lease duration. Does nothing on a follower. Returns at once; the hand-over completes in the background.
     */
    public YieldResponse yieldLeadership() {
        return yieldLeadership(null, null);
    }

    /**
     * Asks this instance to give leadership of {@code election} up, as {@link #yieldLeadership()} does, and to hand it
     * to {@code successor}: the release names it, and the other candidates let it take the lease first for two retry
     * periods (a targeted hand-over). When elections are spread, a successor that is not a live candidate is refused.
     *
     * @param election the election's name; the default election when null or empty
     * @param successor the identity of the instance that should lead next; when null, the least loaded live candidate
     *     if elections are spread, else anyone
     */
    @WriteOperation
    public YieldResponse yieldLeadership(@Nullable String election, @Nullable String successor) {
        String name = election == null ? "" : election;
        LeaseElector target = name.isEmpty() ? elector : namedElectors.get().get(name);
        if (target == null) {
            return refused(
                    null,
                    "No election named '" + name + "' that this instance is a candidate in. Elections: ''"
                            + (namedElectors.get().isEmpty()
                                    ? ""
                                    : ", "
                                            + String.join(
                                                    ", ", namedElectors.get().keySet()))
                            + ".");
        }
        Optional<LeadershipTerm> term = target.currentTerm();
        if (term.isEmpty()) {
            Optional<String> holder = target.snapshot().observedHolder();
            return refused(
                    holder.orElse(null),
                    "This instance does not lead " + target.leaseName() + "; nothing was done. "
                            + holder.map(h -> "Send the request to the leader, " + h + ".")
                                    .orElse("No leader is known to this instance."));
        }
        String to = successor == null || successor.isBlank() ? null : successor.trim();
        Optional<ElectionSpreader> spreading = spreader.get();
        if (to != null && spreading.isPresent() && !spreading.get().candidates().containsKey(to)) {
            return refused(
                    target.identity(),
                    "'" + to + "' is not a live candidate, so it could not take " + target.leaseName()
                            + "; nothing was done. Live candidates: "
                            + String.join(", ", spreading.get().candidates().keySet()) + ".");
        }
        if (to != null && to.equals(target.identity())) {
            return refused(
                    target.identity(), "This instance already leads " + target.leaseName() + "; nothing was done.");
        }
        target.yieldLeadership(to);
        ElectionSettings settings = target.settings();
        return new YieldResponse(
                true,
                target.identity(),
                target.identity(),
                term.get().fencingToken(),
                "This instance yields " + target.leaseName() + " (term "
                        + term.get().fencingToken()
                        + ")" + (to == null ? "" : " to " + to)
                        + ": it stops leading, releases the lease once leader-only work has drained"
                        + (to == null
                                ? ""
                                : ", naming " + to + " as successor, who takes it at once; if it does not"
                                        + " within "
                                        + LeaseStatus.format(
                                                settings.retryPeriod().multipliedBy(2))
                                        + ", anyone may")
                        + ", and does not try to lead again for " + LeaseStatus.format(settings.leaseDuration())
                        + ". Read this endpoint on any instance to see the new holder.",
                name,
                to);
    }

    private YieldResponse refused(String holder, String message) {
        return new YieldResponse(false, elector.identity(), holder, null, message, null, null);
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
            Map<String, LeaderDescriptor> elections,
            SpreadDescriptor spreading) {

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
                    null,
                    null);
        }

        /** The default election's descriptor, with the named elections' under {@code elections}. */
        static LeaderDescriptor of(LeaseElector elector, Map<String, LeaseElector> named, SpreadDescriptor spreading) {
            Map<String, LeaderDescriptor> elections = new LinkedHashMap<>();
            named.forEach((name, namedElector) -> elections.put(name, of(LeaseStatus.of(namedElector))));
            return of(
                    LeaseStatus.of(elector),
                    elections.isEmpty() ? null : Collections.unmodifiableMap(elections),
                    spreading);
        }

        static LeaderDescriptor of(LeaseStatus status) {
            return of(status, null, null);
        }

        private static LeaderDescriptor of(
                LeaseStatus status, Map<String, LeaderDescriptor> elections, SpreadDescriptor spreading) {
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
                    elections,
                    spreading);
        }
    }

    /**
     * How the elections are spread over the live candidates, as this instance last counted (docs/design.md,
     * "Spreading elections").
     *
     * @param share how many elections this instance leads
     * @param shares how many elections each live candidate leads
     * @param candidates what each live candidate says about itself ({@code leader.spread.metadata})
     * @param moves elections this instance handed over to spread them since it started
     */
    public record SpreadDescriptor(
            int share, Map<String, Integer> shares, Map<String, Map<String, String>> candidates, long moves) {

        static SpreadDescriptor of(ElectionSpreader spreader) {
            Map<String, Integer> shares = spreader.shares();
            return new SpreadDescriptor(
                    shares.getOrDefault(spreader.identity(), 0), shares, spreader.candidates(), spreader.moves());
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
     * @param election the election yielded ('' for the default one), when yielded
     * @param successor the successor the release names, if any
     */
    public record YieldResponse(
            boolean yielded,
            String identity,
            String holder,
            Long fencingToken,
            String message,
            String election,
            String successor) {}
}
