package dev.leaderpod.sample;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.sample.jobs.BillingJob;
import dev.leaderpod.sample.jobs.IndexJob;
import dev.leaderpod.sample.jobs.ReportJob;
import dev.leaderpod.sample.status.Activity;
import dev.leaderpod.sample.status.Activity.Entry;
import dev.leaderpod.sample.status.Activity.Kind;
import dev.leaderpod.test.TestLeadership;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.client.TestRestTemplate;

/**
 * The sample's leader-only work with the test kit (leader-test): the test grants and revokes leadership, and calls
 * the jobs itself (their schedules are an hour away), so what runs is decided by the test alone — no lease file, no
 * lease duration to wait out, no timing. The kit revokes every election after each test; the counters of the cached
 * context are compared before and after.
 */
@SpringBootTest(
        webEnvironment = WebEnvironment.RANDOM_PORT,
        properties = {
            "sample.job.interval=1h",
            "sample.jobs.billing.interval=1h",
            "sample.jobs.cleanup.interval=1h",
            "sample.jobs.index.interval=1h",
            "sample.worker.interval=1h",
            "sample.job.duration=0ms"
        })
class LeaderOnlyWorkTest {

    @Autowired
    TestLeadership leadership;

    @Autowired
    ReportJob reportJob;

    @Autowired
    BillingJob billingJob;

    @Autowired
    IndexJob indexJob;

    @Autowired
    Activity activity;

    @Autowired
    TestRestTemplate http;

    @Test
    void theJobRunsOnTheLeaderOnlyStampedWithTheTokenOfTheGrantedTerm() {
        long runs = activity.jobRuns();
        reportJob.settleBatch();
        assertThat(activity.jobRuns()).as("a follower's run").isEqualTo(runs);

        long token = leadership.grant().fencingToken();
        reportJob.settleBatch();

        assertThat(activity.jobRuns()).isEqualTo(runs + 1);
        assertThat(entries("", Kind.JOB, token)).hasSize(1);

        leadership.revoke();
        reportJob.settleBatch();
        assertThat(activity.jobRuns()).as("after the revocation").isEqualTo(runs + 1);
    }

    @Test
    void theWorkerStartsWithTheGrantUnderItsTermAndStopsWithTheRevocation() {
        assertThat(activity.workerRunning()).isFalse();

        long token = leadership.grant().fencingToken();

        assertThat(activity.workerRunning()).isTrue();
        assertThat(entries("", Kind.WORKER, token))
                .extracting(Entry::text)
                .containsExactly("Leader-only worker started");
        assertThat(entries("", Kind.GRANTED, token)).hasSize(1);

        leadership.revoke();

        assertThat(activity.workerRunning()).isFalse();
        assertThat(entries("", Kind.REVOKED, token)).hasSize(1);
    }

    @Test
    void eachNamedJobFollowsItsOwnElection() {
        long billing = activity.jobRuns("billing");
        long index = activity.jobRuns("index");
        long token = leadership.grant("billing").fencingToken();

        billingJob.invoiceOpenOrders();
        indexJob.reindexChangedDocuments();

        assertThat(activity.jobRuns("billing")).isEqualTo(billing + 1);
        assertThat(activity.jobRuns("index")).as("index is not granted").isEqualTo(index);
        assertThat(entries("billing", Kind.JOB, token)).hasSize(1);
        assertThat(activity.workerRunning())
                .as("the default election is not granted")
                .isFalse();
    }

    @Test
    void theStatusApiSaysWhoLeads() {
        String identity = leadership.grant().identity();
        long token = leadership.fencingToken();
        assertThat(http.getForObject("/api/summary", String.class))
                .startsWith("leader " + identity + " " + identity + " " + token + " ")
                .endsWith(" leading\n");
        assertThat(http.getForEntity("/actuator/health/leader-only", String.class)
                        .getStatusCode()
                        .value())
                .isEqualTo(200);

        leadership.revoke();

        assertThat(http.getForObject("/api/summary", String.class))
                .startsWith("follower " + identity + " " + TestLeadership.OTHER_CANDIDATE + " " + (token + 1) + " ");
        assertThat(http.getForEntity("/actuator/health/leader-only", String.class)
                        .getStatusCode()
                        .value())
                .isEqualTo(503);
    }

    /** The timeline's entries of {@code kind} in the term of {@code election} whose token is {@code token}. */
    private List<Entry> entries(String election, Kind kind, long token) {
        return activity.recent().stream()
                .filter(entry -> entry.election().equals(election)
                        && entry.kind() == kind
                        && Long.valueOf(token).equals(entry.fencingToken()))
                .toList();
    }
}
