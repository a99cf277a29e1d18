package dev.leaderpod.sample.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import dev.leaderpod.annotation.LeaderOnlyContext;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.sample.status.Activity;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The named jobs' bodies without Spring, as {@link ReportJobTest} does for the default one: each reports its run under
 * its own election with the fencing token of the term bound to the call. That each follows its own election is shown
 * in {@code SampleApplicationTest}.
 */
class NamedJobsTest {

    private final Activity activity = new Activity();
    private final Map<String, Runnable> jobs = Map.of(
            "billing", new BillingJob(activity, Duration.ZERO)::invoiceOpenOrders,
            "cleanup", new CleanupJob(activity, Duration.ZERO)::purgeExpiredSessions,
            "index", new IndexJob(activity, Duration.ZERO)::reindexChangedDocuments);

    @Test
    void eachJobReportsItsRunUnderItsElectionWithTheTokenOfItsTerm() {
        long token = 10;
        for (Map.Entry<String, Runnable> job : jobs.entrySet()) {
            LeadershipTerm term = new LeadershipTerm("leaderpod-sample-" + job.getKey(), "me", ++token, Instant.now());
            try (LeaderOnlyContext.Scope scope = LeaderOnlyContext.bind(term)) {
                job.getValue().run();
                job.getValue().run();
            }
            assertThat(activity.jobRuns(job.getKey())).as(job.getKey()).isEqualTo(2);
            List<Activity.Entry> runs = activity.recent().stream()
                    .filter(entry -> entry.election().equals(job.getKey()))
                    .toList();
            assertThat(runs).as(job.getKey()).hasSize(2).allSatisfy(entry -> {
                assertThat(entry.kind()).isEqualTo(Activity.Kind.JOB);
                assertThat(entry.fencingToken()).isEqualTo(term.fencingToken());
            });
            assertThat(runs)
                    .extracting(Activity.Entry::text)
                    .anySatisfy(text -> assertThat(text).startsWith(job.getKey() + " run #2 "));
        }
        assertThat(activity.jobRuns()).as("runs of the default election's job").isZero();
    }

    /** Called around the {@code @LeaderOnly} proxy there is no term, and no job runs without one. */
    @Test
    void noJobRunsOutsideATerm() {
        jobs.forEach((election, job) -> {
            assertThatIllegalStateException().isThrownBy(job::run).withMessageContaining("@LeaderOnly");
            assertThat(activity.jobRuns(election)).isZero();
        });
    }
}
