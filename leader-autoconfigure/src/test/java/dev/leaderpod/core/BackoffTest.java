package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/**
 * {@link Backoff}: the waits that decide how fast a leader is back after an outage (docs/design.md, "Nothing but stop
 * ends the election": lease duration + retry period, the follower's back-off capped at lease duration − renew
 * deadline) and how a watch that cannot start is retried ("Watch to be fast, poll to be right": from the retry period
 * up to 30 s).
 */
class BackoffTest {

    private static final long SECOND = Duration.ofSeconds(1).toNanos();

    private final ElectionSettings defaults = new ElectionSettings(
            "orders", "a", Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(2), null);

    @Test
    void jitterAddsUpToTwentyPercentSoCandidatesDoNotActInLockstep() {
        assertThat(new Backoff(defaults, fixed(0.0)).jittered(Duration.ofSeconds(10)))
                .isEqualTo(10 * SECOND);
        assertThat(new Backoff(defaults, fixed(0.5)).jittered(Duration.ofSeconds(10)))
                .isEqualTo(11 * SECOND);
        assertThat(new Backoff(defaults, fixed(0.999)).jittered(Duration.ofSeconds(10)))
                .isBetween(11_997_000_000L, 12 * SECOND);
    }

    @Test
    void aFollowerWithoutATrustedWatchPollsEveryRetryPeriodPlusJitter() {
        assertThat(new Backoff(defaults, fixed(0.0)).poll()).isEqualTo(2 * SECOND);
        assertThat(new Backoff(defaults, fixed(0.5)).poll()).isEqualTo(2_200_000_000L);
    }

    @Test
    void aFailingFollowerDoublesItsWaitUpToLeaseDurationMinusRenewDeadline() {
        Backoff backoff = new Backoff(defaults, fixed(0.0));

        assertThat(backoff.afterFailures(0)).isEqualTo(2 * SECOND);
        assertThat(backoff.afterFailures(1)).isEqualTo(2 * SECOND);
        assertThat(backoff.afterFailures(2)).isEqualTo(4 * SECOND);
        assertThat(backoff.afterFailures(3)).as("capped at 15 s - 10 s").isEqualTo(5 * SECOND);
        assertThat(backoff.afterFailures(100)).isEqualTo(5 * SECOND);
    }

    @Test
    void theFailureCapIsNeverBelowTheRetryPeriodNorAboveThirtySeconds() {
        // lease 100 s, renew deadline 97 s: the margin (3 s) is shorter than the retry period (4 s)
        Backoff tight = new Backoff(
                new ElectionSettings(
                        "orders", "a", Duration.ofSeconds(100), Duration.ofSeconds(97), Duration.ofSeconds(4), null),
                fixed(0.0));
        assertThat(tight.afterFailures(5)).isEqualTo(4 * SECOND);

        // lease 300 s, renew deadline 200 s, retry 3 s: doubling reaches 48 s, the cap is 30 s
        Backoff wide = new Backoff(
                new ElectionSettings(
                        "orders", "a", Duration.ofSeconds(300), Duration.ofSeconds(200), Duration.ofSeconds(3), null),
                fixed(0.0));
        assertThat(wide.afterFailures(4)).isEqualTo(24 * SECOND);
        assertThat(wide.afterFailures(5)).isEqualTo(30 * SECOND);
        // and the margin is the cap when it is below 30 s
        Backoff margin = new Backoff(
                new ElectionSettings(
                        "orders", "a", Duration.ofSeconds(60), Duration.ofSeconds(40), Duration.ofSeconds(3), null),
                fixed(0.0));
        assertThat(margin.afterFailures(5)).isEqualTo(20 * SECOND);
    }

    @Test
    void aWatchThatCannotStartIsRetriedFromTheRetryPeriodDoublingUpToThirtySeconds() {
        Backoff backoff = new Backoff(defaults, fixed(0.0));

        assertThat(backoff.watchRetry(1)).isEqualTo(2 * SECOND);
        assertThat(backoff.watchRetry(2)).isEqualTo(4 * SECOND);
        assertThat(backoff.watchRetry(3)).isEqualTo(8 * SECOND);
        assertThat(backoff.watchRetry(4)).isEqualTo(16 * SECOND);
        assertThat(backoff.watchRetry(5)).isEqualTo(30 * SECOND);
        assertThat(backoff.watchRetry(Integer.MAX_VALUE)).isEqualTo(30 * SECOND);
    }

    @Test
    void doublingStopsAtSixteenRetryPeriodsEvenBelowThirtySeconds() {
        // retry 1 s: 1, 2, 4, 8, 16, 16 … (not 32 → 30): a shift beyond 4 would also overflow for large counts
        Backoff backoff = new Backoff(
                new ElectionSettings(
                        "orders", "a", Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(1), null),
                fixed(0.0));

        assertThat(backoff.watchRetry(5)).isEqualTo(16 * SECOND);
        assertThat(backoff.watchRetry(6)).isEqualTo(16 * SECOND);
        assertThat(backoff.watchRetry(70)).isEqualTo(16 * SECOND);
    }

    /** A random source whose every double is {@code value}: jitter made exact. */
    private static RandomGenerator fixed(double value) {
        return new RandomGenerator() {
            @Override
            public long nextLong() {
                throw new UnsupportedOperationException();
            }

            @Override
            public double nextDouble() {
                return value;
            }
        };
    }
}
