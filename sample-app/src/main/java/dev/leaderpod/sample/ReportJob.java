package dev.leaderpod.sample;

import dev.leaderpod.annotation.LeaderOnly;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Profile;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * The job that must run on one replica only: every {@code sample.job.interval} the leader settles a batch, which
 * takes {@code sample.job.duration}, and stamps it with its fencing token, as it would on every write to a
 * downstream system so that a stale leader's writes can be rejected.
 */
@Component
@Profile("!sidecar")
public class ReportJob {

    private static final Logger log = LoggerFactory.getLogger(ReportJob.class);

    private final JobGuard guard;
    private final Activity activity;
    private final Duration duration;
    private final AtomicLong runs = new AtomicLong();

    ReportJob(JobGuard guard, Activity activity, @Value("${sample.job.duration:300ms}") Duration duration) {
        this.guard = guard;
        this.activity = activity;
        this.duration = duration;
    }

    /**
     * Runs on the leader only. {@code @LeaderOnly} skips the call on followers; the guard checks again and waits
     * for nothing, so the job is also correct where the annotation is not intercepted.
     */
    @Scheduled(initialDelayString = "${sample.job.interval:2s}", fixedDelayString = "${sample.job.interval:2s}")
    @LeaderOnly
    public void settleBatch() {
        guard.runWhileLeading(term -> {
            long run = runs.incrementAndGet();
            long token = term.fencingToken();
            long startedAt = System.currentTimeMillis();
            log.info("Job run #{} started (fencing token {})", run, token);
            try {
                Thread.sleep(duration.toMillis()); // the work; a real job would pass the token downstream
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            long took = System.currentTimeMillis() - startedAt;
            log.info("Job run #{} finished in {} ms (fencing token {})", run, took, token);
            activity.jobRun(startedAt, took, "Job run #" + run + " settled a batch", token);
        });
    }
}
