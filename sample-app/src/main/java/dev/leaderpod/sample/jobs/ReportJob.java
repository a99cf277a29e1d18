package dev.leaderpod.sample.jobs;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.annotation.LeaderOnlyContext;
import dev.leaderpod.sample.status.Activity;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Profile;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * A scheduled job that must run on one replica only: {@code @Scheduled} fires on every replica, {@code @LeaderOnly}
 * lets the call through on the leader only. Every {@code sample.job.interval} the leader settles a batch, which takes
 * {@code sample.job.duration}, and stamps it with the fencing token of the term the call started under, as it would
 * on every write to a downstream system so that a stale leader's writes can be rejected.
 *
 * <p>Nothing else is needed: the annotation checks leadership when the call starts (against the renew deadline, not
 * the last event), and when the term ends it waits for a run in progress before {@code OnRevokedEvent} is published
 * and the lease released, so the next leader's run never overlaps this one.
 */
@Component
@Profile("!sidecar")
public class ReportJob {

    private static final Logger log = LoggerFactory.getLogger(ReportJob.class);

    private final Activity activity;
    private final Duration duration;
    private final AtomicLong runs = new AtomicLong();

    ReportJob(Activity activity, @Value("${sample.job.duration:300ms}") Duration duration) {
        this.activity = activity;
        this.duration = duration;
    }

    @Scheduled(initialDelayString = "${sample.job.interval:2s}", fixedDelayString = "${sample.job.interval:2s}")
    @LeaderOnly
    public void settleBatch() {
        long token = LeaderOnlyContext.fencingToken(); // the term this call started under
        long run = runs.incrementAndGet();
        long startedAt = System.currentTimeMillis();
        log.info("Job run #{} started (fencing token {})", run, token);
        try {
            Thread.sleep(duration.toMillis()); // the work; a real job passes the token with every write
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long took = System.currentTimeMillis() - startedAt;
        log.info("Job run #{} finished in {} ms (fencing token {})", run, took, token);
        activity.jobRun(startedAt, took, "Job run #" + run + " settled a batch", token);
    }
}
