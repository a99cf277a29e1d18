package dev.leaderpod.sample.status;

import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.ElectionSnapshot;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.VersionedLease;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * What the status page shows: this instance, the leader as this instance knows it, the lease's timing and the
 * recent activity. Built from {@link LeaseElector#snapshot()}, which does no I/O, so polling it never disturbs the
 * election.
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
            List<Activity.Entry> timeline,
            long nowMillis) {}

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
    private final LeaseStore store;
    private final Activity activity;
    private final WebServerApplicationContext context;

    StatusController(LeaseElector elector, LeaseStore store, Activity activity, WebServerApplicationContext context) {
        this.elector = elector;
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
        Long token = snapshot.term()
                .map(term -> term.fencingToken())
                .or(() -> observed.filter(LeaseRecord::isHeld).map(LeaseRecord::transitionsOrZero))
                .orElse(null);
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
                activity.recent(),
                System.currentTimeMillis());
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
