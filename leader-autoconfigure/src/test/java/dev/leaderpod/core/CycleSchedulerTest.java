package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;

/**
 * {@link CycleScheduler}: two cycles never interleave, and the next cycle runs at the earliest time anybody asked for
 * (docs/design.md, "Watch to be fast, poll to be right": a release seen by the watch must not wait for the poll;
 * "Nothing but stop ends the election": a cycle that throws must not end the loop). Cycles here record when they ran
 * and finish when the test says so, as a cycle waiting for its store call would.
 */
class CycleSchedulerTest {

    private static final long SECOND = Duration.ofSeconds(1).toNanos();

    private final ManualTime time = new ManualTime();
    private final ScheduledExecutorService election = time.executor("election");
    private final ElectionThreads threads = new ElectionThreads(
            ElectionRuntime.of(election, time.executor("events"), time.executor("io")),
            "orders",
            time.clock(),
            new ElectionLog("in-memory lease orders", settings(), time.clock()),
            () -> true,
            e -> {
                throw new AssertionError(e);
            });
    private final long t0 = time.nanoTime();
    /** When each cycle began (seconds after t0), whether it was skipped, and whether it ran off the election thread. */
    private final List<String> began = new ArrayList<>();

    private final List<Throwable> failures = new ArrayList<>();
    private boolean running = true;
    private RuntimeException toThrow;

    private final CycleScheduler cycles =
            new CycleScheduler(threads, time.clock(), () -> running, this::cycle, failures::add);

    {
        threads.open();
    }

    private void cycle() {
        boolean mayRun = cycles.begin();
        began.add(seconds() + (mayRun ? "" : " skipped") + (time.runningExecutor() == null ? " off-thread" : ""));
        if (mayRun && toThrow != null) {
            RuntimeException failure = toThrow;
            toThrow = null;
            throw failure;
        }
    }

    @Test
    void aRequestReplacesTheScheduledCycleWhetherItIsSoonerOrLater() {
        cycles.request(5 * SECOND);
        cycles.request(3 * SECOND);
        time.advance(Duration.ofSeconds(4));
        assertThat(began).containsExactly("3");

        cycles.finish(10 * SECOND);
        cycles.request(SECOND);
        cycles.request(6 * SECOND);
        time.advance(Duration.ofSeconds(20));

        assertThat(began)
                .as("the later request replaced the sooner one and the finish's")
                .containsExactly("3", "10");
    }

    @Test
    void requestWithinOnlyEverBringsTheNextCycleForward() {
        cycles.request(5 * SECOND);
        cycles.requestWithin(8 * SECOND);
        cycles.requestWithin(2 * SECOND);
        cycles.requestWithin(4 * SECOND);
        time.advance(Duration.ofSeconds(10));

        assertThat(began).containsExactly("2");

        cycles.finish(Long.MAX_VALUE / 4);
        time.advance(Duration.ofSeconds(1));
        cycles.requestWithin(3 * SECOND);
        time.advance(Duration.ofSeconds(10));
        assertThat(began).as("nothing scheduled soon: within schedules").containsExactly("2", "14");
    }

    @Test
    void aCycleRequestedWhileOneRunsRunsAfterItAtTheEarliestTimeAskedFor() {
        cycles.request(0);
        time.runDue();
        assertThat(cycles.inCycle()).isTrue();

        cycles.request(3 * SECOND);
        cycles.request(7 * SECOND);
        cycles.requestWithin(5 * SECOND);
        time.advance(Duration.ofSeconds(1));
        assertThat(began).as("nothing runs while a cycle runs").containsExactly("0");

        cycles.finish(20 * SECOND);
        time.advance(Duration.ofSeconds(5));
        assertThat(began).containsExactly("0", "3");

        cycles.request(SECOND);
        cycles.finish(SECOND / 2);
        time.advance(Duration.ofSeconds(1));
        assertThat(began).as("the finish's own delay, when sooner").containsExactly("0", "3", "6.5");
    }

    @Test
    void aCycleThatBeginsWhileAnotherRunsIsDeferredUntilThatOneFinishes() {
        cycles.request(0);
        time.runDue();

        cycle(); // as start() runs one directly
        assertThat(began).containsExactly("0", "0 skipped off-thread");
        time.advance(Duration.ofSeconds(5));
        assertThat(began).hasSize(2);

        cycles.finish(30 * SECOND);
        time.runDue();
        assertThat(began).containsExactly("0", "0 skipped off-thread", "5");
    }

    @Test
    void nothingIsScheduledNorBegunOnceTheElectionStopped() {
        cycles.request(2 * SECOND);
        running = false;
        time.advance(Duration.ofSeconds(3));
        assertThat(began).containsExactly("2 skipped");
        assertThat(cycles.inCycle()).isFalse();

        cycles.request(0);
        cycles.requestWithin(0);
        time.advance(Duration.ofSeconds(3));
        assertThat(began).hasSize(1);
        assertThat(time.pending()).isZero();
    }

    @Test
    void cancelDropsTheScheduledCycleAndResetForgetsAPendingRerun() {
        cycles.request(2 * SECOND);
        cycles.cancel();
        time.advance(Duration.ofSeconds(3));
        assertThat(began).isEmpty();

        cycles.request(0);
        time.runDue();
        cycles.request(0); // pending while the cycle runs
        cycles.reset(); // a new run of the election
        assertThat(cycles.inCycle()).isFalse();
        cycles.request(4 * SECOND);
        time.advance(Duration.ofSeconds(5));
        assertThat(began).containsExactly("3", "7");

        cycles.finish(10 * SECOND);
        time.advance(Duration.ofSeconds(5));
        assertThat(began)
                .as("the rerun asked for before the reset is forgotten")
                .containsExactly("3", "7");
    }

    @Test
    void whatAScheduledCycleThrowsGoesToTheFailureHandlerAndTheCycleStaysOpenForIt() {
        IllegalStateException bug = new IllegalStateException("a bug in a step");
        toThrow = bug;
        cycles.request(SECOND);
        time.advance(Duration.ofSeconds(1));

        assertThat(failures).containsExactly(bug);
        assertThat(cycles.inCycle()).as("the handler ends the cycle").isTrue();
        cycles.finish(SECOND);
        time.advance(Duration.ofSeconds(1));
        assertThat(began).containsExactly("1", "2");
    }

    @Test
    void requestWithinWhileACycleRunsBringsTheNextCycleForwardOnItsOwn() {
        cycles.request(0);
        time.runDue();
        assertThat(cycles.inCycle()).isTrue();

        cycles.requestWithin(4 * SECOND);
        cycles.finish(20 * SECOND);
        time.advance(Duration.ofSeconds(5));

        assertThat(began)
                .as("the cycle asked for within 4 s runs at 4 s, not at the finish's 20 s")
                .containsExactly("0", "4");
    }

    @Test
    void resetCancelsTheCycleThatWasScheduled() {
        cycles.request(3 * SECOND);
        cycles.reset();
        time.advance(Duration.ofSeconds(10));

        assertThat(began).as("a new run starts with nothing scheduled").isEmpty();
    }

    private String seconds() {
        long nanos = time.nanoTime() - t0;
        return nanos % SECOND == 0 ? String.valueOf(nanos / SECOND) : String.valueOf(nanos / (double) SECOND);
    }

    private static ElectionSettings settings() {
        return new ElectionSettings(
                "orders", "me", Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(2), null);
    }
}
