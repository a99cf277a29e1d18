package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ElectionThreads}: how the elector gets onto its runtime's threads (docs/design.md, "No I/O on the thread that
 * ends terms") and how {@link LeaseElector#stop} waits for them ("Ordered graceful shutdown": within its timeout,
 * whatever an interrupt says, keeping the interrupt). Mostly on a stepped clock; the waits that need real threads use
 * them.
 */
class ElectionThreadsTest {

    private final ManualTime time = new ManualTime();
    private final ScheduledExecutorService election = time.executor("election");
    private final ScheduledExecutorService events = time.executor("events");
    private final ScheduledExecutorService io = time.executor("io");
    private final ElectionRuntime shared = ElectionRuntime.of(election, events, io);
    private final ElectionSettings settings = new ElectionSettings(
            "orders", "me", Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(2), null);
    private final LogCapture captured = new LogCapture();
    private final List<String> ran = new ArrayList<>();
    private final List<Throwable> failures = new ArrayList<>();
    private boolean running = true;

    @AfterEach
    void detach() {
        captured.close();
    }

    private ElectionThreads threads(ElectionRuntime runtime, ElectionClock clock) {
        return new ElectionThreads(
                runtime, "orders", clock, new ElectionLog("lease orders", settings, clock), () -> running, e -> {
                    failures.add(e);
                    ran.add("failure handled on " + time.runningExecutor());
                });
    }

    @Test
    void awaitCountsAFutureThatFailedAsFinishedAndOneStillRunningAtTheDeadlineAsNotFinished() {
        ElectionThreads threads = threads(shared, time.clock());
        threads.open();

        assertThat(threads.await(
                        java.util.concurrent.CompletableFuture.failedFuture(new IllegalStateException("boom")),
                        time.nanoTime() + Duration.ofSeconds(1).toNanos(),
                        "a failed task"))
                .as("a task that threw has finished")
                .isTrue();
        assertThat(threads.await(new java.util.concurrent.CompletableFuture<Void>(), time.nanoTime(), "a hung task"))
                .as("a task still running when the deadline has come has not finished")
                .isFalse();
    }

    @Test
    void eachKindOfWorkRunsOnItsOwnThreadOfTheSharedRuntime() {
        ElectionThreads threads = threads(shared, time.clock());
        assertThat(threads.open()).isSameAs(shared);

        threads.onEventThread(() -> ran.add("event on " + time.runningExecutor()));
        threads.onIoThread(() -> ran.add("io on " + time.runningExecutor()));
        threads.onElectionThread(() -> ran.add("task on " + time.runningExecutor()));
        threads.whileRunning(() -> ran.add("work on " + time.runningExecutor()));
        threads.schedule(
                () -> ran.add("timer on " + time.runningExecutor()),
                Duration.ofSeconds(1).toNanos());
        time.runDue();
        assertThat(ran).containsExactly("event on events", "io on io", "task on election", "work on election");

        time.advance(Duration.ofSeconds(1));
        assertThat(ran).last().isEqualTo("timer on election");
        threads.close();
        assertThat(List.of(election, events, io))
                .as("a shared runtime is its owner's to close")
                .noneMatch(ScheduledExecutorService::isShutdown);
    }

    @Test
    void workWhileRunningIsDroppedOnceTheElectionStoppedAndWhatItThrowsIsHandledOnTheElectionThread() {
        ElectionThreads threads = threads(shared, time.clock());
        threads.open();
        IllegalStateException bug = new IllegalStateException("a bug");

        threads.whileRunning(() -> {
            throw bug;
        });
        threads.whileRunning(() -> ran.add("dropped"));
        threads.onElectionThread(() -> ran.add("the end of a run runs all the same"));
        running = false;
        time.runDue();

        assertThat(failures).isEmpty();
        assertThat(ran).containsExactly("the end of a run runs all the same");

        running = true;
        threads.whileRunning(() -> {
            throw bug;
        });
        time.runDue();
        assertThat(failures).containsExactly(bug);
        assertThat(ran).last().isEqualTo("failure handled on election");
    }

    @Test
    void aPrivateRuntimeIsOpenedPerRunWithThreadsNamedAfterTheLeaseAndClosedAtTheEndOfTheRun() throws Exception {
        ElectionThreads threads = threads(null, ElectionClock.system());

        ElectionRuntime first = threads.open();
        Future<?> named =
                threads.onElectionThread(() -> ran.add(Thread.currentThread().getName()));
        named.get(10, TimeUnit.SECONDS);
        threads.close();
        ElectionRuntime second = threads.open();

        assertThat(ran).containsExactly("leader-election-orders");
        assertThat(first.election().isShutdown()).isTrue();
        assertThat(second).isNotSameAs(first);
        assertThat(threads.runtime()).isSameAs(second);
        assertThat(second.election().isShutdown()).isFalse();
        threads.close();
    }

    @Test
    void workForARuntimeThatShutDownIsDroppedQuietly() {
        ElectionThreads threads = threads(null, ElectionClock.system());
        threads.open();
        threads.close();

        assertThat(threads.onElectionThread(() -> ran.add("late"))).isNull();
        assertThat(threads.onEventThread(() -> ran.add("late"))).isNull();
        assertThat(threads.onIoThread(() -> ran.add("late"))).isNull();
        assertThat((Object) threads.schedule(() -> ran.add("late"), 0)).isNull();
        threads.whileRunning(() -> ran.add("late"));
        assertThat(threads.await(null, System.nanoTime() + 1_000_000_000L, "nothing"))
                .as("nothing to wait for has not finished")
                .isFalse();
        assertThat(ran).isEmpty();
    }

    @Test
    void anIoExecutorThatIsNoExecutorServiceStillGivesAFutureToWaitFor() {
        List<Runnable> queued = new ArrayList<>();
        ElectionThreads threads = threads(ElectionRuntime.of(election, events, queued::add), time.clock());
        threads.open();

        Future<?> release = threads.onIoThread(() -> ran.add("released"));
        assertThat(release.isDone()).isFalse();
        queued.forEach(Runnable::run);

        assertThat(release.isDone()).isTrue();
        assertThat(ran).containsExactly("released");
    }

    @Test
    void awaitWaitsUntilTheDeadlineAndSaysWhetherTheWorkFinished() {
        ElectionThreads threads = threads(shared, time.clock());
        threads.open();
        long deadline = time.nanoTime() + Duration.ofSeconds(5).toNanos();

        assertThat(threads.await(threads.onEventThread(() -> ran.add("revoked")), deadline, "revocation"))
                .isTrue();
        assertThat(threads.await(
                        threads.onEventThread(() -> {
                            throw new IllegalStateException("listener broke");
                        }),
                        deadline,
                        "revocation"))
                .as("it ended, if badly")
                .isTrue();
        assertThat(captured.atLeast(Level.WARN)).containsExactly("WARN orders: revocation failed");

        ScheduledFuture<?> late = election.schedule(() -> ran.add("too late"), 6, TimeUnit.SECONDS);
        assertThat(threads.await(late, deadline, "stopping the election loop")).isFalse();
        assertThat(time.nanoTime()).as("it waited until the deadline").isEqualTo(deadline);
        assertThat(captured.atLeast(Level.WARN))
                .last()
                .isEqualTo("WARN orders: stopping the election loop did not finish within PT5S");
        assertThat(ran).containsExactly("revoked");
    }

    @Test
    void anInterruptDoesNotCutTheWaitShortAndIsKeptForTheCaller() {
        ElectionThreads threads = threads(shared, ElectionClock.system());
        threads.open();
        CompletableFuture<Void> release = new CompletableFuture<>();
        ScheduledThreadPoolExecutor helper = new ScheduledThreadPoolExecutor(1);
        try {
            helper.schedule(() -> release.complete(null), 300, TimeUnit.MILLISECONDS);
            Thread.currentThread().interrupt();

            boolean finished = threads.await(
                    release, System.nanoTime() + Duration.ofSeconds(10).toNanos(), "release");

            assertThat(Thread.interrupted()).as("the interrupt is kept").isTrue();
            assertThat(finished).isTrue();
            assertThat(release).isDone();
        } finally {
            Thread.interrupted();
            helper.shutdownNow();
        }
    }
}
