package dev.leaderpod.benchmarks.scenarios;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.benchmarks.contenders.Contender;
import dev.leaderpod.benchmarks.support.MockApiServer;
import org.junit.jupiter.api.Test;

/** Keeps the benchmark code honest in the normal build: one quick round of the hand-over scenario. */
class HandOverScenarioTest {

    @Test
    void ourHandOverIsMeasuredAndFast() {
        try (MockApiServer server = new MockApiServer()) {
            HandOverScenario.Result result = new HandOverScenario(server, 1).measure(Contender.OURS);

            assertThat(result.millis())
                    .singleElement()
                    .satisfies(ms -> assertThat(ms).as("hand-over ms").isLessThan(2000.0));
            assertThat(result.note()).startsWith("0 rounds without a grant");
        }
    }
}
