package dev.leaderpod.benchmarks.chaos;

import static dev.leaderpod.benchmarks.chaos.ChaosHarness.Elector.FABRIC8;
import static dev.leaderpod.benchmarks.chaos.ChaosHarness.Elector.OURS;
import static dev.leaderpod.benchmarks.chaos.ChaosHarness.Store.KUBERNETES;
import static dev.leaderpod.benchmarks.chaos.ChaosHarness.Store.LOCAL;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class FaultClassTest {

    @Test
    void ourElectorOnTheKubernetesStoreMeetsEveryClassButTheLeaseDirectory() {
        assertThat(Arrays.stream(FaultClass.values()).filter(c -> c.appliesTo(OURS, KUBERNETES)))
                .containsExactlyInAnyOrder(
                        FaultClass.NETWORK,
                        FaultClass.SERVER,
                        FaultClass.STORE,
                        FaultClass.PAUSES,
                        FaultClass.CRASHES,
                        FaultClass.STALLS,
                        FaultClass.THIRD_PARTY,
                        FaultClass.SILENT_WATCH,
                        FaultClass.ERRORS,
                        FaultClass.RESTARTS);
    }

    @Test
    void theLocalStoreHasNoServerNetworkOrLeaseObjectButItsDirectoryCanVanish() {
        assertThat(Arrays.stream(FaultClass.values()).filter(c -> c.appliesTo(OURS, LOCAL)))
                .containsExactlyInAnyOrder(
                        FaultClass.STORE,
                        FaultClass.PAUSES,
                        FaultClass.CRASHES,
                        FaultClass.ERRORS,
                        FaultClass.RESTARTS,
                        FaultClass.DIRECTORY);
    }

    @Test
    void fabric8DoesNotWatchSoASilentWatchCannotTouchIt() {
        assertThat(FaultClass.SILENT_WATCH.appliesTo(FABRIC8, KUBERNETES)).isFalse();
        assertThat(FaultClass.STALLS.appliesTo(FABRIC8, KUBERNETES)).isTrue();
        assertThat(FaultClass.ERRORS.appliesTo(FABRIC8, KUBERNETES)).isTrue();
        assertThat(FaultClass.RESTARTS.appliesTo(FABRIC8, KUBERNETES)).isTrue();
    }

    @Test
    void namesOnTheCommandLine() {
        assertThat(FaultClass.parse("third-party")).isEqualTo(FaultClass.THIRD_PARTY);
        assertThat(FaultClass.parse("SILENT_WATCH")).isEqualTo(FaultClass.SILENT_WATCH);
        assertThat(FaultClass.parseSet("classic")).isEqualTo(FaultClass.CLASSIC);
        assertThat(FaultClass.parseSet("all")).hasSize(FaultClass.values().length);
        assertThat(FaultClass.parseSet(" stalls , errors "))
                .containsExactlyInAnyOrder(FaultClass.STALLS, FaultClass.ERRORS);
    }
}
