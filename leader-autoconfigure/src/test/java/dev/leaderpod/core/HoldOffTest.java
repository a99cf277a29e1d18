package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@link HoldOff}: a candidate that yielded does not try to take the lease back for one lease duration. */
class HoldOffTest {

    private static final Duration LEASE_DURATION = Duration.ofSeconds(15);

    private final ManualTime time = new ManualTime();
    private final HoldOff holdOff = new HoldOff(time.clock(), LEASE_DURATION);

    @Test
    void aCandidateHoldsOffForOneLeaseDurationAfterYielding() {
        assertThat(holdOff.active()).isFalse();

        holdOff.begin();
        time.advance(LEASE_DURATION.minusMillis(1));
        assertThat(holdOff.active()).isTrue();
        assertThat(holdOff.remainingNanos()).isEqualTo(Duration.ofMillis(1).toNanos());

        time.advance(Duration.ofMillis(1));
        assertThat(holdOff.active()).isFalse();
        assertThat(holdOff.remainingNanos()).isZero();
        time.advance(Duration.ofSeconds(1));
        assertThat(holdOff.remainingNanos())
                .as("negative once over")
                .isEqualTo(-Duration.ofSeconds(1).toNanos());
    }

    @Test
    void aSecondYieldHoldsOffFromItsOwnTime() {
        holdOff.begin();
        time.advance(Duration.ofSeconds(10));
        holdOff.begin();
        time.advance(Duration.ofSeconds(10));

        assertThat(holdOff.active()).isTrue();
        assertThat(holdOff.remainingNanos()).isEqualTo(Duration.ofSeconds(5).toNanos());
    }

    @Test
    void aNewRunOfTheElectionHoldsOffFromNothing() {
        holdOff.begin();
        holdOff.clear();

        assertThat(holdOff.active()).isFalse();
    }
}
