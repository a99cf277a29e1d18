package dev.leaderpod.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import dev.leaderpod.autoconfigure.LeaderElections;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.test.KitTestApplication.Jobs;
import dev.leaderpod.test.KitTestApplication.Journal;
import dev.leaderpod.test.KitTestApplication.ReportsWorker;
import dev.leaderpod.test.KitTestApplication.Worker;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * The kit in a {@code @SpringBootTest}, as an application's test uses it: no annotation, the dependency is enough.
 * What the issue asks of it: calls before a grant are skipped, after it they run with the granted token; a grant
 * and a revocation return once the lifecycle beans, the listeners and the events ran, on the calling thread; a
 * revocation while a call is blocked inside waits for it, and the call sees its term end; named elections on their
 * own; tokens that grow.
 */
@SpringBootTest(classes = KitTestApplication.class, properties = "spring.application.name=kit-app")
class TestLeadershipTest {

    @Autowired
    TestLeadership leadership;

    @Autowired
    LeaderElections elections;

    @Autowired
    Jobs jobs;

    @Autowired
    Worker worker;

    @Autowired
    ReportsWorker reportsWorker;

    @Autowired
    Journal journal;

    private final ExecutorService callers =
            Executors.newSingleThreadExecutor(runnable -> new Thread(runnable, "caller"));

    @BeforeEach
    void clearJournal() {
        journal.clear(); // what the revocations after the previous test wrote
    }

    @AfterEach
    void stopCallers() {
        callers.shutdownNow();
    }

    private LeaseElector elector() {
        return elections.electors().get(LeaderElections.DEFAULT);
    }

    @Test
    void aCallBeforeTheGrantIsSkippedAndAfterItRunsWithTheGrantedToken() {
        assertThat(jobs.run()).as("a follower's call").isNull();
        assertThat(journal.entries()).isEmpty();

        LeadershipTerm term = leadership.grant();

        assertThat(term.identity()).isEqualTo(elector().identity());
        assertThat(term.leaseName()).isEqualTo("kit-app");
        assertThat(jobs.run()).isEqualTo(term.fencingToken());
        assertThat(leadership.fencingToken()).isEqualTo(term.fencingToken());
        assertThat(leadership.term()).contains(term);
        assertThat(elector().isCurrent(term)).isTrue();
    }

    @Test
    void grantReturnsOnceTheLifecycleBeansTheListenersAndTheGrantedEventRanOnTheCallingThread() {
        assertThat(worker.isRunning()).isFalse();

        long token = leadership.grant().fencingToken();

        assertThat(worker.isRunning()).isTrue();
        assertThat(journal.entries())
                .containsExactly("worker started " + token, "listener started " + token, "granted kit-app " + token);
        assertThat(journal.eventThreads())
                .containsExactly(Thread.currentThread().getName());
        assertThat(reportsWorker.isRunning())
                .as("the lifecycle bean of another election")
                .isFalse();
    }

    @Test
    void revokeReturnsOnceTheLifecycleBeansStoppedAndTheRevokedEventRan() {
        long token = leadership.grant().fencingToken();
        journal.clear();

        leadership.revoke();

        assertThat(worker.isRunning()).isFalse();
        assertThat(journal.entries())
                .containsExactly("worker stopped", "listener stopped " + token + " LOST", "revoked kit-app " + token);
        assertThat(journal.eventThreads())
                .containsExactly(Thread.currentThread().getName());
        assertThat(jobs.run()).as("a follower's call").isNull();
        assertThat(leadership.term()).isEmpty();
        assertThat(elector().isLeader()).isFalse();
        assertThat(elector().observedLeader()).contains(TestLeadership.OTHER_CANDIDATE);
    }

    @Test
    void revokingWhileACallIsBlockedInsideEndsTheTermAtOnceAndDrainsTheCallBeforeTheRevokedEvent() throws Exception {
        LeadershipTerm term = leadership.grant();
        long token = term.fencingToken();
        journal.clear();
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        AtomicBoolean currentAtTheEnd = new AtomicBoolean(true);
        Future<Long> call = callers.submit(() -> jobs.runUntil(entered, proceed, currentAtTheEnd));
        assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();

        CompletableFuture<Void> revoked = leadership.revokeAsync();

        // The term is over before revokeAsync returns; the call still runs, so the revocation is not done.
        assertThat(elector().isCurrent(term)).isFalse();
        assertThat(elector().isLeader()).isFalse();
        assertThat(jobs.run()).as("a call started now").isNull();
        assertThat(revoked).isNotDone();
        assertThat(journal.entries()).doesNotContain("revoked kit-app " + token);

        proceed.countDown();

        assertThat(call.get(10, TimeUnit.SECONDS)).isEqualTo(token);
        revoked.get(10, TimeUnit.SECONDS);
        assertThat(currentAtTheEnd)
                .as("isCurrent(term) inside the call, once revoked")
                .isFalse();
        assertThat(journal.entries())
                .contains("worker stopped")
                .containsSubsequence(
                        "blocked call returns", "listener stopped " + token + " LOST", "revoked kit-app " + token);
        assertThat(journal.eventThreads()).doesNotContain(Thread.currentThread().getName());
    }

    @Test
    void everyGrantAfterARevocationHasALargerTokenAndAGrantWhileLeadingKeepsTheTerm() {
        LeadershipTerm first = leadership.grant();
        assertThat(leadership.grant()).as("granted again while leading").isEqualTo(first);
        leadership.revoke();
        long second = leadership.grant().fencingToken();
        leadership.revoke();
        leadership.revoke(); // while not leading: nothing
        long third = leadership.grant().fencingToken();

        assertThat(second).isGreaterThan(first.fencingToken());
        assertThat(third).isGreaterThan(second);
        assertThat(jobs.run()).isEqualTo(third);
    }

    @Test
    void aNamedElectionIsGrantedAndRevokedOnItsOwn() {
        LeadershipTerm reports = leadership.grant("reports");

        assertThat(reports.leaseName()).isEqualTo("kit-app-reports");
        assertThat(journal.entries())
                .containsExactly(
                        "reports worker started " + reports.fencingToken(),
                        "granted reports " + reports.fencingToken());
        assertThat(jobs.report()).isEqualTo(reports.fencingToken());
        assertThat(jobs.run()).as("the default election is not granted").isNull();
        assertThat(leadership.term()).isEmpty();
        assertThat(leadership.fencingToken("reports")).isEqualTo(reports.fencingToken());
        assertThat(reportsWorker.isRunning()).isTrue();
        assertThat(worker.isRunning()).isFalse();

        long token = leadership.grant().fencingToken();
        journal.clear();
        leadership.revoke("reports");

        assertThat(jobs.report()).isNull();
        assertThat(jobs.run()).isEqualTo(token);
        assertThat(reportsWorker.isRunning()).isFalse();
        assertThat(worker.isRunning()).isTrue();
        assertThat(journal.entries())
                .containsExactly("reports worker stopped", "revoked reports " + reports.fencingToken(), "run " + token);
    }

    @Test
    void noThreadOfTheElectionsRunsInThisJvm() {
        leadership.grant();
        leadership.grant("reports");
        leadership.revoke();
        leadership.revokeAsync("reports").join();

        assertThat(Thread.getAllStackTraces().keySet())
                .extracting(Thread::getName)
                .noneMatch(name -> name.startsWith("leader-"));
    }

    @Test
    void anUnknownElectionIsRefusedNamingTheKnownOnes() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> leadership.grant("billing"))
                .withMessageContaining("No election named 'billing'")
                .withMessageContaining("'reports'");
        assertThatIllegalArgumentException().isThrownBy(() -> leadership.revoke("billing"));
    }

    @Test
    void theTokenOfAnElectionNotLedIsRefusedSayingToGrantFirst() {
        assertThatIllegalStateException()
                .isThrownBy(() -> leadership.fencingToken())
                .withMessage("This instance does not lead the election '' (the default): grant it first");
        assertThat(leadership.revokeAsync()).as("nothing to revoke").isCompleted();
    }
}
