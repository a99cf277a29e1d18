package dev.leaderpod.benchmarks.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class DriftingClockTest {

    private final AtomicLong real = new AtomicLong(1_000_000_000L);
    private final Instant origin = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void runsFastByItsRateErrorAndKeepsItsOffset() {
        DriftingClock clock = new DriftingClock(Duration.ofHours(3), 0.01, real::get, origin);
        long start = clock.nanoTime();

        real.addAndGet(Duration.ofSeconds(100).toNanos());

        assertThat(clock.nanoTime() - start).isEqualTo(Duration.ofSeconds(101).toNanos());
        assertThat(clock.wallTime()).isEqualTo(origin.plus(Duration.ofHours(3)).plusSeconds(101));
        assertThat(clock.skew()).isEqualTo(Duration.ofHours(3).plusSeconds(1));
    }

    @Test
    void runsSlowWithANegativeRateErrorAndMayBeBehind() {
        DriftingClock clock = new DriftingClock(Duration.ofHours(-2), -0.01, real::get, origin);
        long start = clock.nanoTime();

        real.addAndGet(Duration.ofSeconds(100).toNanos());

        assertThat(clock.nanoTime() - start).isEqualTo(Duration.ofSeconds(99).toNanos());
        assertThat(clock.skew()).isEqualTo(Duration.ofHours(-2).minusSeconds(1));
    }

    @Test
    void refusesARateThatWouldStopOrReverseTime() {
        assertThatIllegalArgumentException().isThrownBy(() -> new DriftingClock(Duration.ZERO, -1.0));
    }
}
