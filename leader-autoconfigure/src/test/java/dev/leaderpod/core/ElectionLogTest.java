package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.leaderpod.core.LeaseStoreException.Kind;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ElectionLog}: what operators read, and the de-duplication that keeps a long outage or a misconfiguration from
 * flooding the log while every fact worth acting on is still said (docs/design.md, "One identity, one candidate": one
 * ERROR naming the fix; "One lease, one application"; "Watch to be fast, poll to be right": a watch that cannot start
 * is warned about once). Which holder changes reach {@link LeadershipListener#onNewLeader} is decided here too.
 */
class ElectionLogTest {

    private static final Instant ACQUIRED = Instant.parse("2026-01-01T00:00:00Z");

    private final ManualTime time = new ManualTime();
    private final ElectionSettings settings = new ElectionSettings(
            "orders", "me", Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(2), null);
    private final ElectionLog log = new ElectionLog("in-memory lease orders", settings, time.clock());
    private final LogCapture captured = new LogCapture();

    @AfterEach
    void detach() {
        captured.close();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Holders: one line per change, and what listeners hear of

    @Test
    void everyChangeOfHolderIsLoggedOnceWithHowItHappenedAndListenersHearOfIt() {
        assertThat(log.holderSeen(held("a"))).as("first sight of a holder").isTrue();
        assertThat(log.holderSeen(held("a"))).as("the same holder again").isFalse();
        assertThat(log.holderSeen(free())).as("released").isTrue();
        assertThat(log.holderSeen(free())).isFalse();
        assertThat(log.holderSeen(held("b"))).isTrue();
        assertThat(log.holderSeen(held("c"))).isTrue();
        assertThat(log.holderSeen(held("me"))).isTrue();

        assertThat(captured.lines())
                .containsExactly(
                        "INFO orders is now led by a (fencing token 4, previous leader none, as found on joining)",
                        "DEBUG orders is free (previous leader a)",
                        "INFO orders is now led by b (fencing token 4, previous leader a, a had released the lease)",
                        "INFO orders is now led by c (fencing token 4, previous leader b, taken over from b)");
        assertThat(log.lastKnownHolder()).isEqualTo("me");
    }

    @Test
    void aLeaseFoundFreeOnJoiningIsNoNewsForListenersButItsFirstHolderIs() {
        assertThat(log.holderSeen(free())).isFalse();
        assertThat(log.holderSeen(held("b"))).isTrue();

        assertThat(captured.lines())
                .containsExactly(
                        "DEBUG orders is free (previous leader none)",
                        "INFO orders is now led by b (fencing token 4, previous leader none, the lease was free)");
    }

    @Test
    void aDeletionIsReportedOnlyWhenSomebodyHeldTheLease() {
        log.deleted();
        log.holderSeen(free());
        log.deleted();
        assertThat(captured.atLeast(Level.INFO)).isEmpty();

        log.holderSeen(held("a"));
        log.deleted();

        assertThat(captured.atLeast(Level.INFO)).endsWith("INFO in-memory lease orders was deleted");
    }

    @Test
    void aCreatedLeaseThatIsHeldBeforeLeadingSaysForHowLongAndWhy() {
        log.holding(Duration.ofSeconds(40));

        assertThat(captured.lines())
                .containsExactly("INFO me created in-memory lease orders; it leads only after holding it for PT40S:"
                        + " the holder of a deleted lease may still lead until its renew deadline");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Terms

    @Test
    void aTermEndedAtItsDeadlineSaysWhyOnlyWhenFailuresAreKnown() {
        LeadershipTerm term = new LeadershipTerm("orders", "me", 3, ACQUIRED);

        log.noLongerLeads(term, RevocationReason.DEADLINE_PASSED, 4, Kind.UNAVAILABLE);
        log.noLongerLeads(term, RevocationReason.DEADLINE_PASSED, 0, Kind.TIMEOUT); // failures reset, kind kept
        log.noLongerLeads(term, RevocationReason.DEADLINE_PASSED, 0, null);
        log.noLongerLeads(term, RevocationReason.LOST, 0, null);

        assertThat(captured.lines())
                .extracting(line -> line.replaceAll(" Another candidate.*", ""))
                .containsExactly(
                        "WARN me no longer leads orders (DEADLINE_PASSED, fencing token was 3): no renew succeeded"
                                + " within the renew deadline (PT10S; 4 failures in a row, last UNAVAILABLE).",
                        "WARN me no longer leads orders (DEADLINE_PASSED, fencing token was 3): no renew succeeded"
                                + " within the renew deadline (PT10S; a renew call may still be in flight).",
                        "WARN me no longer leads orders (DEADLINE_PASSED, fencing token was 3): no renew succeeded"
                                + " within the renew deadline (PT10S; a renew call may still be in flight).",
                        "INFO me no longer leads orders (LOST, fencing token was 3)");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Failures: every one of a leader, a follower's when their kind changes and then every tenth

    @Test
    void everyFailureOfALeaderIsLoggedWithTheTimeLeftEvenWithNoneLeft() {
        log.failed(Kind.UNAVAILABLE, new LeaseStoreException(Kind.UNAVAILABLE, "down"), 1, 8_000_000_000L);
        log.failed(Kind.UNAVAILABLE, new LeaseStoreException(Kind.UNAVAILABLE, "down"), 2, 0);

        assertThat(captured.lines())
                .hasSize(2)
                .allMatch(line -> line.startsWith("WARN me leads in-memory lease orders but could not renew it"));
        assertThat(captured.lines().get(1)).endsWith("Leading for at most PT0S more unless a renew succeeds.");
    }

    @Test
    void aFollowersFailuresAreLoggedWhenTheirKindChangesAndThenEveryTenth() {
        for (int failures = 1; failures <= 21; failures++) {
            log.failed(Kind.UNAVAILABLE, new LeaseStoreException(Kind.UNAVAILABLE, "down"), failures, -1);
        }
        log.failed(Kind.FORBIDDEN, new LeaseStoreException(Kind.FORBIDDEN, "no rule"), 22, -1);
        log.failed(Kind.FORBIDDEN, new LeaseStoreException(Kind.FORBIDDEN, "no rule"), 23, -1);
        log.recovered(23);
        log.failed(Kind.FORBIDDEN, new LeaseStoreException(Kind.FORBIDDEN, "no rule"), 1, -1);

        assertThat(captured.lines())
                .extracting(line -> line.replaceAll("\\)\\: .*", ")"))
                .containsExactly(
                        "WARN me: in-memory lease orders failed (1 in a row, UNAVAILABLE)",
                        "WARN me: in-memory lease orders failed (10 in a row, UNAVAILABLE)",
                        "WARN me: in-memory lease orders failed (20 in a row, UNAVAILABLE)",
                        "WARN me: in-memory lease orders failed (22 in a row, FORBIDDEN)",
                        "INFO orders: store calls succeed again after 23 failures",
                        "WARN me: in-memory lease orders failed (1 in a row, FORBIDDEN)");
    }

    @Test
    void onlyAnUnexpectedFailureComesWithItsStackTrace() {
        log.failed(Kind.TIMEOUT, new LeaseStoreException(Kind.TIMEOUT, "slow"), 1, -1);
        assertThat(captured.lastThrowable()).isNull();

        IllegalStateException bug = new IllegalStateException("a bug in a store");
        log.failed(Kind.OTHER, bug, 1, -1);
        assertThat(captured.lastThrowable()).isSameAs(bug);
    }

    @Test
    void writesOvertakenInThreeCyclesInARowAreWarnedAboutThenEveryTenthCycle() {
        for (int cycle = 1; cycle <= 20; cycle++) {
            log.cycleEnded(true);
        }
        log.cycleEnded(false); // one clean cycle starts the count again
        log.cycleEnded(true);
        log.cycleEnded(true);

        assertThat(captured.lines())
                .extracting(line -> line.replaceAll(" election cycles in a row.*", ""))
                .containsExactly(
                        "WARN me: writes to in-memory lease orders were overtaken by another writer in 3",
                        "WARN me: writes to in-memory lease orders were overtaken by another writer in 10",
                        "WARN me: writes to in-memory lease orders were overtaken by another writer in 20");
    }

    // ---------------------------------------------------------------------------------------------------------
    // One identity, one candidate: one ERROR naming the fix, once proven, at most every 10 minutes

    @Test
    void aRecordWithOurIdentityIsAnErrorOnlyOnceProvenAndThenAtMostEveryTenMinutes() {
        log.duplicateIdentity(mine("1", ACQUIRED), false); // once: a leftover of a restart with a fixed identity
        log.duplicateIdentity(mine("1", ACQUIRED), false);
        assertThat(captured.lines()).isEmpty();

        log.duplicateIdentity(mine("2", ACQUIRED), false); // it changed: another process writes it
        assertThat(captured.lines())
                .singleElement()
                .asString()
                .startsWith("ERROR me: another process writes in-memory lease orders with this candidate's identity"
                        + " 'me' (a term this candidate did not start, acquired 2026-01-01T00:00:00Z), or somebody edited the"
                        + " lease by hand.")
                .contains("this one does not lead beside it")
                .contains("Give every candidate a unique leader.identity");

        time.advance(Duration.ofMinutes(10).minusNanos(1));
        log.duplicateIdentity(mine("3", ACQUIRED), false);
        log.duplicateIdentity(mine("4", null), true);
        assertThat(captured.lines()).hasSize(1);

        time.advance(Duration.ofNanos(1));
        log.duplicateIdentity(mine("4", null), true); // proven while leading, even unchanged
        assertThat(captured.lines()).hasSize(2);
        assertThat(captured.lines().get(1))
                .contains("(a term this candidate did not start)")
                .contains("this one stopped leading at once");
    }

    // ---------------------------------------------------------------------------------------------------------
    // One lease, one application; the watch; waits

    @Test
    void aForeignApplicationIsReportedOncePerApplication() {
        log.foreignApplication("shipping", "billing");
        log.foreignApplication("shipping", "billing");
        log.foreignApplication("invoicing", "billing");
        log.foreignApplication("shipping", "billing");

        assertThat(captured.lines())
                .extracting(line -> line.replaceAll("\\: it refuses.*", ""))
                .containsExactly(
                        "ERROR in-memory lease orders belongs to application 'shipping', but this candidate is of"
                                + " application 'billing'",
                        "ERROR in-memory lease orders belongs to application 'invoicing', but this candidate is of"
                                + " application 'billing'",
                        "ERROR in-memory lease orders belongs to application 'shipping', but this candidate is of"
                                + " application 'billing'");
    }

    @Test
    void aWatchThatCannotStartIsWarnedAboutOncePerEpisode() {
        LeaseStoreException forbidden = new LeaseStoreException(Kind.FORBIDDEN, "no watch rule");
        log.watchEnded(forbidden, true);
        log.watchEnded(forbidden, true);
        log.watchEnded(new IllegalStateException("reset"), false);
        log.watchStarted();
        log.watchStarted();
        log.watchEnded(forbidden, true);

        assertThat(captured.lines())
                .extracting(line -> line.replaceAll("; polling every.*", ""))
                .containsExactly(
                        "WARN me: cannot watch in-memory lease orders (no watch rule)",
                        "DEBUG me: watch on orders ended (dev.leaderpod.core.LeaseStoreException: no watch rule)"
                                + "; polling until it is back",
                        "DEBUG me: watch on orders ended (java.lang.IllegalStateException: reset)"
                                + "; polling until it is back",
                        "INFO me: watching in-memory lease orders again",
                        "WARN me: cannot watch in-memory lease orders (no watch rule)");
    }

    @Test
    void aWaitThatTimedOutAndAWaitThatFailedAreToldApart() {
        log.waitFailed("lease release", Duration.ofSeconds(5), null);
        IllegalStateException failure = new IllegalStateException("listener bug");
        log.waitFailed("revocation", Duration.ofSeconds(5), failure);

        assertThat(captured.lines())
                .containsExactly(
                        "WARN orders: lease release did not finish within PT5S", "WARN orders: revocation failed");
        assertThat(captured.lastThrowable()).isSameAs(failure);
    }

    // ---------------------------------------------------------------------------------------------------------

    private static LeaseRecord held(String holder) {
        return new LeaseRecord(holder, Duration.ofSeconds(15), ACQUIRED, ACQUIRED, 4L);
    }

    private static LeaseRecord free() {
        return new LeaseRecord("", Duration.ofSeconds(1), ACQUIRED, ACQUIRED, 4L);
    }

    private static VersionedLease mine(String version, Instant acquired) {
        return new VersionedLease(new LeaseRecord("me", Duration.ofSeconds(15), acquired, acquired, 4L), version);
    }
}
