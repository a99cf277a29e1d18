package dev.leaderpod.sample.jobs;

import dev.leaderpod.sample.status.Activity;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The body the named jobs share, so that each of them shows only what differs: its election and its schedule. A run
 * takes {@code sample.job.duration}, is logged as {@code <election> job run #n started/finished (fencing token t)}
 * and reported to {@link Activity} under its election, with the token of the term the call started under.
 *
 * <p>No leadership check here: the caller's {@code @LeaderOnly("<election>")} is the whole protection.
 */
final class JobRuns {

    private static final Logger log = LoggerFactory.getLogger(JobRuns.class);

    private final String election;
    private final Activity activity;
    private final Duration duration;
    private final AtomicLong runs = new AtomicLong();

    JobRuns(String election, Activity activity, Duration duration) {
        this.election = election;
        this.activity = activity;
        this.duration = duration;
    }

    /**
     * One run of the job, under the term whose fencing token is {@code token}.
     *
     * @param what what the run did, for the status page
     */
    void run(long token, String what) {
        long run = runs.incrementAndGet();
        long startedAt = System.currentTimeMillis();
        log.info("{} job run #{} started (fencing token {})", election, run, token);
        try {
            Thread.sleep(duration.toMillis()); // the work; a real job passes the token with every write
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long took = System.currentTimeMillis() - startedAt;
        log.info("{} job run #{} finished in {} ms (fencing token {})", election, run, took, token);
        activity.jobRun(election, startedAt, took, election + " run #" + run + " " + what, token);
    }
}
