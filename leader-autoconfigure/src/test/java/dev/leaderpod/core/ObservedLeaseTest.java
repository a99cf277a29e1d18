package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * {@link ObservedLease}, the expiry rule every takeover rests on (docs/design.md, "Expiry by local observation" and
 * "Third parties cannot make two leaders"), stated exactly: when the expiry clock restarts, how long a record or an
 * absence is waited out, and which tokens a new term takes ("Fencing tokens strictly increase").
 */
class ObservedLeaseTest {

    private static final Duration OWN = Duration.ofSeconds(15);
    private static final long SECOND = Duration.ofSeconds(1).toNanos();

    private final ManualTime time = new ManualTime();
    private final ObservedLease observed = new ObservedLease(time.clock(), OWN);

    // ---------------------------------------------------------------------------------------------------------
    // Expiry by local observation: the clock restarts on a change of version or content, and only then

    @Test
    void theFirstSightOfALeaseStartsItsExpiryClock() {
        VersionedLease lease = held("a", OWN, 1, "1");

        assertThat(observed.see(lease)).isTrue();

        assertThat(observed.lease()).isSameAs(lease);
        assertThat(observed.changedAtNanos()).isEqualTo(time.nanoTime());
        assertThat(observed.absent()).isFalse();
    }

    @Test
    void theSameVersionWithTheSameContentIsNoChangeAndDoesNotRestartTheClock() {
        observed.see(held("a", OWN, 1, "1"));
        long firstSeen = time.nanoTime();
        time.advance(Duration.ofSeconds(5));

        assertThat(observed.see(held("a", OWN, 1, "1"))).isFalse();

        assertThat(observed.changedAtNanos()).isEqualTo(firstSeen);
        assertThat(observed.untilExpiryNanos()).isEqualTo(10 * SECOND);
    }

    @Test
    void aNewVersionIsAChangeEvenWithTheSameContent() {
        // A leader's renew may write identical content (a renew within the same wall-clock instant): the version moves.
        VersionedLease first = held("a", OWN, 1, "1");
        observed.see(first);
        time.advance(Duration.ofSeconds(5));

        VersionedLease renewed = new VersionedLease(first.record(), "2");
        assertThat(observed.see(renewed)).isTrue();

        assertThat(observed.changedAtNanos()).isEqualTo(time.nanoTime());
        assertThat(observed.lease()).isSameAs(renewed);
    }

    @Test
    void newContentUnderTheSameVersionIsAChange() {
        // A store that reuses a version (a restored backup) must not hide a change of holder.
        observed.see(held("a", OWN, 1, "1"));
        time.advance(Duration.ofSeconds(5));

        assertThat(observed.see(held("b", OWN, 1, "1"))).isTrue();

        assertThat(observed.changedAtNanos()).isEqualTo(time.nanoTime());
        assertThat(observed.lease().record().holderIdentity()).isEqualTo("b");
    }

    @Test
    void aLeaseSeenAgainAfterItsAbsenceIsAChangeEvenWithTheSameVersionAndContent() {
        observed.see(held("a", OWN, 1, "1"));
        observed.seeAbsent(false);
        time.advance(Duration.ofSeconds(5));

        assertThat(observed.see(held("a", OWN, 1, "1"))).isTrue();

        assertThat(observed.absent()).isFalse();
        assertThat(observed.changedAtNanos()).isEqualTo(time.nanoTime());
    }

    @Test
    void aRecordExpiresExactlyWhenItsWaitHasPassedUnchanged() {
        LeaseRecord record = held("a", OWN, 1, "1").record();
        observed.see(new VersionedLease(record, "1"));

        time.advance(OWN.minusNanos(1));
        assertThat(observed.expired(record)).isFalse();
        assertThat(observed.untilExpiryNanos()).isEqualTo(1);
        time.advance(Duration.ofNanos(1));
        assertThat(observed.expired(record)).isTrue();
        assertThat(observed.untilExpiryNanos()).isZero();
        time.advance(Duration.ofNanos(1));
        assertThat(observed.untilExpiryNanos()).isEqualTo(-1);
    }

    @Test
    void ownWritesRestartTheClockAtTheTimeTheyWereSentNotWhenTheyWereAnswered() {
        // The leader's own view of its term must never outlast what a follower sees: a follower saw the write no
        // earlier than it was sent.
        long sentAt = time.nanoTime();
        time.advance(Duration.ofSeconds(3));
        VersionedLease written = held("me", OWN, 4, "9");

        observed.seeOwnWrite(written, sentAt);

        assertThat(observed.lease()).isSameAs(written);
        assertThat(observed.changedAtNanos()).isEqualTo(sentAt);
        assertThat(observed.untilExpiryNanos()).isEqualTo(12 * SECOND);
        assertThat(observed.firstToken()).isEqualTo(5);
    }

    @Test
    void anOwnWriteEndsAnAbsenceAndItsNeverExistedHint() {
        observed.seeAbsent(true);

        observed.seeOwnWrite(held("me", OWN, 0, "1"), time.nanoTime());

        assertThat(observed.absent()).isFalse();
        assertThat(observed.neverExisted()).isFalse();
        observed.seeAbsent(false);
        assertThat(observed.neverExisted())
                .as("the hint of the earlier absence is gone")
                .isFalse();
    }

    @Test
    void aLeaseNeverSeenHasNothingToWaitFor() {
        assertThat(observed.lease()).isNull();
        assertThat(observed.absent()).isFalse();
        assertThat(observed.untilExpiryNanos()).isEqualTo(observed.changedAtNanos() - time.nanoTime());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Third parties cannot make two leaders: the wait is never shorter than our own lease duration

    @Test
    void theWaitIsTheLongerOfTheRecordsDurationAndOurs() {
        assertThat(observed.expiryNanos(
                        held("a", Duration.ofSeconds(20), 0, "1").record()))
                .isEqualTo(20 * SECOND);
        assertThat(observed.expiryNanos(held("a", OWN, 0, "1").record())).isEqualTo(15 * SECOND);
        assertThat(observed.expiryNanos(held("a", Duration.ofSeconds(3), 0, "1").record()))
                .isEqualTo(15 * SECOND);
        assertThat(observed.expiryNanos(held("a", Duration.ZERO, 0, "1").record()))
                .isEqualTo(15 * SECOND);
        assertThat(observed.expiryNanos(
                        held("a", Duration.ofSeconds(-5), 0, "1").record()))
                .isEqualTo(15 * SECOND);
        assertThat(observed.expiryNanos(held("a", null, 0, "1").record())).isEqualTo(15 * SECOND);
    }

    @Test
    void aLongerDurationInTheRecordIsWaitedOutInFull() {
        LeaseRecord record = held("a", Duration.ofSeconds(20), 0, "1").record();
        observed.see(new VersionedLease(record, "1"));

        time.advance(OWN);
        assertThat(observed.expired(record)).isFalse();
        assertThat(observed.untilExpiryNanos()).isEqualTo(5 * SECOND);
        time.advance(Duration.ofSeconds(5));
        assertThat(observed.expired(record)).isTrue();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Third parties cannot make two leaders, Deletion: an absence counts from its first sight, and a created lease is
    // held for a lease duration (or the last held record's, if longer) before its term starts

    @Test
    void anAbsenceCountsFromItsFirstSightForOurDuration() {
        assertThat(observed.seeAbsent(false))
                .as("never seen before: not a deletion")
                .isFalse();
        long firstSight = time.nanoTime();
        time.advance(Duration.ofSeconds(5));
        assertThat(observed.seeAbsent(false)).isFalse();

        assertThat(observed.changedAtNanos())
                .as("seeing it absent again does not restart the clock")
                .isEqualTo(firstSight);
        assertThat(observed.absenceWaitNanos()).isEqualTo(15 * SECOND);
        assertThat(observed.untilExpiryNanos()).isEqualTo(10 * SECOND);
        time.advance(Duration.ofSeconds(10).minusNanos(1));
        assertThat(observed.untilExpiryNanos()).isEqualTo(1);
        time.advance(Duration.ofNanos(1));
        assertThat(observed.untilExpiryNanos()).isZero();
    }

    @Test
    void aDeletionIsReportedOnceAndRestartsTheClock() {
        observed.see(held("a", OWN, 3, "1"));
        time.advance(Duration.ofSeconds(4));

        assertThat(observed.seeAbsent(false)).isTrue();
        assertThat(observed.lease()).isNull();
        assertThat(observed.absent()).isTrue();
        assertThat(observed.changedAtNanos()).isEqualTo(time.nanoTime());
        assertThat(observed.seeAbsent(false)).isFalse();
    }

    @Test
    void aCreatedLeaseIsHeldForTheDurationOfTheLastHeldRecordWhenLonger() {
        // Its holder, cut off, may lead for up to its own (longer) duration after its last renew.
        observed.see(held("a", Duration.ofSeconds(40), 3, "1"));
        observed.see(free(Duration.ofSeconds(90), 3, "2")); // no holder: its duration protects nobody
        observed.seeAbsent(false);

        assertThat(observed.absenceWaitNanos()).isEqualTo(40 * SECOND);
        time.advance(Duration.ofSeconds(39));
        assertThat(observed.untilExpiryNanos()).isEqualTo(SECOND);
        time.advance(Duration.ofSeconds(1));
        assertThat(observed.untilExpiryNanos()).isZero();
    }

    @Test
    void aHeldRecordWithoutADurationKeepsTheLastKnownDuration() {
        observed.see(held("a", Duration.ofSeconds(40), 3, "1"));
        observed.see(held("b", null, 4, "2"));
        observed.seeAbsent(false);

        assertThat(observed.absenceWaitNanos()).isEqualTo(40 * SECOND);
    }

    @Test
    void aPresentLeaseIsWaitedOutByItsRecordNotAsAnAbsence() {
        observed.see(held("a", Duration.ofSeconds(40), 3, "1"));
        observed.seeAbsent(false);
        time.advance(Duration.ofSeconds(5));
        observed.see(held("b", OWN, 4, "2"));

        assertThat(observed.untilExpiryNanos())
                .as("the record's own wait, not the 40 s hold of a created lease")
                .isEqualTo(15 * SECOND);
    }

    @Test
    void theNeverExistedHintHoldsOnlyWhileTheLeaseIsAbsentAndUntilForgotten() {
        observed.seeAbsent(true);
        assertThat(observed.neverExisted()).isTrue();

        observed.forgetNeverExisted();
        assertThat(observed.neverExisted()).isFalse();

        observed.seeAbsent(true);
        observed.see(held("a", OWN, 0, "1"));
        assertThat(observed.neverExisted()).isFalse();
        observed.seeAbsent(false);
        assertThat(observed.neverExisted()).isFalse();
    }

    @Test
    void currentIsWhatTheElectorSetsIt() {
        assertThat(observed.current()).isFalse();
        observed.current(true);
        assertThat(observed.current()).isTrue();
        observed.current(false);
        assertThat(observed.current()).isFalse();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Fencing tokens strictly increase

    @Test
    void tokensOfNewTermsAreAboveTheRecordsAndAboveEveryTokenSeen() {
        assertThat(observed.firstToken()).as("nothing seen").isZero();
        assertThat(observed.nextToken(held("a", OWN, 0, "1").record())).isEqualTo(1);

        observed.see(held("a", OWN, 7, "1"));
        assertThat(observed.firstToken()).isEqualTo(8);
        assertThat(observed.nextToken(held("a", OWN, 2, "2").record()))
                .as("a reset record")
                .isEqualTo(8);
        assertThat(observed.nextToken(held("a", OWN, 11, "2").record())).isEqualTo(12);

        observed.see(held("a", OWN, 2, "3")); // a third party reset the transitions
        assertThat(observed.firstToken()).as("the highest token seen is kept").isEqualTo(8);
    }

    @Test
    void implausibleTokensAreIgnoredRatherThanOverflowing() {
        long limit = ObservedLease.MAX_PLAUSIBLE_TOKEN;
        assertThat(ObservedLease.plausible(held("a", OWN, limit, "1").record())).isTrue();
        assertThat(ObservedLease.plausible(held("a", OWN, limit + 1, "1").record()))
                .isFalse();
        assertThat(ObservedLease.plausible(held("a", OWN, Long.MAX_VALUE, "1").record()))
                .isFalse();

        observed.see(held("a", OWN, 5, "1"));
        observed.see(held("a", OWN, Long.MAX_VALUE, "2"));
        assertThat(observed.firstToken()).isEqualTo(6);
        assertThat(observed.nextToken(held("a", OWN, Long.MAX_VALUE, "2").record()))
                .isEqualTo(6);
        observed.seeOwnWrite(held("me", OWN, Long.MAX_VALUE, "3"), time.nanoTime());
        assertThat(observed.firstToken()).isEqualTo(6);

        observed.see(held("a", OWN, limit, "4"));
        assertThat(observed.nextToken(held("a", OWN, limit, "4").record())).isEqualTo(limit + 1);
    }

    // ---------------------------------------------------------------------------------------------------------
    // What a release is (docs/design.md, "Third parties cannot make two leaders", Holder)

    @Test
    void onlyARecordWithoutHolderAndWithAtMostTheReleasedDurationIsARelease() {
        assertThat(ObservedLease.isRelease(free(Duration.ofSeconds(1), 0, "1").record()))
                .isTrue();
        assertThat(ObservedLease.isRelease(free(Duration.ofMillis(500), 0, "1").record()))
                .isTrue();
        assertThat(ObservedLease.isRelease(new LeaseRecord(null, Duration.ofSeconds(1), null, null, null)))
                .isTrue();
        assertThat(ObservedLease.isRelease(
                        free(Duration.ofSeconds(1).plusNanos(1), 0, "1").record()))
                .as("cleared by hand, duration kept")
                .isFalse();
        assertThat(ObservedLease.isRelease(free(null, 0, "1").record()))
                .as("an empty spec")
                .isFalse();
        assertThat(ObservedLease.isRelease(
                        held("a", Duration.ofSeconds(1), 0, "1").record()))
                .isFalse();
    }

    // ---------------------------------------------------------------------------------------------------------

    private VersionedLease held(String holder, Duration duration, long token, String version) {
        Instant wall = Instant.parse("2026-01-01T00:00:00Z");
        return new VersionedLease(new LeaseRecord(holder, duration, wall, wall, token), version);
    }

    private VersionedLease free(Duration duration, long token, String version) {
        Instant wall = Instant.parse("2026-01-01T00:00:00Z");
        return new VersionedLease(new LeaseRecord("", duration, wall, wall, token), version);
    }
}
