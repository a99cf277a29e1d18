package dev.leaderpod.benchmarks.scenarios;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.benchmarks.contenders.Timings;
import dev.leaderpod.benchmarks.scenarios.SpreadScenario.Kind;
import dev.leaderpod.benchmarks.scenarios.SpreadScenario.PhaseResult;
import dev.leaderpod.benchmarks.scenarios.SpreadScenario.SteadyResult;
import dev.leaderpod.benchmarks.support.MockApiServer;
import dev.leaderpod.benchmarks.support.Report;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps the spread scenario honest in the normal build: four elections over two replicas of each kind, short timings,
 * a few seconds of steady state, then a third replica joins, one stops, another joins and one crashes. It checks what
 * the scenario measures and what must hold whatever the load (no overlap, every crashed election taken over), not how
 * well the elections spread: on a loaded machine the starter's findings 6 and 8 (benchmarks/README.md,
 * {@code StarterFindingsTest}) change the moves from run to run.
 */
class SpreadScenarioTest {

    @Test
    @Timeout(150)
    void measuresTheSpreadOfOurElectionsBesideFabric8PerJob(@TempDir Path results) {
        SpreadScenario.Settings settings = new SpreadScenario.Settings(
                4,
                List.of(2),
                new Timings(Duration.ofSeconds(4), Duration.ofSeconds(3), Duration.ofMillis(500)),
                Duration.ofSeconds(1),
                Duration.ofSeconds(1),
                Duration.ofSeconds(3),
                Duration.ofSeconds(20),
                10,
                List.of(Kind.OURS, Kind.FABRIC8));
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.leaderpod"))
                .setLevel(ch.qos.logback.classic.Level.INFO);
        SpreadScenario.Result result;
        try (MockApiServer server = new MockApiServer()) {
            result = new SpreadScenario(server, settings).run(new Report(results.resolve("spread.md")));
        }

        SteadyResult ours = result.steady().stream()
                .filter(r -> r.kind() == Kind.OURS)
                .findFirst()
                .orElseThrow();
        assertThat(ours.allLedMs()).as("every election led after start").isNotNull();
        assertThat(ours.overlaps())
                .as("two leaders of one election, as the listeners were told")
                .isZero();
        assertThat(ours.counts().byVerbAndResource()).containsKey("PUT leases");
        assertThat(ours.openWatchesPerCandidate())
                .as("watches counted per replica by the server")
                .hasSize(2)
                .allSatisfy(open -> assertThat(open).isPositive());
        assertThat(ours.runtimeThreads().count()).as("thread samples").isPositive();

        SteadyResult fabric8 = result.steady().stream()
                .filter(r -> r.kind() == Kind.FABRIC8)
                .findFirst()
                .orElseThrow();
        assertThat(fabric8.allLedMs()).isNotNull();
        assertThat(fabric8.openWatchesPerCandidate()).containsOnly(0);
        assertThat(fabric8.counts().byVerbAndResource()).containsKey("GET leases");
        assertThat(fabric8.clientThreads().median())
                .as("fabric8's loops on the client's executor")
                .isPositive();

        for (Kind kind : Kind.values()) {
            List<PhaseResult> phases =
                    result.phases().stream().filter(p -> p.kind() == kind).toList();
            assertThat(phases).as(kind + " phases").hasSize(4);
            assertThat(phases.get(0).sharesAfter()).as("a third replica joined").hasSize(3);
            assertThat(phases.get(1).sharesAfter()).as("one stopped").hasSize(2);
            assertThat(phases.get(1).releases().named()
                            + phases.get(1).releases().unnamed())
                    .as("its releases")
                    .isPositive();
            assertThat(phases.get(2).sharesAfter()).as("another joined").hasSize(3);
            assertThat(phases.get(3).sharesAfter()).as("one crashed").hasSize(2);
            assertThat(phases.get(3).allLedMs())
                    .as("the crashed replica's elections taken over")
                    .isNotNull();
        }
    }
}
