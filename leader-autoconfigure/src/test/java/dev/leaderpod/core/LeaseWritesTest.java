package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * {@link LeaseWrites}: what this candidate writes into the lease (docs/design.md, "Fencing tokens strictly increase":
 * a renew writes its term's own token back; "Ordered graceful shutdown": a release keeps the token; "One lease, one
 * application": every write names the application, and another application's lease is refused).
 */
class LeaseWritesTest {

    private static final Duration LEASE_DURATION = Duration.ofSeconds(15);
    private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

    private final ManualTime time = new ManualTime();
    private final ElectionClock clock = time.clock();
    private final LeaseWrites writes = new LeaseWrites("me", LEASE_DURATION, "orders-app", false, clock);
    private final LeaseWrites unnamed = new LeaseWrites("me", LEASE_DURATION, null, false, clock);

    @Test
    void aNewTermNamesThisCandidateItsDurationItsApplicationAndTheTokenGiven() {
        assertThat(writes.newTerm(START, 7))
                .isEqualTo(new LeaseRecord("me", LEASE_DURATION, START, clock.wallTime(), 7L, "orders-app"));
    }

    @Test
    void aRenewWritesTheTermsOwnTokenBackWhateverAThirdPartyWrote() {
        LeadershipTerm term = new LeadershipTerm("orders", "me", 4, START);
        LeaseRecord edited = new LeaseRecord("me", Duration.ofSeconds(1), START, START, 999L, "someone-else");

        assertThat(writes.renewal(term, edited))
                .isEqualTo(new LeaseRecord("me", LEASE_DURATION, START, clock.wallTime(), 4L, "orders-app"));
        assertThat(unnamed.renewal(term, edited).application())
                .as("a candidate that names no application keeps the lease's")
                .isEqualTo("someone-else");
    }

    @Test
    void aRenewOfACreatedLeaseKeepsItAsCreatedButForTheToken() {
        LeaseRecord created = new LeaseRecord("me", LEASE_DURATION, START, START, null, "created-as");

        assertThat(writes.holding(created, null))
                .isEqualTo(new LeaseRecord("me", LEASE_DURATION, START, clock.wallTime(), null, "created-as"));
        assertThat(writes.holding(created, 12L).leaseTransitions()).isEqualTo(12L);
    }

    @Test
    void aReleaseClearsTheHolderSetsTheReleaseDurationAndKeepsTheTermsTokenAndApplication() {
        LeaseRecord mine = new LeaseRecord("me", LEASE_DURATION, START, START, 5L, "theirs");
        LeaseRecord released = writes.release(mine, null);

        assertThat(released)
                .isEqualTo(new LeaseRecord("", ObservedLease.RELEASED_DURATION, START, clock.wallTime(), 5L, "theirs"));
        assertThat(ObservedLease.isRelease(released)).isTrue();
        assertThat(writes.release(new LeaseRecord("me", LEASE_DURATION, START, START, 5L, null), null)
                        .application())
                .as("ours when the lease names none")
                .isEqualTo("orders-app");
    }

    @Test
    void onlyALeaseNamingAnotherApplicationIsRefusedUnlessSharingIsAllowed() {
        assertThat(writes.ofAnotherApplication(record("other-app"))).isTrue();
        assertThat(writes.ofAnotherApplication(record("orders-app"))).isFalse();
        assertThat(writes.ofAnotherApplication(record(null)))
                .as("a lease naming none")
                .isFalse();
        assertThat(unnamed.ofAnotherApplication(record("other-app")))
                .as("a candidate naming none")
                .isFalse();
        assertThat(new LeaseWrites("me", LEASE_DURATION, "orders-app", true, clock)
                        .ofAnotherApplication(record("other-app")))
                .as("sharing allowed")
                .isFalse();
        assertThat(writes.application()).isEqualTo("orders-app");
    }

    private static LeaseRecord record(String application) {
        return new LeaseRecord("other", LEASE_DURATION, START, START, 1L, application);
    }
}
