package dev.leaderpod.sample.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.ElectionSnapshot;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.VersionedLease;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * What the page says about the election, for each situation the elector's snapshot can show, and how it lists the
 * elections and their spread.
 */
class StatusControllerTest {

    private static final ElectionSettings SETTINGS = ElectionSettings.withDefaults("leaderpod-sample", "me");
    private static final Instant NOW = Instant.parse("2026-01-01T10:00:00Z");

    @Test
    void leading() {
        LeadershipTerm term = new LeadershipTerm("leaderpod-sample", "me", 3, NOW);
        assertThat(election(true, Optional.of(term), lease("me"), 0, null).state())
                .isEqualTo("leading");
    }

    @Test
    void followingAnotherHolder() {
        StatusController.Election election = election(false, Optional.empty(), lease("other"), 0, null);
        assertThat(election.state()).isEqualTo("following");
        assertThat(election.detail()).startsWith("other leads;");
    }

    @Test
    void lapsedWhenTheLeaseStillNamesThisInstanceButItNoLongerLeads() {
        assertThat(election(false, Optional.empty(), lease("me"), 2, LeaseStoreException.Kind.TIMEOUT)
                        .state())
                .isEqualTo("lapsed");
    }

    @Test
    void freeWhenTheLeaseNamesNoHolder() {
        assertThat(election(false, Optional.empty(), lease(null), 0, null).state())
                .isEqualTo("free");
    }

    /** No lease seen yet: the page says that its creator will hold it one lease duration first, and why. */
    @Test
    void absentWhileNoLeaseIsSeen() {
        StatusController.Election election = election(false, Optional.empty(), Optional.empty(), 0, null);
        assertThat(election.state()).isEqualTo("absent");
        assertThat(election.detail())
                .contains("holds it for one lease duration (15.0 s) before it leads")
                .contains("cannot tell a deleted lease from one that never existed");
    }

    /** The creator of a missing lease, renewing it but not leading yet, says it is holding it, and why. */
    @Test
    void holdingWhileItHoldsTheLeaseItCreated() {
        ElectionSnapshot snapshot = new ElectionSnapshot(
                "leaderpod-sample",
                "me",
                false,
                Optional.empty(),
                lease("me"),
                Optional.of(Duration.ofSeconds(1)),
                Optional.of(Duration.ofSeconds(1)),
                0,
                Optional.empty(),
                false);
        StatusController.Election election = StatusController.election(snapshot, SETTINGS);
        assertThat(election.state()).isEqualTo("holding");
        assertThat(election.detail()).contains("created the lease and holds it for one lease duration (15.0 s)");
    }

    @Test
    void unreadableWhenNoLeaseWasSeenAndReadingFails() {
        StatusController.Election election =
                election(false, Optional.empty(), Optional.empty(), 3, LeaseStoreException.Kind.FORBIDDEN);
        assertThat(election.state()).isEqualTo("unreadable");
        assertThat(election.detail()).contains("FORBIDDEN, 3 failure(s) in a row");
    }

    @Test
    void rowOfANamedElectionThatAnotherInstanceLeads() {
        ElectionSnapshot snapshot = new ElectionSnapshot(
                "leaderpod-sample-billing",
                "me",
                false,
                Optional.empty(),
                lease("other"),
                Optional.of(Duration.ofSeconds(1)),
                Optional.empty(),
                0,
                Optional.empty(),
                true);
        assertThat(StatusController.row("billing", snapshot, SETTINGS, 5))
                .isEqualTo(new StatusController.ElectionRow(
                        "billing", "leaderpod-sample-billing", true, false, "other", 3L, "following", 5));
    }

    @Test
    void rowOfAnElectionThisInstanceLeadsHasItsTermsToken() {
        LeadershipTerm term = new LeadershipTerm("leaderpod-sample-index", "me", 9, NOW);
        ElectionSnapshot snapshot = new ElectionSnapshot(
                "leaderpod-sample-index",
                "me",
                true,
                Optional.of(term),
                lease("me"),
                Optional.of(Duration.ofSeconds(1)),
                Optional.of(Duration.ofSeconds(1)),
                0,
                Optional.empty(),
                false);
        StatusController.ElectionRow row = StatusController.row("index", snapshot, SETTINGS, 0);
        assertThat(row.leader()).isTrue();
        assertThat(row.holder()).isEqualTo("me");
        assertThat(row.fencingToken())
                .as("the term's token, not the lease as last read")
                .isEqualTo(9);
        assertThat(row.state()).isEqualTo("leading");
    }

    /** Without a spreader, the shares are the holders as this instance sees the leases; a free lease counts for none. */
    @Test
    void withoutSpreadingTheSharesAreTheHoldersOfTheLeases() {
        List<StatusController.ElectionRow> rows = List.of(
                new StatusController.ElectionRow("", "leaderpod-sample", true, true, "me", 1L, "leading", 4),
                new StatusController.ElectionRow(
                        "billing", "leaderpod-sample-billing", true, false, "other", 2L, "following", 0),
                new StatusController.ElectionRow(
                        "cleanup", "leaderpod-sample-cleanup", true, true, "me", 0L, "leading", 1),
                new StatusController.ElectionRow(
                        "index", "leaderpod-sample-index", true, false, null, null, "free", 0));
        StatusController.Spreading spreading = StatusController.spreading("me", rows, Optional.empty());
        assertThat(spreading.active()).isFalse();
        assertThat(spreading.share()).isEqualTo(2);
        assertThat(spreading.shares()).containsExactly(Map.entry("me", 2), Map.entry("other", 1));
        assertThat(spreading.candidates()).isEmpty();
        assertThat(spreading.moves()).isZero();
    }

    private static Optional<VersionedLease> lease(String holder) {
        return Optional.of(new VersionedLease(new LeaseRecord(holder, Duration.ofSeconds(15), NOW, NOW, 3L), "v1"));
    }

    private static StatusController.Election election(
            boolean leader,
            Optional<LeadershipTerm> term,
            Optional<VersionedLease> observed,
            int failures,
            LeaseStoreException.Kind lastFailure) {
        ElectionSnapshot snapshot = new ElectionSnapshot(
                "leaderpod-sample",
                "me",
                leader,
                term,
                observed,
                observed.map(ignored -> Duration.ofSeconds(1)),
                Optional.empty(),
                failures,
                Optional.ofNullable(lastFailure),
                false);
        return StatusController.election(snapshot, SETTINGS);
    }
}
