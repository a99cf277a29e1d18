package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.core.LeaseStoreException.Kind;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The elector's guarantees (docs/design.md), each as a scenario on an in-memory store with a stepped clock. All
 * candidates run in the test thread; time moves only when the test says so.
 */
class LeaseElectorTest {

    private static final String LEASE = "orders";
    private static final Duration LEASE_DURATION = Duration.ofSeconds(15);
    private static final Duration RENEW_DEADLINE = Duration.ofSeconds(10);
    private static final Duration RETRY = Duration.ofSeconds(2);
    private static final Duration REQUEST_TIMEOUT = RENEW_DEADLINE.dividedBy(2);
    /** Longest follower poll interval: retry period plus 20 % jitter. */
    private static final Duration MAX_POLL = Duration.ofMillis(2400);

    private static final Duration STEP = Duration.ofMillis(100);
    /** How long the creator of a missing lease waits before it confirms and starts its term. */
    private static final Duration CONFIRM = RETRY.multipliedBy(3).dividedBy(2);

    private final ManualTime time = new ManualTime();
    private final InMemoryLeaseStore shared = new InMemoryLeaseStore();
    private final List<Candidate> candidates = new ArrayList<>();

    @AfterEach
    void neverTwoLeaders() {
        assertAtMostOneLeader();
        for (Candidate candidate : candidates) {
            assertThat(candidate.store.failedAssertions())
                    .as("assertions that failed inside %s's store calls", candidate.id)
                    .isEmpty();
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Acquisition; announce after the write

    @Test
    void firstCandidateCreatesTheLeaseAndIsAnnouncedAfterTheWrite() {
        Candidate a = candidate("a").start();

        assertThat(a.elector.isLeader()).isTrue();
        assertThat(a.events).containsExactly("granted:0");
        assertThat(a.holderSeenByListener).containsExactly("a");
        LeaseRecord record = shared.get(LEASE).orElseThrow().record();
        assertThat(record.holderIdentity()).isEqualTo("a");
        assertThat(record.leaseDuration()).isEqualTo(LEASE_DURATION);
        assertThat(record.leaseTransitions()).isZero();
    }

    @Test
    void writeWhoseResponseIsLostIsNotAnnouncedAndTheNextTermGetsANewToken() {
        Candidate a = candidate("a", Duration.ZERO, false);
        a.store.loseResponseOfNextWrites(1);
        a.start();

        assertThat(shared.get(LEASE).orElseThrow().record().holderIdentity()).isEqualTo("a");
        assertThat(a.elector.isLeader()).isFalse();
        assertThat(a.events).isEmpty();

        time.advance(MAX_POLL);
        assertThat(a.elector.isLeader()).isTrue();
        assertThat(a.events).containsExactly("granted:1");
    }

    @Test
    void listenersRunOnTheEventExecutorNeverOnTheElectionExecutor() {
        Candidate a = candidate("a").start();
        a.elector.stop(Duration.ofSeconds(5));

        assertThat(a.events).containsExactly("granted:0", "revoked:SHUTDOWN");
        assertThat(a.listenerExecutors).containsOnly("events-a");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Expiry by local observation

    @ParameterizedTest(name = "wall clock offset {0} h")
    @ValueSource(ints = {5, -5})
    void followerDoesNotAcquireWhileLeaseIsHeldAndUnexpiredWhateverItsWallClockSays(int offsetHours) {
        shared.create(LEASE, new LeaseRecord("ghost", LEASE_DURATION, wall(), wall(), 3L));
        Candidate b = candidate("b", Duration.ofHours(offsetHours), false).start();

        time.advance(LEASE_DURATION.minus(STEP));
        assertThat(b.elector.isLeader()).isFalse();
        assertThat(b.events).isEmpty();

        time.advance(MAX_POLL.plus(STEP));
        assertThat(b.elector.isLeader()).isTrue();
        assertThat(b.events).containsExactly("granted:4");
    }

    @Test
    void followerRestartsItsExpiryWheneverItSeesTheLeaseChange() {
        Candidate a = candidate("a", Duration.ofHours(-3), false).start();
        Candidate b = candidate("b", Duration.ofHours(3), false).start();

        for (int i = 0; i < 600; i++) {
            time.advance(STEP);
            assertAtMostOneLeader();
        }
        assertThat(a.elector.isLeader()).isTrue();
        assertThat(b.events).isEmpty();
    }

    @ParameterizedTest(name = "leaseDurationSeconds {0}")
    @ValueSource(ints = {0, -5, Integer.MIN_VALUE})
    void leaseWithMissingOrNonPositiveDurationIsWaitedOutWithOurOwnDuration(int seconds) {
        Duration duration = seconds == Integer.MIN_VALUE ? null : Duration.ofSeconds(seconds);
        shared.create(LEASE, new LeaseRecord("foreign-controller", duration, null, null, null));
        Candidate b = candidate("b", Duration.ZERO, false).start();

        time.advance(LEASE_DURATION.minus(STEP));
        assertThat(b.elector.isLeader()).isFalse();
        time.advance(MAX_POLL.plus(STEP));
        assertThat(b.elector.isLeader()).isTrue();
        assertThat(b.events).containsExactly("granted:1");
    }

    @Test
    void leaseWithNoHolderThatItsHolderDidNotReleaseIsWaitedOut() {
        // An empty spec (kubectl create) or a holder cleared by hand is no proof that the last holder stopped leading:
        // only a release (no holder, duration 1 s) is taken at once.
        shared.create(LEASE, new LeaseRecord(null, null, null, null, null));
        Candidate b = candidate("b").start();

        assertThat(b.elector.isLeader()).isFalse();
        time.advance(LEASE_DURATION.minus(STEP));
        assertThat(b.elector.isLeader()).isFalse();
        time.advance(STEP);
        assertThat(b.elector.isLeader()).isTrue();
        assertThat(b.events).containsExactly("granted:1");
    }

    @Test
    void releasedLeaseIsAcquiredAtOnce() {
        shared.create(LEASE, new LeaseRecord("", Duration.ofSeconds(1), wall(), wall(), 4L));
        Candidate b = candidate("b").start();

        assertThat(b.elector.isLeader()).isTrue();
        assertThat(b.events).containsExactly("granted:5");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Step down before anyone can take over

    @Test
    void leaderWhoseRenewCallsHangStopsLeadingAtTheDeadlineBeforeAnyoneCanTakeOver() {
        Candidate a = candidate("a", Duration.ZERO, false).start();
        Candidate b = candidate("b", Duration.ZERO, false).start();
        time.advance(Duration.ofSeconds(5));
        long lastRenewSent = lastSuccessfulRenewOf(a);

        List<Long> aLeaderAt = new ArrayList<>();
        List<Long> bLeaderFrom = new ArrayList<>();
        List<long[]> stuck = new ArrayList<>();
        Runnable sample = () -> {
            assertAtMostOneLeader();
            if (a.elector.isLeader()) {
                aLeaderAt.add(time.nanoTime());
            }
            if (b.elector.isLeader() && bLeaderFrom.isEmpty()) {
                bLeaderFrom.add(time.nanoTime());
            }
        };
        a.store.beforeWrite(() -> {
            // Every renew of a hangs for the whole request timeout, then times out; meanwhile the I/O thread running
            // it is stuck and everything else goes on.
            long from = time.nanoTime();
            for (int i = 0; i < REQUEST_TIMEOUT.dividedBy(STEP); i++) {
                time.advanceExcept(STEP, "io-a");
                sample.run();
            }
            stuck.add(new long[] {from, time.nanoTime()});
            throw new LeaseStoreException(Kind.TIMEOUT, "hung");
        });
        for (int i = 0; i < 300; i++) {
            time.advance(STEP);
            sample.run();
        }

        long deadline = lastRenewSent + RENEW_DEADLINE.toNanos();
        long aLast = aLeaderAt.get(aLeaderAt.size() - 1);
        assertThat(aLast).isLessThan(deadline).isGreaterThanOrEqualTo(deadline - STEP.toNanos());
        assertThat(a.events).containsExactly("granted:0", "revoked:DEADLINE_PASSED");
        long revokedAt = a.revokedAt.get(0);
        assertThat(revokedAt).isBetween(deadline, deadline + STEP.toNanos());
        // ... published on time while a renew that outlived the deadline was stuck.
        assertThat(stuck).anyMatch(window -> window[0] < revokedAt && revokedAt < window[1]);
        assertThat(bLeaderFrom.get(0)).isGreaterThanOrEqualTo(lastRenewSent + LEASE_DURATION.toNanos());
        assertThat(b.events).containsExactly("granted:1");
    }

    @Test
    void isLeaderTurnsFalseAtTheDeadlineEvenWhenNoThreadOfTheElectorRuns() {
        Candidate a = candidate("a").start();
        long deadline = lastSuccessfulRenewOf(a) + RENEW_DEADLINE.toNanos();
        List<Boolean> leaderJustBefore = new ArrayList<>();
        List<Boolean> leaderAtDeadline = new ArrayList<>();
        List<Boolean> termAtDeadline = new ArrayList<>();
        List<List<String>> eventsAtDeadline = new ArrayList<>();
        a.store.beforeWrite(() -> {
            // The election, event and I/O threads are all frozen: no timer fires and no event is delivered, yet the
            // answer must change at the deadline. (Values are captured here and asserted below: a failure inside a
            // store call would only look like a store failure to the elector.)
            time.advanceExcept(Duration.ofNanos(deadline - time.nanoTime() - 1), "election-a", "events-a", "io-a");
            leaderJustBefore.add(a.elector.isLeader());
            time.advanceExcept(Duration.ofNanos(1), "election-a", "events-a", "io-a");
            leaderAtDeadline.add(a.elector.isLeader());
            termAtDeadline.add(a.elector.currentTerm().isPresent());
            eventsAtDeadline.add(List.copyOf(a.events));
            throw new LeaseStoreException(Kind.TIMEOUT, "hung");
        });

        time.advance(RETRY);

        assertThat(leaderJustBefore).containsExactly(true);
        assertThat(leaderAtDeadline).containsExactly(false);
        assertThat(termAtDeadline).containsExactly(false);
        assertThat(eventsAtDeadline).containsExactly(List.of("granted:0"));
        assertThat(a.events).containsExactly("granted:0", "revoked:DEADLINE_PASSED");
    }

    @Test
    void leaderThatCannotReachTheStoreStepsDownAtTheDeadline() {
        Candidate a = candidate("a").start();
        long lastRenewSent = lastSuccessfulRenewOf(a);
        a.store.failAll(Kind.UNAVAILABLE);

        time.advance(RENEW_DEADLINE.minus(STEP));
        assertThat(a.elector.isLeader()).isTrue();
        time.advance(STEP);
        assertThat(time.nanoTime()).isEqualTo(lastRenewSent + RENEW_DEADLINE.toNanos());
        assertThat(a.elector.isLeader()).isFalse();
        assertThat(a.elector.currentTerm()).isEmpty();
        assertThat(a.events).containsExactly("granted:0", "revoked:DEADLINE_PASSED");
    }

    // ---------------------------------------------------------------------------------------------------------
    // One write per renew

    @Test
    void leaderRenewsWithOneWritePerRetryPeriodAndNoReads() {
        Candidate a = candidate("a").start();
        a.store.resetCounts();

        time.advance(Duration.ofSeconds(20));

        assertThat(a.store.calls("update")).isEqualTo(10);
        assertThat(a.store.totalCalls()).isEqualTo(10);
    }

    @Test
    void conflictOnRenewTriggersOneReadNotALoss() {
        Candidate a = candidate("a").start();
        VersionedLease current = shared.get(LEASE).orElseThrow();
        shared.update(LEASE, current.record(), current.version()); // e.g. someone annotated the Lease
        a.store.resetCounts();

        time.advance(RETRY);

        assertThat(a.elector.isLeader()).isTrue();
        assertThat(a.events).containsExactly("granted:0");
        assertThat(a.store.calls("update")).isEqualTo(2);
        assertThat(a.store.calls("get")).isEqualTo(1);
    }

    @Test
    void leaderThatFindsAnotherHolderStepsDownAsLost() {
        Candidate a = candidate("a").start();
        VersionedLease current = shared.get(LEASE).orElseThrow();
        shared.update(LEASE, new LeaseRecord("intruder", LEASE_DURATION, wall(), wall(), 7L), current.version());

        time.advance(RETRY);

        assertThat(a.elector.isLeader()).isFalse();
        assertThat(a.events).containsExactly("granted:0", "revoked:LOST");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Watch to be fast, poll to be right

    @Test
    void followerWithHealthyWatchSendsNoRequestsAtSteadyState() {
        Candidate a = candidate("a").start();
        Candidate b = candidate("b").start();
        a.store.resetCounts();
        b.store.resetCounts();

        time.advance(Duration.ofSeconds(60));

        assertThat(b.store.totalCalls()).isZero();
        assertThat(a.store.totalCalls()).isEqualTo(30);
        assertThat(a.elector.isLeader()).isTrue();
    }

    @Test
    void watchingFollowerTakesOverTheMomentTheLeaderReleases() {
        Candidate a = candidate("a").start();
        Candidate b = candidate("b").start();
        time.advance(Duration.ofSeconds(7));
        long stoppedAt = time.nanoTime();

        a.elector.stop(Duration.ofSeconds(5));
        time.runDue();

        assertThat(b.elector.isLeader()).isTrue();
        assertThat(b.grantedAt).containsExactly(stoppedAt);
        assertThat(b.events).containsExactly("granted:1");
    }

    @Test
    void brokenWatchFallsBackToPollingAndIsReestablished() {
        Candidate a = candidate("a").start();
        Candidate b = candidate("b").start();
        b.store.resetCounts();

        shared.breakWatches(new IOException("connection reset"));
        time.advance(Duration.ofSeconds(5));

        assertThat(b.store.calls("get")).isGreaterThanOrEqualTo(1);
        assertThat(b.store.calls("watch")).isEqualTo(1);
        assertThat(b.elector.snapshot().watching()).isTrue();
        b.store.resetCounts();
        time.advance(Duration.ofSeconds(30));
        assertThat(b.store.totalCalls()).isZero();
        assertThat(a.elector.isLeader()).isTrue();
    }

    @Test
    void followerWhoseWatchSilentlyStoppedReadsWhenTheRenewsStopArrivingAndRestartsTheWatch() {
        Candidate a = candidate("a").start();
        Candidate b = candidate("b").start();
        b.store.deliverWatchEvents(false); // a watch that silently stopped delivering
        b.store.resetCounts();

        for (int i = 0; i < 200; i++) {
            time.advance(STEP);
            assertAtMostOneLeader();
        }

        assertThat(b.store.calls("get")).isGreaterThanOrEqualTo(1); // it noticed the silence and read
        assertThat(b.store.calls("watch")).isGreaterThanOrEqualTo(1); // and restarted the watch that missed renews
        assertThat(b.store.calls("update")).isZero(); // so it never tried a takeover on a stale version
        assertThat(b.events).isEmpty();
        assertThat(a.elector.isLeader()).isTrue();
        assertThat(a.events).containsExactly("granted:0");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Ordered graceful shutdown

    @Test
    void stopRevokesThenReleasesAndAPollingFollowerAcquiresOnItsNextAttempt() {
        Candidate a = candidate("a").start();
        Candidate b = candidate("b", Duration.ZERO, false).start();
        time.advance(Duration.ofSeconds(3));

        a.elector.stop(Duration.ofSeconds(5));

        assertThat(a.events).containsExactly("granted:0", "revoked:SHUTDOWN");
        assertThat(a.holderSeenByListener).containsExactly("a", "a"); // revoked while still holder
        LeaseRecord released = shared.get(LEASE).orElseThrow().record();
        assertThat(released.isHeld()).isFalse();
        assertThat(released.leaseDuration()).isEqualTo(Duration.ofSeconds(1));
        assertThat(released.leaseTransitions()).isZero();

        time.advance(MAX_POLL);
        assertThat(b.elector.isLeader()).isTrue();
        assertThat(b.events).containsExactly("granted:1");
    }

    @Test
    void yieldReleasesAndDoesNotTakeLeadershipBackForOneLeaseDuration() {
        Candidate a = candidate("a").start();

        a.elector.yieldLeadership();
        time.runDue();
        assertThat(a.events).containsExactly("granted:0", "revoked:YIELDED");
        assertThat(shared.get(LEASE).orElseThrow().record().isHeld()).isFalse();

        time.advance(LEASE_DURATION.minus(STEP));
        assertThat(a.elector.isLeader()).isFalse();
        time.advance(STEP.multipliedBy(2));
        assertThat(a.elector.isLeader()).isTrue();
        assertThat(a.events).containsExactly("granted:0", "revoked:YIELDED", "granted:1");
    }

    @Test
    void yieldHandsOverToAWatchingFollowerAtOnce() {
        Candidate a = candidate("a").start();
        Candidate b = candidate("b").start();

        a.elector.yieldLeadership();
        time.runDue();

        assertThat(b.events).containsExactly("granted:1");
        assertThat(a.elector.isLeader()).isFalse();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Hand-over to a successor; patience (docs/design.md, "Hand-over to a successor", "Spreading elections")

    @Test
    void aYieldToASuccessorHandsOverToItWhileOtherFollowersLetItGo() {
        Candidate a = candidate("a").start();
        Candidate b = candidate("b").start();
        Candidate c = candidate("c").start();

        a.elector.yieldLeadership("c");
        time.runDue();

        assertThat(c.events).containsExactly("granted:1");
        assertThat(b.events).isEmpty();
        assertThat(b.store.calls("update")).as("b never raced the successor").isZero();
        assertThat(shared.get(LEASE).orElseThrow().record().successor())
                .as("a new term names no successor")
                .isNull();
    }

    @Test
    void aCandidateHoldingOffAfterAYieldStillTakesALeaseHandedToIt() {
        Candidate a = candidate("a").start();
        Candidate b = candidate("b").start();
        a.elector.yieldLeadership("b");
        time.runDue();
        assertThat(b.elector.isLeader()).isTrue();

        b.elector.yieldLeadership("a"); // a still holds off after its own yield
        time.runDue();

        assertThat(a.events).containsExactly("granted:0", "revoked:YIELDED", "granted:2");
    }

    @Test
    void aYielderTakesBackAReleaseItsSuccessorDidNotTakeInItsTurnRatherThanHoldOff() {
        Candidate a = candidate("a").start();
        long yieldedAt = time.nanoTime();

        a.elector.yieldLeadership("gone-away"); // a successor that died after it was chosen
        time.runDue();
        assertThat(a.elector.isLeader()).isFalse();
        time.advanceUntil(a.elector::isLeader, STEP, LEASE_DURATION);

        assertThat(a.events).containsExactly("granted:0", "revoked:YIELDED", "granted:1");
        assertThat(Duration.ofNanos(time.nanoTime() - yieldedAt))
                .as("the successor's turn, not the lease duration of the hold-off")
                .isBetween(RETRY.multipliedBy(2), RETRY.multipliedBy(2).plus(STEP));
    }

    @Test
    void theReleaseNamesTheSuccessorAndOthersWaitTwoRetryPeriodsForIt() {
        Candidate a = candidate("a").start();
        Candidate b = candidate("b").start();

        a.elector.yieldLeadership("gone-away");
        time.runDue();
        LeaseRecord released = shared.get(LEASE).orElseThrow().record();
        assertThat(released.isHeld()).isFalse();
        assertThat(released.successor()).isEqualTo("gone-away");

        time.advance(RETRY.multipliedBy(2).minus(STEP));
        assertThat(b.elector.isLeader()).as("still the successor's turn").isFalse();
        time.advance(STEP.multipliedBy(2));
        assertThat(b.events).containsExactly("granted:1");
    }

    /**
     * The leader's last renew reached the store but its answer did not reach the leader (lost, or still on its way)
     * when it yields: its release, written on top of the version it knows, conflicts with its own renew. It must
     * release that very term anyway, as {@code stop()} does, rather than leave the lease held — with no leader until
     * it expires, the successor never getting it. Found by {@code it.SpreadingKubernetesTest}, where a move yielded
     * while a renew was in flight.
     */
    @Test
    void aYieldRightAfterARenewWhoseAnswerWasLostStillHandsTheLeaseOver() {
        Candidate a = candidate("a").start();
        Candidate b = candidate("b").start();
        assertThat(a.elector.isLeader()).isTrue();
        int updates = a.store.calls("update");
        a.store.loseResponseOfNextWrites(1);
        assertThat(time.advanceUntil(() -> a.store.calls("update") > updates, STEP, RETRY.multipliedBy(2)))
                .isTrue();
        assertThat(a.elector.isLeader()).as("still within its renew deadline").isTrue();

        a.elector.yieldLeadership("b");
        time.advance(STEP);

        assertThat(a.events).containsExactly("granted:0", "revoked:YIELDED");
        assertThat(b.events).as("the successor took the lease at once").containsExactly("granted:1");
        assertThat(shared.get(LEASE).orElseThrow().record().holderIdentity()).isEqualTo("b");
    }

    @Test
    void stopHandsTheLeaseToTheCandidacysSuccessor() {
        Candidate a = candidate(
                        "a",
                        Duration.ZERO,
                        true,
                        builder -> builder.candidacy(new Candidacy() {
                            @Override
                            public String successor(String leaseName) {
                                return "c";
                            }
                        }))
                .start();
        Candidate b = candidate("b").start();
        Candidate c = candidate("c").start();

        a.elector.stop(Duration.ofSeconds(5));
        time.runDue();

        assertThat(c.events).containsExactly("granted:1");
        assertThat(b.events).isEmpty();
    }

    @ParameterizedTest(name = "the first follower is patient: {0}")
    @ValueSource(booleans = {true, false})
    void theLessPatientCandidateTakesAnExpiredLeaseFirst(boolean firstIsPatient) {
        Candidate a = candidate("a").start();
        Candidate first = candidate(
                        "b",
                        Duration.ZERO,
                        true,
                        builder -> builder.candidacy(firstIsPatient ? patience(RETRY) : Candidacy.EAGER))
                .start();
        Candidate second = candidate(
                        "c",
                        Duration.ZERO,
                        true,
                        builder -> builder.candidacy(firstIsPatient ? Candidacy.EAGER : patience(RETRY)))
                .start();
        Candidate eager = firstIsPatient ? second : first;
        Candidate patient = firstIsPatient ? first : second;

        a.store.failAll(Kind.UNAVAILABLE); // a crashes, as far as the others can tell
        time.advanceUntil(() -> eager.elector.isLeader() || patient.elector.isLeader(), STEP, Duration.ofSeconds(30));

        assertThat(eager.elector.isLeader()).isTrue();
        assertThat(patient.events).isEmpty();
    }

    @Test
    void patienceOnlyDelaysATakeover() {
        Candidate a = candidate("a").start();
        Candidate patient = candidate("patient", Duration.ZERO, true, builder -> builder.candidacy(patience(RETRY)));
        patient.start();

        a.store.failAll(Kind.UNAVAILABLE);
        long lastRenew = lastSuccessfulRenewOf(a); // the patient saw it through its watch at once
        time.advanceUntil(patient.elector::isLeader, STEP, Duration.ofSeconds(60));

        assertThat(patient.elector.isLeader()).isTrue();
        assertThat(Duration.ofNanos(time.nanoTime() - lastRenew))
                .as("expiry, then the patience, then at most one step of the test's clock")
                .isBetween(
                        LEASE_DURATION.plus(RETRY), LEASE_DURATION.plus(RETRY).plus(STEP));
    }

    private static Candidacy patience(Duration patience) {
        return new Candidacy() {
            @Override
            public Duration patience() {
                return patience;
            }
        };
    }

    // ---------------------------------------------------------------------------------------------------------
    // Nothing but stop ends the election; fencing tokens strictly increase

    @Test
    void candidateThatLostLeadershipReentersAndLeadsAgainWithGreaterTokens() {
        Candidate a = candidate("a", Duration.ZERO, false).start();
        Candidate b = candidate("b", Duration.ZERO, false).start();

        a.store.failAll(Kind.UNAVAILABLE);
        time.advanceUntil(b.elector::isLeader, STEP, Duration.ofSeconds(30));
        a.store.heal();
        time.advance(Duration.ofSeconds(10));
        b.elector.stop(Duration.ofSeconds(5));
        time.advance(Duration.ofSeconds(30)); // a polls with back-off after its failures

        assertThat(a.elector.isLeader()).isTrue();
        assertThat(a.events).containsExactly("granted:0", "revoked:DEADLINE_PASSED", "granted:2");
        assertThat(b.events).containsExactly("granted:1", "revoked:SHUTDOWN");
    }

    @Test
    void forbiddenAndUnexpectedErrorsBackOffAndNeverEndTheElection() {
        Candidate a = candidate("a", Duration.ZERO, false);
        a.store.failAll(Kind.FORBIDDEN);
        a.start();

        time.advance(Duration.ofSeconds(120));
        int attempts = a.store.totalCalls();
        // Back-off doubles from 2 s to a cap of lease duration - renew deadline = 5 s (+ up to 20 % jitter):
        // 2, 4, 5, 5, ... = 2 + 4 + 5 s x 19..23 (polling every 2 s, 60 attempts, would break this bound)
        assertThat(attempts).isBetween(20, 26);
        assertThat(a.elector.snapshot().lastFailure()).contains(Kind.FORBIDDEN);

        a.store.heal();
        a.store.beforeWrite(new Runnable() {
            boolean thrown;

            @Override
            public void run() {
                if (!thrown) {
                    thrown = true;
                    throw new IllegalStateException("a bug in a store");
                }
            }
        });
        time.advance(Duration.ofSeconds(15)); // two attempts at the capped back-off
        assertThat(a.elector.isLeader()).isTrue();
        assertThat(a.elector.snapshot().consecutiveFailures()).isZero();
    }

    @Test
    void fencingTokensOfSuccessiveTermsStrictlyIncrease() {
        Candidate a = candidate("a").start();
        Candidate b = candidate("b").start();
        Candidate c = candidate("c").start();
        List<Long> tokens = new ArrayList<>();
        for (int round = 0; round < 6; round++) {
            Candidate leader = candidates.stream()
                    .filter(x -> x.elector.isLeader())
                    .findFirst()
                    .orElseThrow();
            tokens.add(leader.elector.currentTerm().orElseThrow().fencingToken());
            leader.elector.yieldLeadership();
            time.runDue();
            time.advanceUntil(
                    () -> candidates.stream().anyMatch(x -> x.elector.isLeader()), STEP, Duration.ofSeconds(20));
        }
        assertThat(tokens).isSorted().doesNotHaveDuplicates().hasSize(6);
        assertThat(Stream.of(a, b, c).mapToLong(x -> x.events.size())).allMatch(n -> n >= 2);
    }

    @Test
    void leaseDeletedAndCreatedAgainKeepsFencingTokensGrowing() {
        Candidate a = candidate("a").start();
        Candidate b = candidate("b").start();
        a.elector.yieldLeadership();
        time.runDue();
        assertThat(b.events).containsExactly("granted:1");

        shared.delete(LEASE); // an operator deletes the Lease
        time.runDue();
        assertThat(b.events).containsExactly("granted:1", "revoked:RELEASED");
        // Nobody creates it again before it has been absent for a lease duration: its last holder may still lead.
        time.advance(LEASE_DURATION.minus(STEP));
        assertThat(candidates).noneMatch(c -> c.elector.isLeader());
        time.advance(CONFIRM.plus(STEP.multipliedBy(2)));

        assertThat(Stream.of(a, b).flatMap(c -> c.events.stream())).containsOnlyOnce("granted:2");
        assertThat(shared.get(LEASE).orElseThrow().record().leaseTransitions()).isEqualTo(2);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Faults the first release was not written for (docs/design.md, "Bounded store calls" and the guarantees after)

    @Test
    void leaderWhoseRenewNeverAnswersIsRevokedOnTimeAndStaysInTheElection() {
        Candidate a = candidate("a").start();
        Candidate b = candidate("b").start();
        time.advance(Duration.ofSeconds(5));
        long deadline = lastSuccessfulRenewOf(a) + RENEW_DEADLINE.toNanos();
        List<Long> aLeaderAt = new ArrayList<>();
        a.store.beforeWrite(() -> {
            a.store.beforeWrite(() -> {});
            // A response that sends its headers and then nothing: the I/O thread stays stuck for a minute.
            for (int i = 0; i < 600; i++) {
                time.advanceExcept(STEP, "io-a");
                assertAtMostOneLeader();
                if (a.elector.isLeader()) {
                    aLeaderAt.add(time.nanoTime());
                }
            }
            throw new LeaseStoreException(Kind.TIMEOUT, "a minute later");
        });

        time.advance(RETRY);

        assertThat(aLeaderAt).allMatch(at -> at < deadline);
        assertThat(a.events).startsWith("granted:0", "revoked:DEADLINE_PASSED");
        assertThat(a.revokedAt.get(0)).isBetween(deadline, deadline + STEP.toNanos());
        assertThat(b.events).containsExactly("granted:1");
        assertThat(a.elector.snapshot().observedHolder()).contains("b"); // a follows the new leader
        assertThat(a.elector.isRunning()).isTrue();
    }

    @Test
    void leaderWhoseReadAfterAConflictHangsIsRevokedOnTime() {
        Candidate a = candidate("a", Duration.ZERO, false).start();
        time.advance(Duration.ofSeconds(3));
        long deadline = lastSuccessfulRenewOf(a) + RENEW_DEADLINE.toNanos();
        VersionedLease current = shared.get(LEASE).orElseThrow();
        shared.update(LEASE, current.record(), current.version()); // someone touches the Lease: the renew conflicts
        a.store.beforeGet(() -> {
            a.store.beforeGet(() -> {});
            time.advanceExcept(Duration.ofSeconds(30), "io-a"); // ... and the read after the conflict hangs
            throw new LeaseStoreException(Kind.TIMEOUT, "hung read");
        });

        time.advance(RETRY);

        assertThat(a.events).startsWith("granted:0", "revoked:DEADLINE_PASSED");
        assertThat(a.revokedAt.get(0)).isBetween(deadline, deadline + STEP.toNanos());
    }

    @Test
    void aThirdPartyShorteningTheDurationDoesNotShortenTheWait() {
        Candidate a = candidate("a").start();
        Candidate b = candidate("b", Duration.ZERO, false).start();
        time.advance(Duration.ofSeconds(3));
        a.store.failAll(Kind.UNAVAILABLE); // a is cut off from the API server but still leads until its deadline
        long lastRenewSent = lastSuccessfulRenewOf(a);
        VersionedLease current = shared.get(LEASE).orElseThrow();
        LeaseRecord record = current.record();
        shared.update(
                LEASE,
                new LeaseRecord(
                        record.holderIdentity(),
                        Duration.ofSeconds(1), // kubectl edit: leaseDurationSeconds: 1
                        record.acquireTime(),
                        record.renewTime(),
                        record.leaseTransitions()),
                current.version());
        long editedAt = time.nanoTime();

        for (int i = 0; i < 300; i++) {
            time.advance(STEP);
            assertAtMostOneLeader();
        }

        assertThat(a.revokedAt.get(0)).isLessThanOrEqualTo(lastRenewSent + RENEW_DEADLINE.toNanos() + STEP.toNanos());
        assertThat(b.grantedAt.get(0)).isGreaterThanOrEqualTo(editedAt + LEASE_DURATION.toNanos());
    }

    @ParameterizedTest(name = "follower watches: {0}")
    @ValueSource(booleans = {true, false})
    void aDeletedLeaseIsNotCreatedAgainWhileItsHolderMayStillLead(boolean watch) {
        Candidate a = candidate("a").start();
        Candidate b = candidate("b", Duration.ZERO, watch).start();
        time.advance(Duration.ofSeconds(3));
        a.store.failAll(Kind.UNAVAILABLE); // cut off: it cannot see the deletion and leads until its deadline
        long lastRenewSent = lastSuccessfulRenewOf(a);

        shared.delete(LEASE);
        long deletedAt = time.nanoTime();
        Candidate c = candidate("c", Duration.ZERO, watch).start(); // a pod starting now
        for (int i = 0; i < 300; i++) {
            time.advance(STEP);
            assertAtMostOneLeader();
        }

        assertThat(a.revokedAt.get(0)).isLessThanOrEqualTo(lastRenewSent + RENEW_DEADLINE.toNanos() + STEP.toNanos());
        long firstGrant = Stream.of(b, c)
                .flatMap(x -> x.grantedAt.stream())
                .min(Long::compare)
                .orElseThrow();
        // The cost: one lease duration (plus a poll) with no leader after a deletion: the lease is created again at
        // once
        // (within a poll), and its creator holds it a lease duration before it leads.
        assertThat(firstGrant)
                .isBetween(
                        deletedAt + LEASE_DURATION.toNanos(),
                        deletedAt + LEASE_DURATION.plus(MAX_POLL).plus(STEP).toNanos());
        // Only a candidate that saw the deleted lease continues its tokens; c joined after the deletion.
        Candidate creator = b.grantedAt.contains(firstGrant) ? b : c;
        assertThat(shared.get(LEASE).orElseThrow().record().leaseTransitions()).isEqualTo(creator == b ? 1 : 0);
    }

    /**
     * A candidate holding a lease it created after a deletion (before its term starts) that stops must not release it:
     * a follower would take the release at once, while the holder of the deleted lease may still lead.
     */
    @Test
    void aCandidateStoppingWhileItHoldsALeaseItCreatedDoesNotReleaseIt() {
        Candidate a = candidate("a").start();
        Candidate b = candidate("b").start();
        Candidate c = candidate("c").start();
        time.advance(Duration.ofSeconds(3));
        a.store.failAll(Kind.UNAVAILABLE); // cut off: it cannot see the deletion and leads until its deadline
        long lastRenewSent = lastSuccessfulRenewOf(a);
        shared.delete(LEASE);
        assertThat(time.advanceUntil(() -> shared.get(LEASE).isPresent(), STEP, MAX_POLL.plus(STEP)))
                .as("created again at once, and held")
                .isTrue();
        Candidate creator = shared.get(LEASE).orElseThrow().record().isHeldBy("b") ? b : c;
        Candidate other = creator == b ? c : b;

        creator.elector.stop(Duration.ofSeconds(5));
        time.runDue();
        for (int i = 0; i < 20 && time.nanoTime() < lastRenewSent + RENEW_DEADLINE.toNanos(); i++) {
            time.advance(STEP);
            assertAtMostOneLeader();
        }

        assertThat(other.grantedAt)
                .as("nobody leads before the cut-off holder's deadline")
                .allSatisfy(at -> assertThat(at).isGreaterThan(lastRenewSent + RENEW_DEADLINE.toNanos()));
        assertThat(shared.get(LEASE).orElseThrow().record().isHeld())
                .as("the held lease was not released")
                .isTrue();
    }

    @Test
    void aLeaseDeletedAgainRightAfterItWasCreatedAgainMakesNoSecondLeader() {
        // Polling candidates cannot see a lease that lives between two of their polls: for one of them the lease looks
        // absent all along. The creator confirms its term before starting it, by which time the earlier creator, whose
        // renew finds its lease gone, has stepped down.
        List<Candidate> polling = new ArrayList<>();
        for (String id : List.of("a", "b", "c")) {
            polling.add(candidate(id, Duration.ZERO, false).start());
        }
        time.advance(Duration.ofSeconds(3));
        for (int deletion = 0; deletion < 6; deletion++) {
            shared.delete(LEASE);
            assertThat(time.advanceUntil(
                            () -> shared.get(LEASE).isPresent(), Duration.ofMillis(10), Duration.ofSeconds(40)))
                    .isTrue();
            for (int i = 0; i < 40 * deletion; i++) { // let the new lease live a little longer each time
                time.advance(Duration.ofMillis(100));
                assertAtMostOneLeader();
            }
        }
        shared.delete(LEASE);
        for (int i = 0; i < 600; i++) {
            time.advance(STEP);
            assertAtMostOneLeader();
        }

        assertThat(polling).anyMatch(x -> x.elector.isLeader());
    }

    @Test
    void fencingTokensStrictlyIncreaseWhenAThirdPartyResetsTheTransitions() {
        Candidate a = candidate("a").start();
        Candidate b = candidate("b").start();
        List<Long> tokens = new ArrayList<>();
        for (int round = 0; round < 4; round++) {
            Candidate leader = Stream.of(a, b)
                    .filter(x -> x.elector.isLeader())
                    .findFirst()
                    .orElseThrow();
            tokens.add(leader.elector.currentTerm().orElseThrow().fencingToken());
            // kubectl edit: leaseTransitions: 0, on the record the leader renews
            VersionedLease current = shared.get(LEASE).orElseThrow();
            LeaseRecord record = current.record();
            shared.update(
                    LEASE,
                    new LeaseRecord(
                            record.holderIdentity(),
                            record.leaseDuration(),
                            record.acquireTime(),
                            record.renewTime(),
                            0L,
                            record.application()),
                    current.version());
            time.advance(RETRY);
            leader.elector.yieldLeadership();
            time.runDue();
            time.advanceUntil(() -> Stream.of(a, b).anyMatch(x -> x.elector.isLeader()), STEP, Duration.ofSeconds(20));
        }

        assertThat(tokens).isSorted().doesNotHaveDuplicates().hasSize(4);
        assertThat(shared.get(LEASE).orElseThrow().record().leaseTransitions()).isGreaterThan(tokens.get(3));
    }

    @Test
    void aLeaderThatCrashesAfterTheFollowersWatchDiedSilentlyIsReplacedWithinLeaseDurationPlusRetryPeriod() {
        Candidate a = candidate("a").start();
        Candidate b = candidate("b").start();
        time.advance(Duration.ofSeconds(3));
        b.store.deliverWatchEvents(false); // b's watch goes silent without closing
        time.advance(Duration.ofMillis(1500));
        a.store.failAll(Kind.UNAVAILABLE); // then a crashes: nothing it sends arrives any more
        long lastRenewSent = lastSuccessfulRenewOf(a);

        assertThat(time.advanceUntil(b.elector::isLeader, STEP, Duration.ofSeconds(60)))
                .isTrue();

        long leaderless = b.grantedAt.get(0) - lastRenewSent;
        assertThat(Duration.ofNanos(leaderless))
                .isLessThanOrEqualTo(LEASE_DURATION.plus(MAX_POLL).plus(STEP));
    }

    @Test
    void anErrorThrownByTheStoreDoesNotEndTheElection() {
        Candidate a = candidate("a", Duration.ZERO, false);
        a.store.beforeWrite(() -> {
            a.store.beforeWrite(() -> {});
            throw new StackOverflowError("a store bug");
        });
        a.start();
        assertThat(a.elector.isLeader()).isFalse();

        time.advance(MAX_POLL.plus(STEP));

        assertThat(a.elector.isLeader()).isTrue();
        assertThat(a.elector.snapshot().lastFailure()).contains(Kind.OTHER);
    }

    @Test
    void anErrorThrownByAListenerDoesNotEndTheElection() {
        Candidate a = candidate("a", Duration.ZERO, false, builder -> builder);
        a.throwOnGrant = new AssertionError("a listener bug");
        a.start();
        time.advance(Duration.ofSeconds(20));

        assertThat(a.elector.isLeader()).isTrue();
        a.elector.stop(Duration.ofSeconds(5));
        assertThat(shared.get(LEASE).orElseThrow().record().isHeld()).isFalse();
    }

    @Test
    void aStoppedElectorCanBeStartedAgainAndLeadsWithAGreaterToken() {
        Candidate a = candidate("a").start();
        a.elector.stop(Duration.ofSeconds(5));
        assertThat(a.elector.isRunning()).isFalse();

        a.start();
        time.advance(STEP);

        assertThat(a.elector.isRunning()).isTrue();
        assertThat(a.elector.isLeader()).isTrue();
        assertThat(a.events).containsExactly("granted:0", "revoked:SHUTDOWN", "granted:1");
    }

    @Test
    void aWatchThatCannotStartIsRetriedWithBackOff() {
        Candidate a = candidate("a").start();
        Candidate b = candidate("b");
        b.store.failWatchesWith(Kind.FORBIDDEN); // a Role without "watch"
        b.start();
        b.store.resetCounts();

        time.advance(Duration.ofSeconds(120));

        // Back-off doubles from the retry period to 30 s: 2, 4, 8, 16, 30, 30, 30 s ... (polling meanwhile).
        assertThat(b.store.calls("watch")).isBetween(5, 8);
        assertThat(a.elector.isLeader()).isTrue();
        assertThat(b.events).isEmpty();
    }

    @Test
    void twoCandidatesWithTheSameIdentityNeverBothLead() {
        Candidate first = candidate("dup").start();
        Candidate second = candidate("dup").start();

        for (int i = 0; i < 600; i++) {
            time.advance(STEP);
            assertAtMostOneLeader();
        }

        assertThat(first.elector.isLeader()).isTrue();
        assertThat(second.events).isEmpty();
    }

    @Test
    void aLeaderWhoseLeaseIsWrittenByAnotherProcessWithItsIdentityStepsDownAtOnce() {
        Candidate a = candidate("a").start();
        VersionedLease current = shared.get(LEASE).orElseThrow();
        shared.update(
                LEASE,
                new LeaseRecord("a", LEASE_DURATION, wall().plusSeconds(1), wall(), 9L), // another process's term
                current.version());

        time.runDue();

        assertThat(a.elector.isLeader()).isFalse();
        assertThat(a.events).containsExactly("granted:0", "revoked:LOST");
        time.advance(LEASE_DURATION.minus(STEP)); // it waits the foreign term out like anybody else's
        assertThat(a.elector.isLeader()).isFalse();
        time.advance(MAX_POLL.plus(STEP));
        assertThat(a.events).containsExactly("granted:0", "revoked:LOST", "granted:10");
    }

    @Test
    void aCandidateOfAnotherApplicationRefusesTheLease() {
        Candidate billing = candidate(
                        "billing-1", Duration.ZERO, true, builder -> builder.application("billing", false))
                .start();
        Candidate shipping = candidate(
                        "shipping-1", Duration.ZERO, true, builder -> builder.application("shipping", false))
                .start();
        billing.elector.stop(Duration.ofSeconds(5)); // released: free for anybody of billing

        time.advance(Duration.ofSeconds(60));

        assertThat(shipping.events).isEmpty();
        assertThat(shared.get(LEASE).orElseThrow().record().application()).isEqualTo("billing");
    }

    @Test
    void applicationsThatOptInShareTheLease() {
        Candidate billing = candidate("billing-1", Duration.ZERO, true, builder -> builder.application("billing", true))
                .start();
        Candidate shipping = candidate(
                        "shipping-1", Duration.ZERO, true, builder -> builder.application("shipping", true))
                .start();

        billing.elector.stop(Duration.ofSeconds(5));
        time.runDue();

        assertThat(shipping.events).containsExactly("granted:1");
        assertThat(shared.get(LEASE).orElseThrow().record().application()).isEqualTo("shipping");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Safety under random faults

    @Test
    void neverTwoLeadersUnderRandomFaultsAndAlwaysALeaderAgain() {
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 4; i++) {
            candidate("c" + i, Duration.ofMinutes(random.nextInt(-600, 600)), random.nextBoolean())
                    .start();
        }
        for (int step = 0; step < 6000; step++) {
            Candidate victim = candidates.get(random.nextInt(candidates.size()));
            switch (random.nextInt(40)) {
                case 0 -> victim.store.failNext(random.nextInt(1, 8), Kind.TIMEOUT);
                case 1 -> victim.store.loseResponseOfNextWrites(1);
                case 2 -> shared.breakWatches(new IOException("reset"));
                case 3 -> victim.store.deliverWatchEvents(random.nextBoolean());
                case 4 -> victim.elector.yieldLeadership();
                default -> {}
            }
            time.advance(Duration.ofMillis(random.nextInt(10, 500)));
            assertAtMostOneLeader();
        }
        candidates.forEach(x -> {
            x.store.heal();
            x.store.deliverWatchEvents(true);
        });
        assertThat(time.advanceUntil(
                        () -> candidates.stream().anyMatch(x -> x.elector.isLeader()),
                        STEP,
                        LEASE_DURATION.plus(Duration.ofSeconds(30))))
                .isTrue();
        long transitions = shared.get(LEASE).orElseThrow().record().leaseTransitions();
        assertThat(transitions).isGreaterThan(20);
    }

    // ---------------------------------------------------------------------------------------------------------

    private Candidate candidate(String id) {
        return candidate(id, Duration.ZERO, true);
    }

    private Candidate candidate(String id, Duration wallOffset, boolean watch) {
        return candidate(id, wallOffset, watch, builder -> builder);
    }

    private Candidate candidate(
            String id, Duration wallOffset, boolean watch, UnaryOperator<LeaseElector.Builder> customizer) {
        Candidate candidate = new Candidate(id, wallOffset, watch, customizer);
        candidates.add(candidate);
        return candidate;
    }

    private void assertAtMostOneLeader() {
        assertThat(candidates.stream().filter(c -> c.elector.isLeader()).map(c -> c.id))
                .as("leaders at %d ns", time.nanoTime())
                .hasSizeLessThanOrEqualTo(1);
    }

    private long lastSuccessfulRenewOf(Candidate candidate) {
        return time.nanoTime()
                - candidate.elector.snapshot().sinceLastRenew().orElseThrow().toNanos();
    }

    private Instant wall() {
        return time.clock().wallTime();
    }

    private final class Candidate implements LeadershipListener {
        final String id;
        final ScriptedStore store = new ScriptedStore(shared);
        final LeaseElector elector;
        final List<String> events = new ArrayList<>();
        final List<String> listenerExecutors = new ArrayList<>();
        final List<String> holderSeenByListener = new ArrayList<>();
        final List<Long> grantedAt = new ArrayList<>();
        final List<Long> revokedAt = new ArrayList<>();
        Error throwOnGrant;

        Candidate(String id, Duration wallOffset, boolean watch, UnaryOperator<LeaseElector.Builder> customizer) {
            this.id = id;
            store.watchable(watch);
            this.elector = customizer
                    .apply(LeaseElector.builder(
                            new ElectionSettings(LEASE, id, LEASE_DURATION, RENEW_DEADLINE, RETRY, null), store))
                    .listener(this)
                    .clock(time.clock(wallOffset))
                    .executors(
                            time.executor("election-" + id), time.executor("events-" + id), time.executor("io-" + id))
                    .random(new SplittableRandom(id.hashCode()))
                    .build();
        }

        Candidate start() {
            elector.start();
            time.runDue();
            return this;
        }

        @Override
        public void onStartedLeading(LeadershipTerm term) {
            record("granted:" + term.fencingToken());
            grantedAt.add(time.nanoTime());
            if (throwOnGrant != null) {
                throw throwOnGrant;
            }
        }

        @Override
        public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
            record("revoked:" + reason);
            revokedAt.add(time.nanoTime());
        }

        private void record(String event) {
            events.add(event);
            listenerExecutors.add(time.runningExecutor());
            holderSeenByListener.add(shared.get(LEASE)
                    .map(VersionedLease::record)
                    .map(LeaseRecord::holderIdentity)
                    .orElse(null));
        }
    }
}
