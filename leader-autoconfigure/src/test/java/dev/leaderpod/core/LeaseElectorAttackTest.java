package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.leaderpod.core.LeaseStoreException.Kind;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An outsider's attack on {@link LeaseElector}: hostile interleavings and faults against its two promises, never two
 * leaders and never stuck. Each "finding" test failed on the elector it attacked and passes since its fix (two of them
 * assert a documented limit instead: a hand-written release, and a follower's back-off after its own partition); the
 * others are suspicions that held up, kept as regression tests.
 *
 * <p>Everything runs in the test thread on a stepped clock ({@link ManualTime}). A call that "hangs" is a store hook
 * that moves time while the candidate's I/O executor is stuck; two leaders are looked for after every step, also
 * inside such hooks (where an assertion would only look like a store failure to the elector, so overlaps are
 * recorded and asserted afterwards).
 */
class LeaseElectorAttackTest extends AttackGround {

    /** Longest failure back-off of a follower: (lease duration − renew deadline) plus 20 % jitter. */
    private static final Duration MAX_FOLLOWER_BACKOFF = Duration.ofSeconds(6);

    // =========================================================================================================
    // Findings (each failed before its fix)

    /**
     * Finding 1. {@code isOwnTerm} recognises "a term this candidate wrote" by identity and acquire time only. A third
     * party that writes back an earlier record of a follower (a backup restored, {@code kubectl replace} of a saved
     * manifest, a GitOps tool reverting the object) makes that follower take the lease at once as "its own earlier
     * term", while the real holder still leads until its deadline.
     */
    @Test
    void aRestoredEarlierRecordOfAFollowerIsNotTakenAtOnceWhileTheLeaderLeads() {
        Candidate b = new Candidate("b").start(); // b creates the lease: its term
        Candidate a = new Candidate("a").start();
        VersionedLease backup = shared.get(LEASE).orElseThrow(); // a backup of the Lease object, taken now
        assertThat(backup.record().holderIdentity()).isEqualTo("b");

        b.store.failAll(Kind.UNAVAILABLE); // b is cut off; a takes over once b's lease expired
        assertThat(advanceSamplingUntil(a::isLeader, Duration.ofSeconds(30))).isTrue();
        b.store.heal();
        advanceSampling(Duration.ofSeconds(10));
        assertThat(b.isLeader()).isFalse();

        a.store.failAll(Kind.UNAVAILABLE); // now a is cut off: it leads until its renew deadline
        VersionedLease current = shared.get(LEASE).orElseThrow();
        shared.update(LEASE, backup.record(), current.version()); // ... and the backup is restored
        advanceSampling(Duration.ofSeconds(12));

        assertThat(overlaps).as("instants with two leaders").isEmpty();
    }

    /**
     * Finding 2. A candidate remembers the acquire time of every write it tried, also of a write that lost its
     * compare-and-set. Two processes with one identity whose clocks give the same microsecond (both racing for the
     * lease at one instant) both remember the winner's acquire time: the loser reads the winner's record as its own
     * earlier term and takes it over at once, while the winner leads until its next renew conflicts.
     */
    @Test
    void twoProcessesWithOneIdentityStartingAtTheSameInstantNeverBothLead() {
        Candidate first = new Candidate("dup", "dup1").watch(false);
        Candidate second = new Candidate("dup", "dup2").watch(false);
        first.elector().start();
        second.elector().start();
        time.runDue();

        advanceSampling(Duration.ofSeconds(60));

        assertThat(overlaps).as("instants with two leaders").isEmpty();
    }

    /**
     * Finding 3. {@code stop()} releases on an I/O thread and returns after its timeout even if the release still
     * runs. The release retries once after a conflict on whatever record {@code isOwnTerm} accepts, and
     * {@code ownAcquireTimes} survives {@code start()}. Stopped and started again while the release hangs, the candidate
     * takes its own earlier term at once (a new term); when the hung release comes back it conflicts, re-reads, finds
     * the new term "own" and releases it, so a watching follower takes the lease while the candidate still leads.
     */
    @Test
    void aReleaseThatOutlivesStopNeverReleasesTheTermOfTheNextStart() {
        Candidate a = new Candidate("a").watch(false).start();
        Candidate b = new Candidate("b").start();
        time.advance(Duration.ofSeconds(3));

        time.freeze("io-a"); // the I/O thread that will run the release hangs
        a.elector.stop(Duration.ofSeconds(2));
        assertThat(a.elector.isRunning()).isFalse();
        a.io.target = time.executor("io-a2"); // the next calls get another I/O thread, as in the elector's pool
        a.start(); // the context is started again
        assertThat(a.isLeader()).isTrue();
        assertThat(a.events).containsExactly("granted:0", "revoked:SHUTDOWN", "granted:1");

        time.thaw("io-a"); // the hung release comes back
        time.runDue();
        sample();
        advanceSampling(Duration.ofSeconds(5));

        assertThat(overlaps).as("instants with two leaders").isEmpty();
        assertThat(b.events).isEmpty();
    }

    /**
     * Finding 4. "The lease provably never existed" is a fact about the moment of the read, but the elector applies it
     * when the answer arrives (up to the call bound later), and even lets it shorten an absence it saw through the
     * watch. Here the answer "absent, never existed" is slow; meanwhile c creates the lease and leads, is cut off, and
     * an operator deletes the lease. The late answer lets b create the lease at once, while c still leads.
     */
    @Test
    void aLateProofThatTheLeaseNeverExistedDoesNotLetACandidateCreateItBesideItsHolder() {
        Candidate b = new Candidate("b").watch(false);
        Candidate c = new Candidate("c").watch(false);
        b.store.afterProbe(() -> {
            b.store.afterProbe(() -> {});
            // b's answer "absent, never existed" is on its way for 5 s (the call bound is 6.25 s) ...
            for (int i = 0; i < 50; i++) {
                if (i == 1) {
                    c.elector().start(); // ... c joins, finds no lease, creates it and leads ...
                }
                if (i == 10) {
                    c.store.failAll(Kind.UNAVAILABLE); // ... c is cut off, and an operator deletes the lease
                    shared.delete(LEASE);
                }
                time.advanceExcept(STEP, "io-b");
                sample();
            }
        });
        b.elector().start();
        time.runDue();
        advanceSampling(Duration.ofSeconds(10));

        assertThat(c.events).startsWith("granted:0");
        assertThat(overlaps).as("instants with two leaders").isEmpty();
    }

    /**
     * Finding 5. The Javadoc says clocks must tick within 1 % "(validated by ElectionSettings)", but ElectionSettings
     * only requires renew deadline &lt; lease duration. With lease 15 s and renew deadline 14.9 s (accepted), a leader
     * whose clock is 1 % slow leads until 14.9 / 0.99 = 15.05 s after its last renew, while a follower whose clock is
     * 1 % fast takes over after 15 / 1.01 = 14.85 s.
     */
    @Test
    void settingsThatElectionSettingsAcceptsKeepOneLeaderWithClocksOnePercentApart() {
        assertThatThrownBy(
                        () -> new ElectionSettings(LEASE, "x", LEASE_DURATION, Duration.ofMillis(14_900), RETRY, null))
                .hasMessageContaining("1.01 x renew-deadline must be less than 0.99 x lease-duration");
        Duration renewDeadline = Duration.ofMillis(14_700); // the largest accepted for a 15 s lease
        Candidate a = new Candidate("a").rate(0.99).renewDeadline(renewDeadline).start();
        Candidate b = new Candidate("b").rate(1.01).renewDeadline(renewDeadline).start();
        time.advance(Duration.ofSeconds(3));
        assertThat(a.isLeader()).isTrue();

        a.store.failAll(Kind.UNAVAILABLE); // a is cut off just after a renew
        for (int i = 0; i < 2000; i++) {
            time.advance(Duration.ofMillis(10));
            sample();
        }

        assertThat(b.events).containsExactly("granted:1");
        assertThat(overlaps).as("instants with two leaders").isEmpty();
    }

    /**
     * Finding 6. {@code longestDurationSeen} only grows. A lease duration of one hour written once by a third party
     * (a typo, reverted by the leader's next renew within a retry period) makes every candidate that saw it wait an
     * hour, instead of one lease duration, before it creates the lease again after any later deletion.
     */
    @Test
    void aLeaseDurationSetByAThirdPartyLongAgoDoesNotDelayTheRecreationOfADeletedLease() {
        Candidate a = new Candidate("a").start();
        new Candidate("b").start();
        VersionedLease current = shared.get(LEASE).orElseThrow();
        shared.update(LEASE, withDuration(current.record(), Duration.ofHours(1)), current.version());
        time.advance(RETRY.plus(STEP));
        assertThat(a.isLeader()).isTrue();
        assertThat(shared.get(LEASE).orElseThrow().record().leaseDuration()).isEqualTo(LEASE_DURATION); // reverted

        time.advance(Duration.ofMinutes(10));
        shared.delete(LEASE);
        long deletedAt = time.nanoTime();

        // Deleted: one lease duration to wait out a holder that may be cut off, then a poll.
        Duration bound = LEASE_DURATION.plus(MAX_POLL).plus(LEASE_DURATION);
        assertThat(advanceSamplingUntil(() -> firstGrantAfter(deletedAt) != Long.MAX_VALUE, bound.plus(STEP)))
                .as("a new term within %s of the deletion", bound)
                .isTrue();
    }

    /**
     * Finding 7, a documented limit (docs/design.md, "Honest limits"). A third party that clears the holder and sets the
     * duration to 1 s writes exactly what a release looks like; a watching follower takes the lease at once while the
     * holder, cut off, leads until its renew deadline. Waiting out every release would cost every graceful hand-over
     * its milliseconds, so the overlap is bounded instead: it ends at the cut-off holder's renew deadline.
     */
    @Test
    void aReleaseWrittenByAThirdPartyWhileTheHolderIsCutOffOverlapsAtMostUntilTheHoldersDeadline() {
        Candidate a = new Candidate("a").watch(false).start();
        new Candidate("b").start();
        time.advance(Duration.ofSeconds(3));

        a.store.failAll(Kind.UNAVAILABLE);
        long deadline = lastSuccessfulRenewOf(a) + RENEW_DEADLINE.toNanos();
        VersionedLease current = shared.get(LEASE).orElseThrow();
        LeaseRecord r = current.record();
        shared.update(
                LEASE,
                new LeaseRecord("", Duration.ofSeconds(1), r.acquireTime(), wall(), r.leaseTransitions()),
                current.version());
        advanceSampling(Duration.ofSeconds(12));

        assertThat(overlapTimes).as("instants with two leaders").allMatch(at -> at <= deadline);
        overlaps.clear(); // the documented overlap, asserted bounded above
    }

    /**
     * Finding 8, a documented trade-off (docs/design.md, "Nothing but stop ends the election"). A follower's failure
     * back-off is capped at lease duration − renew deadline (5 s, 6 s with jitter), to spare a struggling API server
     * from every follower polling it. A follower whose own partition ends just after a failed attempt sees the
     * leader's latest renew only up to that long later, and counts the lease's expiry from then: if the leader crashes
     * when the partition ends, the bound is lease duration + that back-off, not lease duration + retry period.
     */
    @Test
    void aFollowerBackFromAPartitionReplacesALeaderThatCrashesThenWithinLeaseDurationPlusItsBackOff() {
        Candidate a = new Candidate("a").start();
        Candidate b = new Candidate("b").watch(false).start();
        b.store.failAll(Kind.UNAVAILABLE); // b is partitioned away from the API server for a minute
        time.advance(Duration.ofSeconds(60));
        int gets = b.store.calls("get");
        time.advanceUntil(() -> b.store.calls("get") > gets, Duration.ofMillis(10), Duration.ofSeconds(10));

        b.store.heal(); // the partition ends just after one of b's attempts ...
        a.store.failAll(Kind.UNAVAILABLE); // ... and a crashes
        long lastRenewSent = lastSuccessfulRenewOf(a);
        assertThat(advanceSamplingUntil(b::isLeader, Duration.ofSeconds(60))).isTrue();

        Duration backOff = LEASE_DURATION.minus(RENEW_DEADLINE).multipliedBy(12).dividedBy(10);
        assertThat(Duration.ofNanos(b.grantedAt.get(0) - lastRenewSent))
                .isLessThanOrEqualTo(LEASE_DURATION.plus(MAX_POLL).plus(backOff).plus(STEP));
    }

    /**
     * Finding 9. Tokens are computed as {@code max(record, seen) + 1} without overflow check: after a third party wrote
     * {@code leaseTransitions: 9223372036854775807}, the next token wraps to a negative value, which
     * {@code transitionsOrZero} reads as 0, and every later term gets token 0 again.
     */
    @Test
    void fencingTokensNeverRepeatEvenAfterAThirdPartyWritesTheLargestToken() {
        Candidate a = new Candidate("a").start();
        Candidate b = new Candidate("b").start();
        List<Long> tokens = new ArrayList<>();
        tokens.add(a.elector.currentTerm().orElseThrow().fencingToken());
        VersionedLease current = shared.get(LEASE).orElseThrow();
        LeaseRecord r = current.record();
        shared.update(
                LEASE,
                new LeaseRecord(r.holderIdentity(), r.leaseDuration(), r.acquireTime(), r.renewTime(), Long.MAX_VALUE),
                current.version());
        time.advance(RETRY.plus(STEP));

        for (int round = 0; round < 3; round++) {
            Candidate leader =
                    candidates.stream().filter(Candidate::isLeader).findFirst().orElseThrow();
            leader.elector.yieldLeadership();
            time.runDue();
            assertThat(advanceSamplingUntil(this::anyLeader, Duration.ofSeconds(20)))
                    .isTrue();
            tokens.add(candidates.stream()
                    .filter(Candidate::isLeader)
                    .findFirst()
                    .orElseThrow()
                    .elector
                    .currentTerm()
                    .orElseThrow()
                    .fencingToken());
        }

        assertThat(tokens).doesNotHaveDuplicates();
        assertThat(b.events).isNotEmpty();
    }

    /**
     * Finding 10. Continuations of the run before a {@code stop()} are not fenced off from the run after
     * {@code start()}. The first run's create lands but its answer is slow; stopped and started meanwhile, the second
     * run takes the lease as its own earlier term (token 1); then the first run's answer arrives and
     * {@code startTerm} replaces the second run's term with the older one (token 0): a second grant without a
     * revocation, a fencing token that goes backwards, and a false "duplicate identity" error after that.
     */
    @Test
    void aTermWonByTheRunBeforeAStopIsNeverAnnouncedInTheRunAfterTheNextStart() {
        Candidate a = new Candidate("a").watch(false);
        a.store.afterWrite(() -> {
            a.store.afterWrite(() -> {});
            // The create reached the store; its answer takes a second. Meanwhile the application stops and starts.
            a.io.target = time.executor("io-a2");
            a.elector.stop(Duration.ofSeconds(1));
            a.elector.start();
            time.advanceExcept(Duration.ofSeconds(1), "io-a");
        });
        a.elector().start();
        time.runDue();
        List<Long> tokensInUse = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            a.elector.currentTerm().ifPresent(term -> tokensInUse.add(term.fencingToken()));
            time.advance(STEP);
        }

        assertThat(tokensInUse)
                .as("fencing tokens this leader acts under, in order")
                .isSorted();
        assertThat(a.events).as("a grant first").first().asString().startsWith("granted:");
        for (int i = 1; i < a.events.size(); i++) {
            assertThat(a.events.get(i))
                    .as("grants and revocations alternate: %s", a.events)
                    .startsWith(a.events.get(i - 1).startsWith("granted:") ? "revoked:" : "granted:");
        }
    }

    /**
     * Finding 11. A renew's answer that reaches a stalled election thread before the step-down timer (queued earlier)
     * extends the term even though the deadline passed: {@link LeaseElector#isLeader()} and
     * {@link LeaseElector#isCurrent} turn false at the deadline and true again for the same term, with no event. Safe
     * (the renew was sent before the deadline and its write succeeded), but a caller that saw its term end can see it
     * resume.
     */
    @Test
    void aTermThatEndedAtItsDeadlineNeverResumes() {
        Candidate a = new Candidate("a").watch(false).start();
        a.store.failNext(2, Kind.TIMEOUT); // the next two renews fail ...
        time.advance(Duration.ofSeconds(5));
        long deadline = lastSuccessfulRenewOf(a) + RENEW_DEADLINE.toNanos();
        LeadershipTerm term = a.elector.currentTerm().orElseThrow();
        a.store.afterWrite(() -> {
            a.store.afterWrite(() -> {});
            // ... the third lands, its answer comes 3 s later (before the deadline) and finds the election thread
            // stalled (CPU starvation) until after the deadline
            time.advanceExcept(Duration.ofSeconds(3), "io-a");
            time.freeze("election-a");
        });
        List<String> seen = new ArrayList<>();
        while (time.nanoTime() < deadline + Duration.ofSeconds(1).toNanos()) {
            time.advance(STEP);
            seen.add(a.elector.isCurrent(term) ? "current" : "ended");
        }
        time.thaw("election-a");
        time.runDue();
        seen.add(a.elector.isCurrent(term) ? "current" : "ended");

        assertThat(seen).contains("ended");
        assertThat(seen.subList(seen.indexOf("ended"), seen.size())).containsOnly("ended");
    }

    /**
     * Finding 12. A watch is closed on an I/O thread, but when the I/O executor refuses the task (every I/O thread is
     * taken by hung calls: the elector's own pool has 4) it is closed on the election thread, and the Kubernetes
     * store's close shuts a whole client down, which may block. Meanwhile the step-down timer cannot run:
     * {@code isLeader()} still turns false on time (evaluated at call time), but {@code onStoppedLeading} comes late,
     * here after the next leader's {@code onStartedLeading}; listener-driven leader-only work overlaps.
     */
    @Test
    void aWatchClosedWhileEveryIoThreadIsBusyNeverDelaysTheRevocation() {
        Candidate a = new Candidate("a").start();
        Candidate b = new Candidate("b").start();
        time.advance(Duration.ofSeconds(3));
        long deadline = lastSuccessfulRenewOf(a) + RENEW_DEADLINE.toNanos();
        ExecutorService full = time.executor("io-a-full");
        full.shutdown();
        a.io.target = full; // every I/O thread of a is stuck in a call: new calls are refused
        List<String> closedOn = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.CountDownLatch closing = new java.util.concurrent.CountDownLatch(1);
        a.store.beforeWatchClose(() -> {
            // Closing the watch's client blocks (for the rest of this test): it must not be the election thread.
            closedOn.add(Thread.currentThread().getName());
            try {
                closing.await(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        shared.breakWatches(new IOException("connection reset"));
        time.runDue();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !closedOn.isEmpty());
        advanceSampling(Duration.ofSeconds(20));
        closing.countDown();

        assertThat(closedOn).containsExactly("leader-watch-close");
        assertThat(b.grantedAt).isNotEmpty();
        assertThat(a.revokedAt.get(0))
                .as("a revoked (deadline %s, b granted %s)", deadline, b.grantedAt.get(0))
                .isLessThanOrEqualTo(deadline + STEP.toNanos())
                .isLessThan(b.grantedAt.get(0));
    }

    // =========================================================================================================
    // Suspicions that held up (regression tests)

    /** A renew abandoned at the bound whose write lands later neither extends the term nor lets anyone in early. */
    @Test
    void anAbandonedRenewThatLandsLaterNeitherExtendsTheTermNorLetsAFollowerInEarly() {
        Candidate a = new Candidate("a").start();
        Candidate b = new Candidate("b").start();
        time.advance(Duration.ofSeconds(3));
        long lastRenewSent = lastSuccessfulRenewOf(a);
        long[] landedAt = new long[1];
        a.store.beforeWrite(() -> {
            a.store.beforeWrite(() -> {});
            hang(Duration.ofSeconds(7), "io-a"); // beyond the 6.25 s bound: abandoned ...
        });
        a.store.afterWrite(() -> {
            a.store.afterWrite(() -> {});
            landedAt[0] = time.nanoTime(); // ... but it lands, and then a is cut off
            a.store.failAll(Kind.UNAVAILABLE);
        });
        advanceSamplingUntil(b::isLeader, Duration.ofSeconds(60));

        assertThat(landedAt[0]).isGreaterThan(lastRenewSent + RETRY.toNanos());
        assertThat(a.revokedAt.get(0)).isLessThanOrEqualTo(lastRenewSent + RENEW_DEADLINE.toNanos() + STEP.toNanos());
        assertThat(b.grantedAt.get(0))
                .isBetween(
                        landedAt[0] + LEASE_DURATION.toNanos(),
                        landedAt[0] + LEASE_DURATION.plus(MAX_POLL).plus(STEP).toNanos());
    }

    /** A renew whose answer arrives after the deadline (the timer ran first) ends the term; a new one has a new token. */
    @Test
    void aRenewAnsweredAfterTheDeadlineDoesNotExtendTheEndedTerm() {
        Candidate a = new Candidate("a").watch(false).start();
        Candidate b = new Candidate("b").start();
        a.store.failNext(2, Kind.TIMEOUT);
        time.advance(Duration.ofSeconds(5)); // renews at 2 s and 4 s failed
        long deadline = lastSuccessfulRenewOf(a) + RENEW_DEADLINE.toNanos();
        List<Long> leaderAt = new ArrayList<>();
        a.store.afterWrite(() -> {
            a.store.afterWrite(() -> {});
            for (int i = 0; i < 50; i++) { // the renew sent at 6 s lands, and its answer arrives 5 s later
                time.advanceExcept(STEP, "io-a");
                sample();
                if (a.isLeader()) {
                    leaderAt.add(time.nanoTime());
                }
            }
        });
        advanceSampling(Duration.ofSeconds(10));

        assertThat(leaderAt).allMatch(at -> at < deadline);
        assertThat(a.events).startsWith("granted:0", "revoked:DEADLINE_PASSED", "granted:1");
        assertThat(a.grantedAt.get(1)).isGreaterThan(deadline);
        assertThat(b.events).isEmpty();
    }

    @ParameterizedTest(name = "lease existed before: {0}")
    @ValueSource(booleans = {true, false})
    void stopDuringAPendingAcquireOrCreateMakesNoSecondLeaderAndAnotherCandidateTakesOver(boolean existed) {
        if (existed) {
            shared.create(LEASE, new LeaseRecord("", Duration.ofSeconds(1), wall(), wall(), 3L)); // released
        }
        Candidate a = new Candidate("a").watch(false);
        Candidate b = new Candidate("b");
        long[] landedAt = new long[1];
        a.store.beforeWrite(() -> {
            a.store.beforeWrite(() -> {});
            for (int i = 0; i < 20; i++) {
                if (i == 1) {
                    b.elector().start(); // b joins and follows whatever it finds
                }
                if (i == 5) {
                    a.elector.stop(Duration.ofSeconds(1)); // stop while the acquire/create is in flight
                }
                time.advanceExcept(STEP, "io-a");
                sample();
            }
            landedAt[0] = time.nanoTime(); // then it lands: a holds a lease nobody renews
        });
        a.elector().start();
        time.runDue();
        advanceSamplingUntil(b::isLeader, Duration.ofSeconds(60));

        assertThat(a.events).isEmpty();
        assertThat(a.elector.isRunning()).isFalse();
        assertThat(b.grantedAt.get(0))
                .isLessThanOrEqualTo(landedAt[0] + LEASE_DURATION.plus(MAX_POLL).toNanos());
    }

    @Test
    void yieldDuringAPendingAcquireMakesNoSecondLeader() {
        shared.create(LEASE, new LeaseRecord("", Duration.ofSeconds(1), wall(), wall(), 3L));
        Candidate a = new Candidate("a");
        Candidate b = new Candidate("b");
        a.store.beforeWrite(() -> {
            a.store.beforeWrite(() -> {});
            b.elector().start();
            a.elector.yieldLeadership(); // not leading yet: documented to do nothing
            hang(Duration.ofSeconds(1), "io-a");
        });
        a.elector().start();
        time.runDue();
        advanceSampling(Duration.ofSeconds(30));

        assertThat(candidates.stream().filter(Candidate::isLeader)).hasSize(1);
    }

    /** A stopping leader whose cache is stale releases nothing of the candidate that took over meanwhile. */
    @Test
    void aReleaseRacingATakeoverNeverUndoesTheNewLeader() {
        Candidate a = new Candidate("a").watch(false).start();
        Candidate b = new Candidate("b").start();
        time.advance(Duration.ofSeconds(3));
        a.store.failAll(Kind.UNAVAILABLE);
        assertThat(advanceSamplingUntil(b::isLeader, Duration.ofSeconds(30))).isTrue();

        a.store.heal();
        a.elector.stop(Duration.ofSeconds(5)); // its cache still shows its own term: the release conflicts
        advanceSampling(Duration.ofSeconds(5));

        assertThat(b.isLeader()).isTrue();
        assertThat(shared.get(LEASE).orElseThrow().record().holderIdentity()).isEqualTo("b");
    }

    /** A third party naming another live candidate (in a term that candidate never wrote) makes no second leader. */
    @ParameterizedTest(name = "old holder cut off: {0}")
    @ValueSource(booleans = {true, false})
    void aThirdPartyNamingAnotherLiveCandidateAsHolderMakesNoSecondLeader(boolean cutOff) {
        Candidate a = new Candidate("a").watch(false).start();
        Candidate b = new Candidate("b").start();
        new Candidate("c").watch(false).start();
        time.advance(Duration.ofSeconds(3));
        if (cutOff) {
            a.store.failAll(Kind.UNAVAILABLE);
        }
        VersionedLease current = shared.get(LEASE).orElseThrow();
        shared.update(
                LEASE,
                new LeaseRecord("b", LEASE_DURATION, wall().plusSeconds(7), wall(), 0L), // kubectl edit
                current.version());
        long editedAt = time.nanoTime();
        advanceSampling(Duration.ofSeconds(40));

        assertThat(firstGrantAfter(editedAt)).isGreaterThanOrEqualTo(editedAt + LEASE_DURATION.toNanos() * 99 / 100);
        assertThat(anyLeader()).isTrue();
        assertThat(b.events.stream().filter(e -> e.startsWith("granted"))).hasSizeLessThanOrEqualTo(1);
    }

    /** A holder cleared by hand without the 1 s duration of a release is waited out, even with the holder cut off. */
    @Test
    void aThirdPartyClearingTheHolderOfACutOffLeaderIsWaitedOut() {
        Candidate a = new Candidate("a").watch(false).start();
        new Candidate("b").start();
        time.advance(Duration.ofSeconds(3));
        a.store.failAll(Kind.UNAVAILABLE);
        VersionedLease current = shared.get(LEASE).orElseThrow();
        LeaseRecord r = current.record();
        shared.update(
                LEASE,
                new LeaseRecord(null, r.leaseDuration(), r.acquireTime(), r.renewTime(), r.leaseTransitions()),
                current.version());
        long clearedAt = time.nanoTime();
        advanceSampling(Duration.ofSeconds(25));

        assertThat(firstGrantAfter(clearedAt)).isGreaterThanOrEqualTo(clearedAt + LEASE_DURATION.toNanos());
    }

    @ParameterizedTest(name = "recreated with token {0}")
    @ValueSource(longs = {0, 1000})
    void aLeaseRecreatedByAThirdPartyMakesNoSecondLeaderAndTokensKeepGrowing(long token) {
        Candidate a = new Candidate("a").watch(false).start();
        new Candidate("b").start();
        new Candidate("c").watch(false).start();
        time.advance(Duration.ofSeconds(3));
        a.elector.yieldLeadership(); // tokens 0 and 1 used
        time.runDue();
        time.advance(Duration.ofSeconds(3));
        Candidate leader =
                candidates.stream().filter(Candidate::isLeader).findFirst().orElseThrow();
        leader.store.failAll(Kind.UNAVAILABLE); // the leader is cut off ...
        shared.delete(LEASE); // ... the lease deleted and recreated at once, held by somebody unknown
        shared.create(LEASE, new LeaseRecord("ghost", LEASE_DURATION, wall(), wall(), token));
        long recreatedAt = time.nanoTime();
        advanceSampling(Duration.ofSeconds(40));

        assertThat(firstGrantAfter(recreatedAt)).isGreaterThanOrEqualTo(recreatedAt + LEASE_DURATION.toNanos());
        for (Candidate candidate : candidates) {
            assertThat(candidate.tokens)
                    .as("tokens of %s", candidate.key)
                    .isSorted()
                    .doesNotHaveDuplicates();
        }
        assertThat(shared.get(LEASE).orElseThrow().record().leaseTransitions()).isGreaterThan(Math.max(token, 1));
    }

    /** A process restarted with a fixed identity while its predecessor, frozen, still leads, waits the term out. */
    @Test
    void aSecondProcessWithTheSameIdentityWaitsOutTheTermOfTheFirst() {
        Candidate first = new Candidate("dup", "dup1").start();
        time.advance(Duration.ofSeconds(3));
        first.store.failAll(Kind.UNAVAILABLE); // frozen, or cut off
        Candidate second = new Candidate("dup", "dup2").start();
        advanceSampling(Duration.ofSeconds(20));
        first.store.heal(); // it comes back: it finds a term of its identity it did not write
        advanceSampling(Duration.ofSeconds(40));

        assertThat(second.isLeader()).isTrue();
        assertThat(first.events).containsExactly("granted:0", "revoked:DEADLINE_PASSED");
    }

    /**
     * A slow read answered after the watch delivered newer versions makes the cache stale (and restarts the expiry
     * once more): late, never unsafe, since every write is conditional on the version.
     */
    @Test
    void aReadAnsweredAfterTheWatchDeliveredNewerVersionsMakesNoSecondLeader() {
        Candidate a = new Candidate("a").start();
        time.advance(Duration.ofSeconds(1));
        Candidate b = new Candidate("b");
        long[] answeredAt = new long[1];
        b.store.afterGet(() -> {
            b.store.afterGet(() -> {});
            for (int i = 0; i < 50; i++) { // the read's answer takes 5 s; the watch delivers a's renews meanwhile
                if (i == 25) {
                    a.store.failAll(Kind.UNAVAILABLE); // and a crashes
                }
                time.advanceExcept(STEP, "io-b");
                sample();
            }
            answeredAt[0] = time.nanoTime();
        });
        b.elector().start();
        time.runDue();
        long lastRenewSent = lastSuccessfulRenewOf(a);
        assertThat(advanceSamplingUntil(b::isLeader, Duration.ofSeconds(60))).isTrue();

        assertThat(b.grantedAt.get(0)).isGreaterThanOrEqualTo(lastRenewSent + LEASE_DURATION.toNanos());
        // heartbeat (1.25 retry periods), then one lease duration from the read that saw the last renew
        assertThat(b.grantedAt.get(0))
                .isLessThanOrEqualTo(answeredAt[0]
                        + LEASE_DURATION.plus(MAX_POLL).plus(RETRY).toNanos());
    }

    /** Watch events that arrive while a cycle runs are handled after it; races for a release have one winner. */
    @Test
    void watchEventsWhileACycleRunsAndRacesForAReleaseLeaveOneLeader() {
        Candidate a = new Candidate("a").start();
        Candidate b = new Candidate("b");
        Candidate c = new Candidate("c");
        b.start();
        c.start();
        b.store.beforeWrite(() -> {
            b.store.beforeWrite(() -> {});
            hang(Duration.ofSeconds(1), "io-b"); // b's acquire is slow: c wins, b hears of it mid-cycle
        });
        a.elector.yieldLeadership();
        time.runDue();
        advanceSampling(Duration.ofSeconds(20));

        assertThat(c.events).containsExactly("granted:1");
        assertThat(b.events).isEmpty();
        assertThat(b.elector.snapshot().observedHolder()).contains("c");
    }

    /** Errors thrown by the monitor and by every listener method never end the election. */
    @Test
    void errorsThrownByTheMonitorAndTheListenersDoNotEndTheElection() {
        Candidate a = new Candidate("a").hostile().start();
        Candidate b = new Candidate("b").hostile().start();
        assertThat(a.isLeader()).isTrue();
        a.elector.stop(Duration.ofSeconds(5));
        time.runDue();
        assertThat(b.isLeader()).isTrue();
        a.start();
        b.elector.yieldLeadership();
        time.runDue();
        assertThat(a.isLeader()).isTrue();
        advanceSampling(Duration.ofSeconds(30));
        assertThat(a.isLeader()).isTrue();
        assertThat(a.elector.snapshot().consecutiveFailures()).isZero();
    }

    /** Stop and start while a renew is in flight (its write lands after the release) make no second leader. */
    @Test
    void stopAndStartWhileARenewIsInFlightMakeNoSecondLeader() {
        Candidate a = new Candidate("a").watch(false).start();
        Candidate b = new Candidate("b").start();
        time.advance(Duration.ofSeconds(3));
        a.store.beforeWrite(() -> {
            a.store.beforeWrite(() -> {});
            a.io.target = time.executor("io-a2");
            a.elector.stop(Duration.ofSeconds(2)); // releases through io-a2; b takes over at once
            a.elector.start();
            hang(Duration.ofSeconds(2), "io-a"); // then the old renew lands: it conflicts
        });
        advanceSampling(Duration.ofSeconds(40));

        assertThat(b.events).startsWith("granted:1");
        assertThat(a.events).startsWith("granted:0", "revoked:SHUTDOWN");
    }

    // =========================================================================================================
    // Randomized: many candidates, every fault at once, clocks ticking up to 1 % away from true time

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {20_261_129L, 7L, 1_234_567L, 42L, 99L, 31_337L})
    void randomizedChaosNeverMakesTwoLeadersAndALeaderIsBackAfterEveryRound(long seed) {
        chaos(seed, false);
    }

    /**
     * The same chaos with the third-party edits of findings 1 and 7 (restored records, releases written by hand)
     * among the faults: shows that the randomized test finds them on its own.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {20_261_129L})
    void randomizedChaosWithRestoredRecordsNeverMakesTwoLeaders(long seed) {
        chaos(seed, true);
    }

    /**
     * Eight candidates (a quarter of them polling instead of watching), clocks hours apart ticking at 0.99 to 1.01 of
     * true time; rounds of 400 random steps with every fault kind; after each round the faults end and a leader must
     * be back in time. Two leaders are looked for after every step and every 100 ms inside hung calls.
     */
    private void chaos(long seed, boolean withFindingTriggers) {
        SplittableRandom random = new SplittableRandom(seed);
        int size = 8;
        for (int i = 0; i < size; i++) {
            new Candidate("c" + i)
                    .watch(random.nextInt(4) != 0)
                    .rate(0.99 + random.nextDouble() * 0.02)
                    .wallOffset(Duration.ofMinutes(random.nextInt(-600, 600)));
        }
        candidates.forEach(c -> c.elector().start());
        time.runDue();
        List<Candidate> stopped = new ArrayList<>();
        List<LeaseRecord> history = new ArrayList<>();
        List<String> trace = new ArrayList<>(); // the last actions, for the assertion messages

        for (int round = 0; round < 10; round++) {
            boolean deleted = false;
            for (int step = 0; step < 400; step++) {
                shared.get(LEASE)
                        .map(VersionedLease::record)
                        .filter(LeaseRecord::isHeld)
                        .ifPresent(history::add);
                Candidate victim = candidates.get(random.nextInt(size));
                String io = "io-" + victim.key;
                int action = random.nextInt(60);
                if (action < 18) {
                    trace.add(Duration.ofNanos(time.nanoTime()).toMillis() + "ms " + victim.key + ":" + action);
                    if (trace.size() > 40) {
                        trace.remove(0);
                    }
                }
                switch (action) {
                    case 0 -> victim.store.failNext(random.nextInt(1, 6), randomKind(random));
                    case 1 -> victim.store.failAll(randomKind(random));
                    case 2, 3 -> victim.store.heal();
                    case 4 -> victim.store.loseResponseOfNextWrites(1);
                    case 5 -> {
                        Duration hang = Duration.ofMillis(random.nextInt(200, 9000));
                        victim.store.beforeWrite(() -> {
                            victim.store.beforeWrite(() -> {});
                            hang(hang, io);
                        });
                    }
                    case 6 -> {
                        Duration hang = Duration.ofMillis(random.nextInt(200, 9000));
                        victim.store.afterWrite(() -> {
                            victim.store.afterWrite(() -> {});
                            hang(hang, io);
                        });
                    }
                    case 7 -> {
                        Duration hang = Duration.ofMillis(random.nextInt(200, 9000));
                        victim.store.afterGet(() -> {
                            victim.store.afterGet(() -> {});
                            hang(hang, io);
                        });
                    }
                    case 8 -> shared.breakWatches(new IOException("connection reset"));
                    case 9 -> victim.store.deliverWatchEvents(random.nextBoolean());
                    case 10 -> victim.store.failWatchesWith(random.nextBoolean() ? Kind.UNAVAILABLE : null);
                    case 11 -> victim.elector.yieldLeadership();
                    case 12 -> {
                        if (stopped.contains(victim)) {
                            victim.elector.start();
                            stopped.remove(victim);
                        } else if (stopped.size() < size - 2) {
                            victim.elector.stop(Duration.ofSeconds(5));
                            stopped.add(victim);
                        }
                    }
                    case 13, 14, 15 -> deleted |= thirdPartyEdit(random);
                    case 16 -> {
                        if (withFindingTriggers && !history.isEmpty()) {
                            restore(history.get(random.nextInt(history.size())));
                        }
                    }
                    // A release written by hand is a documented limit, asserted bounded by its own test.
                    default -> {}
                }
                time.advance(Duration.ofMillis(random.nextInt(10, 500)));
                sample();
            }

            // The faults end: every store heals, every watch delivers, every stopped candidate is started again.
            for (Candidate candidate : candidates) {
                candidate.store.heal();
                candidate.store.deliverWatchEvents(true);
                candidate.store.failWatchesWith(null);
                candidate.store.beforeWrite(() -> {});
                candidate.store.afterWrite(() -> {});
                candidate.store.afterGet(() -> {});
            }
            stopped.forEach(c -> c.elector.start());
            stopped.clear();
            long healedAt = time.nanoTime();
            // Lease duration + a follower's first attempt after the faults (up to its capped back-off: finding 8)
            // + one more lease duration if the lease was deleted; + 2 % of that for the drifting clocks. A leader
            // found at once may still lose its term to an edit made just before the faults ended: what must come
            // within the bound is a leader that stays (for 5 s).
            Duration bound = LEASE_DURATION.plus(MAX_FOLLOWER_BACKOFF).plus(deleted ? LEASE_DURATION : Duration.ZERO);
            bound = bound.plus(bound.dividedBy(50));
            long stableSince = -1;
            long end = healedAt + bound.plus(Duration.ofSeconds(60)).toNanos();
            while (time.nanoTime() < end
                    && (stableSince < 0
                            || time.nanoTime() - stableSince
                                    < Duration.ofSeconds(5).toNanos())) {
                if (!anyLeader()) {
                    stableSince = -1;
                } else if (stableSince < 0) {
                    stableSince = time.nanoTime();
                }
                time.advance(STEP);
                sample();
            }
            assertThat(stableSince)
                    .as("a lasting leader after round %d; %s", round, trace)
                    .isPositive();
            assertThat(Duration.ofNanos(stableSince - healedAt))
                    .as("time to a lasting leader after the faults of round %d ended; %s", round, trace)
                    .isLessThanOrEqualTo(bound.plus(STEP));
            assertThat(overlaps)
                    .as("instants with two leaders by round %d; %s", round, trace)
                    .isEmpty();
        }

        for (Candidate candidate : candidates) {
            assertThat(candidate.tokens)
                    .as("tokens of %s", candidate.key)
                    .isSorted()
                    .doesNotHaveDuplicates();
        }
        assertThat(candidates.stream().mapToInt(c -> c.tokens.size()).sum()).isGreaterThan(15);
    }

    private void restore(LeaseRecord record) {
        Optional<VersionedLease> current = shared.get(LEASE);
        if (current.isPresent()) {
            shared.update(LEASE, record, current.get().version());
        } else {
            shared.create(LEASE, record);
        }
    }

    private void releaseByHand() {
        shared.get(LEASE).ifPresent(current -> {
            LeaseRecord r = current.record();
            shared.update(
                    LEASE,
                    new LeaseRecord("", Duration.ofSeconds(1), r.acquireTime(), wall(), r.leaseTransitions()),
                    current.version());
        });
    }

    private static Kind randomKind(SplittableRandom random) {
        Kind[] kinds = {Kind.TIMEOUT, Kind.UNAVAILABLE, Kind.SERVER_ERROR, Kind.FORBIDDEN};
        return kinds[random.nextInt(kinds.length)];
    }

    /**
     * One edit by a third party, never one of the findings' triggers (no restored records, no hand-written release).
     * Returns whether it deleted the lease.
     */
    private boolean thirdPartyEdit(SplittableRandom random) {
        Optional<VersionedLease> found = shared.get(LEASE);
        if (found.isEmpty()) {
            String holder = random.nextBoolean() ? "ghost" : "";
            shared.create(
                    LEASE,
                    new LeaseRecord(holder, LEASE_DURATION, freshInstant(random), wall(), random.nextLong(0, 50)));
            return false;
        }
        VersionedLease current = found.get();
        LeaseRecord r = current.record();
        LeaseRecord edited =
                switch (random.nextInt(7)) {
                    case 0 -> r; // an annotation: same spec, new version
                    case 1 ->
                        new LeaseRecord( // another live candidate named, in a term it never wrote
                                candidates.get(random.nextInt(candidates.size())).id,
                                LEASE_DURATION,
                                freshInstant(random),
                                wall(),
                                r.leaseTransitions(),
                                r.application());
                    case 2 ->
                        new LeaseRecord(
                                "ghost",
                                LEASE_DURATION,
                                freshInstant(random),
                                wall(),
                                r.leaseTransitions(),
                                r.application());
                    case 3 ->
                        new LeaseRecord( // holder cleared, not released
                                "",
                                LEASE_DURATION,
                                r.acquireTime(),
                                r.renewTime(),
                                r.leaseTransitions(),
                                r.application());
                    case 4 -> r.isHeld() ? withDuration(r, Duration.ofSeconds(random.nextInt(1, 15))) : r; // shortened
                    case 5 ->
                        new LeaseRecord( // tokens reset
                                r.holderIdentity(),
                                r.leaseDuration(),
                                r.acquireTime(),
                                r.renewTime(),
                                0L,
                                r.application());
                    default -> null;
                };
        if (edited == null) {
            shared.delete(LEASE);
            return true;
        }
        shared.update(LEASE, edited, current.version());
        return false;
    }

    /** An acquire time no candidate wrote. */
    private Instant freshInstant(SplittableRandom random) {
        return wall().minusSeconds(random.nextInt(0, 100_000))
                .truncatedTo(ChronoUnit.MICROS)
                .plusNanos(777_000);
    }

    // =========================================================================================================

    private static LeaseRecord withDuration(LeaseRecord r, Duration duration) {
        return new LeaseRecord(
                r.holderIdentity(), duration, r.acquireTime(), r.renewTime(), r.leaseTransitions(), r.application());
    }

    /** Inside a store call of the candidate whose I/O executor is {@code io}: the call hangs, the rest goes on. */
    private void hang(Duration duration, String io) {
        for (long left = duration.toNanos(); left > 0; left -= STEP.toNanos()) {
            time.advanceExcept(Duration.ofNanos(Math.min(left, STEP.toNanos())), io);
            sample();
        }
    }

    private boolean anyLeader() {
        return candidates.stream().anyMatch(Candidate::isLeader);
    }

    private long firstGrantAfter(long at) {
        return candidates.stream()
                .flatMap(c -> c.grantedAt.stream())
                .filter(t -> t >= at)
                .min(Long::compare)
                .orElse(Long.MAX_VALUE);
    }
}
