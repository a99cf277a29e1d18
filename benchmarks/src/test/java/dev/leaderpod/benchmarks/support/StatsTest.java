package dev.leaderpod.benchmarks.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class StatsTest {

    @Test
    void nearestRankPercentiles() {
        Stats stats = Stats.of(List.of(5, 1, 4, 2, 3, 10, 9, 8, 7, 6));

        assertThat(stats.count()).isEqualTo(10);
        assertThat(stats.median()).isEqualTo(5);
        assertThat(stats.p90()).isEqualTo(9);
        assertThat(stats.max()).isEqualTo(10);
        assertThat(stats.min()).isEqualTo(1);
    }

    @Test
    void emptySampleIsNotANumber() {
        assertThat(Stats.of(List.of()).median()).isNaN();
    }
}
