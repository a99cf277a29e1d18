package dev.leaderpod.sample.jobs;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.annotation.LeaderOnlyContext;
import dev.leaderpod.sample.status.Activity;
import java.time.Duration;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Profile;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * A job of its own election, {@code cleanup} (lease {@code <leader.lease-name>-cleanup}), as {@link BillingJob} is of
 * {@code billing}: every {@code sample.jobs.cleanup.interval} the leader of {@code cleanup} purges expired sessions.
 */
@Component
@Profile("!sidecar")
public class CleanupJob {

    private final JobRuns runs;

    CleanupJob(Activity activity, @Value("${sample.job.duration:300ms}") Duration duration) {
        this.runs = new JobRuns("cleanup", activity, duration);
    }

    @Scheduled(
            initialDelayString = "${sample.jobs.cleanup.interval:10s}",
            fixedDelayString = "${sample.jobs.cleanup.interval:10s}")
    @LeaderOnly("cleanup")
    public void purgeExpiredSessions() {
        runs.run(LeaderOnlyContext.fencingToken(), "purged expired sessions");
    }
}
