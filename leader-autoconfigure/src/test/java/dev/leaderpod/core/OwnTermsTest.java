package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * {@link OwnTerms}: which records a candidate may take back at once as its own (docs/design.md, "One identity, one
 * candidate"). Anything it wrongly accepts is a term of another process with the same identity taken over while that
 * process still leads; anything it wrongly refuses only costs a lease duration.
 */
class OwnTermsTest {

    private static final long RENEW_DEADLINE = Duration.ofSeconds(10).toNanos();
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private final OwnTerms own = new OwnTerms("me", RENEW_DEADLINE);

    // ---------------------------------------------------------------------------------------------------------
    // Start times: unique per candidate, kept to the microsecond

    @Test
    void aTermStartsAtTheWallTimeTruncatedToTheMicrosecondThatEveryStoreKeeps() {
        assertThat(own.startTime(T0.plusNanos(1_234_567))).isEqualTo(T0.plusNanos(1_234_000));
    }

    @Test
    void everyStartTimeIsAfterTheLastEvenWhenTheWallClockStandsStillOrGoesBack() {
        Instant first = own.startTime(T0.plusSeconds(10));
        Instant sameMicro = own.startTime(T0.plusSeconds(10).plusNanos(999));
        Instant earlier = own.startTime(T0);
        Instant later = own.startTime(T0.plusSeconds(20));

        assertThat(first).isEqualTo(T0.plusSeconds(10));
        assertThat(sameMicro).isEqualTo(T0.plusSeconds(10).plusNanos(1_000));
        assertThat(earlier).isEqualTo(T0.plusSeconds(10).plusNanos(2_000));
        assertThat(later).isEqualTo(T0.plusSeconds(20));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Our writes: by the version they returned, or, unanswered, by acquire time within a renew deadline

    @Test
    void aRecordWithTheVersionAWriteOfOursReturnedIsOurs() {
        VersionedLease written = lease("me", T0, "7");
        own.sent(T0, 0);
        own.landed(written);

        assertThat(own.wrote(written, Long.MAX_VALUE))
                .as("a landed write does not age")
                .isTrue();
        assertThat(own.wrote(lease("me", T0, "8"), 0))
                .as("the same term at another version: written by somebody else since")
                .isFalse();
    }

    @Test
    void aWriteWhoseAnswerNeverCameIsOursOnlyWithinARenewDeadlineOfSendingIt() {
        long sentAt = 5_000;
        own.sent(T0, sentAt);

        assertThat(own.wrote(lease("me", T0, "3"), sentAt)).isTrue();
        assertThat(own.wrote(lease("me", T0, "4"), sentAt + RENEW_DEADLINE - 1)).isTrue();
        assertThat(own.wrote(lease("me", T0, "3"), sentAt + RENEW_DEADLINE)).isFalse();
    }

    @Test
    void onceAWriteLandedItsUnansweredAttemptNoLongerVouchesForOtherVersions() {
        // The attempt was answered: the only version of ours with this acquire time is the one it returned.
        own.sent(T0, 0);
        own.landed(lease("me", T0, "7"));

        assertThat(own.wrote(lease("me", T0, "9"), 1)).isFalse();
    }

    @Test
    void landingAWriteForgetsOnlyTheUnansweredAttemptsOfItsOwnTerm() {
        Instant other = T0.plusSeconds(1);
        own.sent(other, 0);
        own.sent(T0, 0);
        own.landed(lease("me", T0, "7"));

        assertThat(own.wrote(lease("me", other, "8"), 1)).isTrue();
    }

    @Test
    void aWriteThatConflictedDidNotLandAndIsNobodysOfOurs() {
        own.sent(T0, 0);
        own.landed(lease("me", T0, "7"));
        Instant lost = T0.plusSeconds(1);
        own.sent(lost, 0);

        own.lost(lost);

        assertThat(own.wrote(lease("me", lost, "8"), 1)).isFalse();
        assertThat(own.wrote(lease("me", T0, "7"), 1))
                .as("other writes are kept")
                .isTrue();
    }

    @Test
    void aRecordOfAnotherHolderOrWithoutHolderIsNeverOurs() {
        own.sent(T0, 0);
        own.landed(lease("me", T0, "7"));

        assertThat(own.wrote(lease("other", T0, "7"), 1)).isFalse();
        assertThat(own.wrote(lease("", T0, "7"), 1)).isFalse();
        assertThat(own.wrote(lease("me", T0.plusNanos(1_000), "7"), 1))
                .as("another acquire time")
                .isFalse();
    }

    @Test
    void aRecordOfOursIsFoundAmongSeveralRememberedWrites() {
        own.landed(lease("me", T0, "1"));
        own.landed(lease("me", T0.plusSeconds(1), "2"));
        own.sent(T0.plusSeconds(2), 0);

        assertThat(own.wrote(lease("me", T0, "1"), 1)).isTrue();
    }

    @Test
    void onlyTheLastEightWritesAreRemembered() {
        for (int i = 0; i < 9; i++) {
            own.landed(lease("me", T0.plusSeconds(i), Integer.toString(i)));
        }

        assertThat(own.wrote(lease("me", T0, "0"), 1))
                .as("the oldest is forgotten")
                .isFalse();
        assertThat(own.wrote(lease("me", T0.plusSeconds(1), "1"), 1)).isTrue();
        assertThat(own.wrote(lease("me", T0.plusSeconds(8), "8"), 1)).isTrue();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Leases this candidate created: held before their term starts (docs/design.md, "Third parties cannot make two
    // leaders", Deletion)

    @Test
    void aCreatedLeaseIsAnUnstartedCreateOfOursUntilItsTermStarts() {
        own.sentCreate(T0);

        assertThat(own.unstartedCreate(lease("me", T0, "1").record())).isTrue();
        assertThat(own.unstartedCreate(lease("me", T0.plusNanos(1_000), "1").record()))
                .as("another acquire time")
                .isFalse();
        assertThat(own.unstartedCreate(lease("other", T0, "1").record()))
                .as("another holder")
                .isFalse();

        own.started(T0);
        assertThat(own.unstartedCreate(lease("me", T0, "1").record())).isFalse();
    }

    @Test
    void aCreateThatConflictedIsNoUnstartedCreateOfOurs() {
        own.sentCreate(T0);
        own.sentCreate(T0.plusSeconds(1));

        own.lost(T0);

        assertThat(own.unstartedCreate(lease("me", T0, "1").record())).isFalse();
        assertThat(own.unstartedCreate(lease("me", T0.plusSeconds(1), "1").record()))
                .isTrue();
    }

    @Test
    void onlyTheLastEightUnstartedCreatesAreRemembered() {
        for (int i = 0; i < 9; i++) {
            own.sentCreate(T0.plusSeconds(i));
        }

        assertThat(own.unstartedCreate(lease("me", T0, "1").record()))
                .as("the oldest is forgotten")
                .isFalse();
        assertThat(own.unstartedCreate(lease("me", T0.plusSeconds(1), "1").record()))
                .isTrue();
        assertThat(own.unstartedCreate(lease("me", T0.plusSeconds(8), "1").record()))
                .isTrue();
    }

    // ---------------------------------------------------------------------------------------------------------
    // The current term: identity and acquire time

    @Test
    void theCurrentTermIsRecognisedByIdentityAndAcquireTime() {
        LeadershipTerm term = new LeadershipTerm("orders", "me", 3, T0);

        assertThat(own.isTerm(lease("me", T0, "1").record(), term)).isTrue();
        assertThat(own.isTerm(lease("me", T0.plusNanos(1_000), "1").record(), term))
                .isFalse();
        assertThat(own.isTerm(lease("other", T0, "1").record(), term)).isFalse();
        assertThat(own.isTerm(lease(null, T0, "1").record(), term)).isFalse();
    }

    private static VersionedLease lease(String holder, Instant acquireTime, String version) {
        return new VersionedLease(
                new LeaseRecord(holder, Duration.ofSeconds(15), acquireTime, acquireTime, 1L), version);
    }
}
