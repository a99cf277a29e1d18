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
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What the page says about the election, for each situation the elector's snapshot can show. */
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
