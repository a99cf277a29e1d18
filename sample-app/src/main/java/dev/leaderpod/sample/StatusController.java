package dev.leaderpod.sample;

import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.ElectionSnapshot;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.VersionedLease;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
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
            Timing timing,
            Work work,
            List<Activity.Entry> timeline,
            long nowMillis) {}

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
     * One line for scripts with no JSON tool, such as {@code demo.sh}: {@code role identity holder token pid port},
     * with {@code -} for an unknown holder or token.
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
                        orDash(status.self().port()))
                + "\n";
    }

    private Integer port() {
        return context.getWebServer() == null ? null : context.getWebServer().getPort();
    }

    private static Long millis(Optional<Duration> duration) {
        return duration.map(Duration::toMillis).orElse(null);
    }

    private static String orDash(Object value) {
        return value == null ? "-" : value.toString();
    }
}
