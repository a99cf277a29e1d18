package dev.leaderpod.benchmarks.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.benchmarks.support.MockApiServer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The short chaos configuration CI runs: five of our electors, clocks hours apart and ±1 % in rate, a minute of
 * network, server and store faults, pauses and crashes, then an API outage longer than a lease. No two candidates
 * may ever lead at once, and a leader must be back soon after the faults stop. benchmarks/README.md has the long
 * configuration.
 *
 * <p>The liveness bound is the harness's own: lease duration + retry period + 1 s after the faults stop. It holds
 * because a failing follower's back-off is capped at lease duration − renew deadline (see LeaseElectorRecoveryTest).
 */
@Tag("slow")
class ChaosTest {

    @Test
    @Timeout(150)
    void neverTwoLeadersAndALeaderSoonAfterTheFaultsStop() {
        ChaosHarness.Result result;
        try (MockApiServer server = new MockApiServer()) {
            result = new ChaosHarness(server, ChaosHarness.Config.ci(ChaosHarness.Elector.OURS, 20261124L)).run();
        }
        System.out.println(result.summary());

        assertThat(result.overlaps()).as(result.summary()).isEmpty();
        assertThat(result.timeToLeaderAfterFaults()).as(result.summary()).isNotNull();
        assertThat(result.leaderBackInTime())
                .as("leader back within lease + retry + 1 s: %s", result.summary())
                .isTrue();
        assertThat(result.leadersAtEnd()).as(result.summary()).isEqualTo(1);
        assertThat(result.terms()).as("leadership changed hands during the run").isGreaterThan(3);
    }
}
