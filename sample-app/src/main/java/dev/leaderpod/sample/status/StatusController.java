package dev.leaderpod.sample.status;

import dev.leaderpod.autoconfigure.LeaderElections;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.ElectionSnapshot;
import dev.leaderpod.core.Leadership;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.VersionedLease;
import dev.leaderpod.spread.ElectionSpreader;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * What the status page shows: this instance, the leader of the default election as this instance knows it, the
 * lease's timing, every election (the default one and the named ones) with its holder, how the elections are spread
 * over the instances, and the recent activity. Built from {@link LeaseElector#snapshot()} and the spreader's last
 * count, which do no I/O, so polling it never disturbs the elections.
 */
@RestController
class StatusController {

    /** The whole picture, as JSON for the page. */
    record Status(
            String lease,
            String store,
            Instance self,
            Leader leader,
            Election election,
            Timing timing,
            Work work,
            List<ElectionRow> elections,
            Spreading spreading,
            List<Activity.Entry> timeline,
            long nowMillis) {}

    /**
     * One election, as this instance sees its lease.
     *
     * @param name {@code ""} for the default election, else the name {@code @LeaderOnly("<name>")} and
     *     {@code leader.elections.<name>} use
     * @param lease the election's lease: {@code <leader.lease-name>-<name>} for a named one
     * @param candidate whether this instance takes part ({@code false}: {@code leader.elections.<name>.enabled=false})
     * @param leader whether this instance leads it right now
     * @param holder the holder this instance last saw, or {@code null} while nobody holds the lease (or it is unknown)
     * @param fencingToken the holder's fencing token ({@code leaseTransitions}), or {@code null} with no holder
     * @param state as in {@link Election}, or {@code not-a-candidate}
     * @param jobRuns runs of the election's job on this instance
     */
    record ElectionRow(
            String name,
            String lease,
            boolean candidate,
            boolean leader,
            String holder,
            Long fencingToken,
            String state,
            long jobRuns) {}

    /**
     * How the elections are spread over the instances.
     *
     * @param active whether the starter spreads them ({@code leader.spread.enabled}, a store that keeps presence, and
     *     two elections or more)
     * @param share how many elections this instance leads now
     * @param shares how many elections each instance leads: when active, each live candidate (zeros included) as the
     *     spreader last counted; else each holder as this instance sees the leases
     * @param candidates what each live candidate says about itself ({@code leader.spread.metadata}); empty when not
     *     active
     * @param moves elections this instance handed over to spread them since it started
     */
    record Spreading(
            boolean active,
            int share,
            Map<String, Integer> shares,
            Map<String, Map<String, String>> candidates,
            long moves) {}

    /**
     * Where the election stands, as this instance sees it, and why.
     *
     * @param state {@code leading}, {@code following} (another instance holds the lease), {@code lapsed} (the lease
     *     names this instance, which no longer leads), {@code free} (the lease names no holder), {@code absent} (no
     *     lease exists, or none was read yet) or {@code unreadable} (reading it failed and no lease has been seen)
     * @param detail one sentence for people
     */
    record Election(String state, String detail) {}

    /** This instance. */
    record Instance(String identity, long pid, Integer port, boolean leader, long startedAtMillis) {}

    /**
     * The leader as this instance knows it.
     *
     * @param identity the holder, or {@code null} while nobody holds the lease
     * @param fencingToken the holder's fencing token ({@code leaseTransitions})
     * @param renewTime when the holder last renewed, by the holder's clock (informational: never compared)
     */
    record Leader(String identity, Long fencingToken, boolean self, Instant renewTime) {}

    /**
     * The lease's timing as this instance sees it.
     *
     * @param sinceLastRenewMillis on the leader: time since its last successful renew was sent
     * @param sinceObservedChangeMillis time since this instance last saw the lease change: on a follower, how old
     *     the last renew it saw is; the lease expires for it when this reaches the lease duration
     */
    record Timing(
            Long sinceLastRenewMillis,
            Long sinceObservedChangeMillis,
            long leaseDurationMillis,
            long renewDeadlineMillis,
            long retryPeriodMillis,
            boolean watching) {}

    /** The leader-only work done by this instance. */
    record Work(long jobRuns, boolean workerRunning, long heartbeats) {}

    private final LeaseElector elector;
    private final LeaderElections elections;
    private final LeaseStore store;
    private final Activity activity;
    private final WebServerApplicationContext context;

    StatusController(
            LeaseElector elector,
            LeaderElections elections,
            LeaseStore store,
            Activity activity,
            WebServerApplicationContext context) {
        this.elector = elector;
        this.elections = elections;
        this.store = store;
        this.activity = activity;
        this.context = context;
    }

    @GetMapping(path = "/api/status", produces = MediaType.APPLICATION_JSON_VALUE)
    Status status() {
        ElectionSnapshot snapshot = elector.snapshot();
        ElectionSettings settings = elector.settings();
        Optional<LeaseRecord> observed = snapshot.observed().map(VersionedLease::record);
        String holder = snapshot.observedHolder().orElse(null);
        Long token = fencingToken(snapshot);
        List<ElectionRow> rows = electionRows();
        return new Status(
                elector.leaseName(),
                store.describe(elector.leaseName()),
                new Instance(
                        elector.identity(),
                        ProcessHandle.current().pid(),
                        port(),
                        snapshot.leader(),
                        context.getStartupDate()),
                new Leader(
                        holder,
                        token,
                        snapshot.leader(),
                        observed.filter(LeaseRecord::isHeld)
                                .map(LeaseRecord::renewTime)
                                .orElse(null)),
                election(snapshot, settings),
                new Timing(
                        millis(snapshot.leader() ? snapshot.sinceLastRenew() : Optional.empty()),
                        millis(snapshot.sinceObservedChange()),
                        settings.leaseDuration().toMillis(),
                        settings.renewDeadline().toMillis(),
                        settings.retryPeriod().toMillis(),
                        snapshot.watching()),
                new Work(activity.jobRuns(), activity.workerRunning(), activity.heartbeats()),
                rows,
                spreading(elector.identity(), rows, elections.spreader()),
                activity.recent(),
                System.currentTimeMillis());
    }

    /** Every election, the default one first, then the named ones in name order. */
    private List<ElectionRow> electionRows() {
        Map<String, LeaseElector> electors = elections.electors();
        List<ElectionRow> rows = new ArrayList<>();
        for (String name : elections.names()) {
            LeaseElector candidate = electors.get(name);
            rows.add(
                    candidate != null
                            ? row(name, candidate.snapshot(), candidate.settings(), activity.jobRuns(name))
                            : notACandidate(name, elections.election(name), activity.jobRuns(name)));
        }
        return rows;
    }

    /** The row of an election this instance is a candidate in, from its elector's snapshot. */
    static ElectionRow row(String name, ElectionSnapshot snapshot, ElectionSettings settings, long jobRuns) {
        return new ElectionRow(
                name,
                snapshot.leaseName(),
                true,
                snapshot.leader(),
                snapshot.observedHolder().orElse(null),
                fencingToken(snapshot),
                election(snapshot, settings).state(),
                jobRuns);
    }

    private static ElectionRow notACandidate(String name, Leadership election, long jobRuns) {
        return new ElectionRow(
                name,
                election.leaseName(),
                false,
                false,
                election.observedLeader().orElse(null),
                null,
                "not-a-candidate",
                jobRuns);
    }

    /**
     * How the elections are spread: the spreader's last count over the live candidates when it runs, else the
     * holders of the {@code rows} as this instance sees them.
     */
    static Spreading spreading(String identity, List<ElectionRow> rows, Optional<ElectionSpreader> spreader) {
        int share = (int) rows.stream().filter(ElectionRow::leader).count();
        return spreader.map(
                        running -> new Spreading(true, share, running.shares(), running.candidates(), running.moves()))
                .orElseGet(() -> new Spreading(
                        false,
                        share,
                        rows.stream()
                                .filter(row -> row.holder() != null)
                                .collect(Collectors.toMap(ElectionRow::holder, row -> 1, Integer::sum, TreeMap::new)),
                        Map.of(),
                        0));
    }

    /** The holder's fencing token: this instance's term's while it leads, else the held lease's transitions. */
    private static Long fencingToken(ElectionSnapshot snapshot) {
        return snapshot.term()
                .map(term -> term.fencingToken())
                .or(() -> snapshot.observed()
                        .map(VersionedLease::record)
                        .filter(LeaseRecord::isHeld)
                        .map(LeaseRecord::transitionsOrZero))
                .orElse(null);
    }

    /**
     * Where the election stands, from the snapshot alone. A missing lease is created at once, but its creator holds it
     * (renews it without leading) for one lease duration before its term starts, because the lease may have been
     * deleted while its holder still leads, and the store cannot tell a deleted lease from one that never existed. So
     * the very first election of an application (a fresh lease directory, a new namespace) takes one lease duration.
     */
    static Election election(ElectionSnapshot snapshot, ElectionSettings settings) {
        if (snapshot.leader()) {
            return new Election(
                    "leading",
                    "It runs the leader-only job and worker, and renews the lease every "
                            + seconds(settings.retryPeriod()) + ".");
        }
        Optional<String> holder = snapshot.observedHolder();
        boolean renewedRecently = snapshot.sinceLastRenew()
                .filter(age -> age.compareTo(settings.renewDeadline()) < 0)
                .isPresent();
        if (holder.isPresent() && holder.get().equals(snapshot.identity()) && renewedRecently) {
            return new Election(
                    "holding",
                    "This instance created the lease and holds it for one lease duration ("
                            + seconds(settings.leaseDuration()) + ") before it leads: a deleted lease's holder may"
                            + " still lead until its renew deadline, and the store cannot tell a deleted lease from one"
                            + " that never existed.");
        }
        if (holder.isPresent() && holder.get().equals(snapshot.identity())) {
            return new Election(
                    "lapsed",
                    "The lease still names this instance, but its renew deadline passed, so it stopped leading. It"
                            + " leads again if a renew succeeds; else another instance takes over once the lease"
                            + " expires.");
        }
        if (holder.isPresent()) {
            return new Election(
                    "following",
                    holder.get() + " leads; this instance takes over if that lease expires or is released.");
        }
        if (snapshot.observed().isPresent()) {
            return new Election(
                    "free",
                    "Nobody holds the lease. A lease its leader released is taken by the next candidate to try; one"
                            + " whose holder was cleared by hand is waited out for one lease duration ("
                            + seconds(settings.leaseDuration()) + ").");
        }
        if (snapshot.consecutiveFailures() > 0 && snapshot.lastFailure().isPresent()) {
            return new Election(
                    "unreadable",
                    "The lease could not be read (" + snapshot.lastFailure().get() + ", "
                            + snapshot.consecutiveFailures() + " failure(s) in a row); this instance keeps trying.");
        }
        return new Election(
                "absent",
                "No lease seen: none exists yet, or it was deleted. The first instance to find it missing creates it"
                        + " and holds it for one lease duration (" + seconds(settings.leaseDuration()) + ") before it"
                        + " leads: a deleted lease's holder may still lead, and the store cannot tell a deleted lease"
                        + " from one that never existed.");
    }

    /**
     * One line for scripts with no JSON tool, such as {@code demo.sh}: {@code role identity holder token pid port
     * state}, with {@code -} for an unknown holder, token or port, and {@code state} as in {@link Election}.
     */
    @GetMapping(path = "/api/summary", produces = MediaType.TEXT_PLAIN_VALUE)
    String summary() {
        Status status = status();
        return String.join(
                        " ",
                        status.self().leader() ? "leader" : "follower",
                        status.self().identity(),
                        orDash(status.leader().identity()),
                        orDash(status.leader().fencingToken()),
                        String.valueOf(status.self().pid()),
                        orDash(status.self().port()),
                        status.election().state())
                + "\n";
    }

    /**
     * Lines for scripts with no JSON tool, such as {@code demo.sh}: one per election, {@code election name lease
     * holder token role} ({@code name} is {@code -} for the default election; {@code role} is {@code leader},
     * {@code follower} or {@code out} where this instance is no candidate), then {@code spreading on|off}
     * followed by {@code identity=share} for each instance, as in {@link Spreading}.
     */
    @GetMapping(path = "/api/elections", produces = MediaType.TEXT_PLAIN_VALUE)
    String elections() {
        List<ElectionRow> rows = electionRows();
        StringBuilder lines = new StringBuilder();
        for (ElectionRow row : rows) {
            lines.append(String.join(
                            " ",
                            "election",
                            row.name().isEmpty() ? "-" : row.name(),
                            row.lease(),
                            orDash(row.holder()),
                            orDash(row.fencingToken()),
                            !row.candidate() ? "out" : row.leader() ? "leader" : "follower"))
                    .append('\n');
        }
        Spreading spreading = spreading(elector.identity(), rows, elections.spreader());
        lines.append("spreading ").append(spreading.active() ? "on" : "off");
        spreading
                .shares()
                .forEach((who, share) ->
                        lines.append(' ').append(who).append('=').append(share));
        return lines.append('\n').toString();
    }

    private Integer port() {
        return context.getWebServer() == null ? null : context.getWebServer().getPort();
    }

    private static String seconds(Duration duration) {
        return String.format(Locale.ROOT, "%.1f s", duration.toMillis() / 1000.0);
    }

    private static Long millis(Optional<Duration> duration) {
        return duration.map(Duration::toMillis).orElse(null);
    }

    private static String orDash(Object value) {
        return value == null ? "-" : value.toString();
    }
}
