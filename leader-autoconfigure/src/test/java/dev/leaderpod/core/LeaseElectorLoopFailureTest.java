package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * docs/design.md, "Nothing but stop ends the election", for a {@link Throwable} of the algorithm itself: a step of a
 * cycle that throws before its store call is dispatched (a bug, an {@link Error}; here the elector's clock throws once
 * on the election thread, the first thing a store call does).
 */
class LeaseElectorLoopFailureTest {

    private static final Duration LEASE_DURATION = Duration.ofSeconds(15);

    private final ManualTime time = new ManualTime();
    private final InMemoryLeaseStore shared = new InMemoryLeaseStore();
    private boolean throwOnce;

    /** Time as {@link ManualTime} tells it, except that once armed it throws on the election thread, once. */
    private final ElectionClock clock = new ElectionClock() {
        @Override
        public long nanoTime() {
            if (throwOnce && "election".equals(time.runningExecutor())) {
                throwOnce = false;
                throw new IllegalStateException("a bug in a step of the cycle");
            }
            return time.clock().nanoTime();
        }

        @Override
        public Instant wallTime() {
            return time.clock().wallTime();
        }
    };

    private final LeaseElector elector = LeaseElector.builder(
                    new ElectionSettings(
                            "orders", "a", LEASE_DURATION, Duration.ofSeconds(10), Duration.ofSeconds(2), null),
                    shared)
            .clock(clock)
            .executors(time.executor("election"), time.executor("events"), time.executor("io"))
            .watch(false)
            .random(new SplittableRandom(1))
            .build();

    @Test
    void aCycleThatThrowsIsEndedAndTheCandidateStaysInTheElection() {
        shared.create("orders", new LeaseRecord("ghost", LEASE_DURATION, Instant.EPOCH, Instant.EPOCH, 3L));
        elector.start();
        time.runDue();

        throwOnce = true; // in the next poll's cycle
        time.advance(LEASE_DURATION.plusSeconds(10));

        assertThat(throwOnce).as("the failure happened").isFalse();
        assertThat(elector.isLeader()).isTrue();
    }

    /**
     * The same failure in the first cycle of a run ("Nothing but stop ends the election"). Before the fix start() ran
     * that cycle outside the cycles' guard: the failure only requested another cycle, which waited for the running one
     * to finish, and nothing ever finished it, so no cycle ran again until stop(). This test failed then.
     */
    @Test
    void aFirstCycleThatThrowsIsEndedAndTheCandidateStaysInTheElection() {
        throwOnce = true; // in the first cycle, run by start()
        elector.start();
        time.runDue();
        assertThat(throwOnce).as("the failure happened").isFalse();

        time.advance(Duration.ofSeconds(30));

        assertThat(elector.isLeader())
                .as("leads within a retry period or two, as after any other failure of the loop")
                .isTrue();
    }
}
