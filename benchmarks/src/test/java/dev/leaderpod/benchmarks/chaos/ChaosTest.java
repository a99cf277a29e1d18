package dev.leaderpod.benchmarks.chaos;

import dev.leaderpod.benchmarks.support.MockApiServer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The short chaos configuration CI runs: five of our electors, clocks hours apart and ±1 % in rate, 50 s of faults
 * of every class, then an outage longer than a lease. Three runs side by side: on the Kubernetes Lease store (network,
 * server and store faults, pauses, crashes, stalled and cut responses, a third party editing and deleting the Lease,
 * silent watches, Errors from the store, context stop/start), on the local file store (store faults, pauses,
 * crashes, Errors, context stop/start, the lease directory deleted), and on the Kubernetes store again with four
 * elections on four candidates, spread ({@code ElectionSpreader}, presence every second) under the same classes, the
 * third party editing and deleting any of the four Leases. benchmarks/README.md has the long configuration and what
 * each check means.
 *
 * <p>No two candidates may ever lead one election at once, neither as polled through {@code currentTerm()} nor as
 * their listeners were told; every election must have a leader within lease duration + retry period + 1 s after the
 * faults stop (a lease duration more if its lease is absent then) and never be leaderless longer than that bound
 * afterwards (moves, hand-over rounds); exactly one leader of each election after a quiet stretch; in the hand-over
 * rounds every candidate left must still be in every election; and a context stop/start must work.
 */
@Tag("slow")
class ChaosTest {

    private static final long SEED = 20261124L;

    /** Four elections on four candidates: every candidate leads one when they are spread. */
    static final int ELECTIONS = 4;

    @Test
    @Timeout(180)
    void neverTwoLeadersAndALeaderSoonAfterTheFaultsStop() throws Exception {
        CompletableFuture<ChaosHarness.Result> onFiles = CompletableFuture.supplyAsync(() -> new ChaosHarness(
                        null,
                        ChaosHarness.Config.ci(ChaosHarness.Elector.OURS, SEED).withStore(ChaosHarness.Store.LOCAL))
                .run());
        CompletableFuture<ChaosHarness.Result> spread = CompletableFuture.supplyAsync(() -> {
            try (MockApiServer server = new MockApiServer()) {
                return new ChaosHarness(
                                server,
                                ChaosHarness.Config.ci(ChaosHarness.Elector.OURS, SEED)
                                        .withCandidates(4)
                                        .withElections(ELECTIONS))
                        .run();
            }
        });
        ChaosHarness.Result onKubernetes;
        try (MockApiServer server = new MockApiServer()) {
            onKubernetes = new ChaosHarness(server, ChaosHarness.Config.ci(ChaosHarness.Elector.OURS, SEED)).run();
        }
        ChaosHarness.Result local = onFiles.get(90, TimeUnit.SECONDS);
        ChaosHarness.Result spreadOnKubernetes = spread.get(90, TimeUnit.SECONDS);
        System.out.println(onKubernetes.summary());
        System.out.println(local.summary());
        System.out.println(spreadOnKubernetes.summary());

        SoftAssertions softly = new SoftAssertions();
        for (ChaosHarness.Result result : List.of(onKubernetes, local, spreadOnKubernetes)) {
            check(softly, result);
        }
        softly.assertAll();
    }

    private static void check(SoftAssertions softly, ChaosHarness.Result result) {
        String run = "[" + result.config().store()
                + (result.config().elections() == 1
                        ? ""
                        : " × " + result.config().elections() + " elections")
                + "] ";
        softly.assertThat(result.overlaps())
                .as(run + "overlaps as polled through currentTerm(): %s", result.summary())
                .isEmpty();
        softly.assertThat(result.listenerOverlaps())
                .as(run + "overlaps as the listeners were told (onStarted/onStoppedLeading)")
                .isEmpty();
        softly.assertThat(result.timeToLeaderAfterFaults())
                .as(run + "a leader after the faults stopped")
                .isNotNull();
        softly.assertThat(result.leaderBackInTime())
                .as(
                        run + "leader back within %d ms after the faults stopped",
                        result.livenessBound().toMillis())
                .isTrue();
        softly.assertThat(result.leadersAtEnd()).as(run + "leaders at the end").isEqualTo(1);
        softly.assertThat(result.livenessFailures())
                .as(run + "elections leaderless past their bound after the faults stopped")
                .isEmpty();
        softly.assertThat(result.handOverFailures())
                .as(run + "hand-over rounds: every candidate still in the election")
                .isEmpty();
        softly.assertThat(result.lifecycleFailures())
                .as(run + "context stop/start of the same elector")
                .isEmpty();
        softly.assertThat(result.terms()).as(run + "leadership changed hands").isGreaterThan(3);
    }
}
