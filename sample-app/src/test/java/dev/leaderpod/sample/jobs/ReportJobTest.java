package dev.leaderpod.sample.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import dev.leaderpod.annotation.LeaderOnlyContext;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.sample.status.Activity;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The job's body on its own, without Spring: how to unit-test a {@code @LeaderOnly} method that uses its term. */
class ReportJobTest {

    private final Activity activity = new Activity();
    private final ReportJob job = new ReportJob(activity, Duration.ZERO);

    @Test
    void stampsTheBatchWithTheFencingTokenOfItsTerm() {
        LeadershipTerm term = new LeadershipTerm("leaderpod-sample", "me", 7, Instant.now());
        try (LeaderOnlyContext.Scope scope = LeaderOnlyContext.bind(term)) {
            job.settleBatch();
        }
        assertThat(activity.jobRuns()).isEqualTo(1);
        assertThat(activity.recent()).singleElement().satisfies(entry -> {
            assertThat(entry.kind()).isEqualTo(Activity.Kind.JOB);
            assertThat(entry.fencingToken()).isEqualTo(7);
            assertThat(entry.text()).isEqualTo("Job run #1 settled a batch");
        });
    }

    /** Called around the {@code @LeaderOnly} proxy there is no term, and the job does not run without one. */
    @Test
    void refusesToRunOutsideATerm() {
        assertThatIllegalStateException().isThrownBy(job::settleBatch).withMessageContaining("@LeaderOnly");
        assertThat(activity.jobRuns()).isZero();
    }
}
