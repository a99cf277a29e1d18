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
 * A job of its own election, {@code index} (lease {@code <leader.lease-name>-index}), as {@link BillingJob} is of
 * {@code billing}: every {@code sample.jobs.index.interval} the leader of {@code index} reindexes what changed.
 */
@Component
@Profile("!sidecar")
public class IndexJob {

    private final JobRuns runs;

    IndexJob(Activity activity, @Value("${sample.job.duration:300ms}") Duration duration) {
        this.runs = new JobRuns("index", activity, duration);
    }

    @Scheduled(
            initialDelayString = "${sample.jobs.index.interval:3s}",
            fixedDelayString = "${sample.jobs.index.interval:3s}")
    @LeaderOnly("index")
    public void reindexChangedDocuments() {
        runs.run(LeaderOnlyContext.fencingToken(), "reindexed the changed documents");
    }
}
