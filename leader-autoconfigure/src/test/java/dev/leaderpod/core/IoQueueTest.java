package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Store calls of elections that call at the same instant wait for a busy I/O thread instead of each starting one or
 * being refused (named elections start together), and a call abandoned while it waited never runs.
 */
class IoQueueTest {

    private static final Duration PATIENCE = Duration.ofSeconds(10);

    @Test
    void callsOfElectionsThatCallTogetherWaitForABusyThreadInsteadOfBeingRefused() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        List<String> ranOn = new CopyOnWriteArrayList<>();
        try (ElectionRuntime runtime = ElectionRuntime.create("queue")) {
            CountDownLatch busy = new CountDownLatch(ElectionRuntime.MAX_IO_THREADS);
            for (int i = 0; i < ElectionRuntime.MAX_IO_THREADS; i++) { // every thread busy, as on a slow API server
                runtime.io().execute(() -> {
                    busy.countDown();
                    awaitQuietly(release);
                });
            }
            assertThat(busy.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < 8; i++) {
                runtime.attach(); // eight elections run on it
            }

            for (int i = 0; i < 8; i++) { // with no queue, every one would be refused
                runtime.io().execute(() -> ranOn.add(Thread.currentThread().getName()));
            }
            assertThat(ranOn).isEmpty();
            release.countDown();

            await().atMost(PATIENCE).until(() -> ranOn.size() == 8);
        } finally {
            release.countDown();
        }
    }

    /** A call that finds the threads busy gets a thread of its own rather than waiting behind a call that may hang. */
    @Test
    void aCallThatFindsTheThreadsBusyGetsAThreadOfItsOwn() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        try (ElectionRuntime runtime = ElectionRuntime.create("own")) {
            runtime.attach();
            CountDownLatch hung = new CountDownLatch(1);
            runtime.io().execute(() -> {
                hung.countDown();
                awaitQuietly(release);
            });
            assertThat(hung.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
            CountDownLatch ran = new CountDownLatch(1);

            runtime.io().execute(ran::countDown);

            assertThat(ran.await(PATIENCE.toSeconds(), TimeUnit.SECONDS))
                    .as("ran beside the hung call")
                    .isTrue();
        } finally {
            release.countDown();
        }
    }

    /**
     * An election that starts makes two calls at once (its watch's start and its first read): the calls of elections
     * starting together all wait for a thread. With one waiting call per election, the first 16 of 20 elections' second
     * calls were refused ("earlier store calls are still hung") and they led a poll late.
     */
    @Test
    void bothStartingCallsOfEveryElectionStartingTogetherWaitInsteadOfBeingRefused() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        List<String> ran = new CopyOnWriteArrayList<>();
        int elections = 20;
        try (ElectionRuntime runtime = ElectionRuntime.create("starting")) {
            CountDownLatch busy = new CountDownLatch(ElectionRuntime.MAX_IO_THREADS);
            for (int i = 0; i < ElectionRuntime.MAX_IO_THREADS; i++) { // every thread busy, as on a slow API server
                runtime.io().execute(() -> {
                    busy.countDown();
                    awaitQuietly(release);
                });
            }
            assertThat(busy.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < elections; i++) {
                runtime.attach();
            }

            for (int i = 0; i < elections; i++) {
                runtime.io().execute(() -> ran.add("watch"));
                runtime.io().execute(() -> ran.add("read"));
            }
            release.countDown();

            await().atMost(PATIENCE).until(() -> ran.size() == 2 * elections);
        } finally {
            release.countDown();
        }
    }

    @Test
    void aCallAbandonedWhileItWaitedForAThreadIsNeverStarted() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean lateCallStarted = new AtomicBoolean();
        AtomicReference<StoreCalls.Outcome<?>> lateOutcome = new AtomicReference<>();
        try (ElectionRuntime runtime = ElectionRuntime.create("abandon")) {
            runtime.attach();
            runtime.attach();
            StoreCalls calls = new StoreCalls(
                    "orders",
                    runtime.io(),
                    runtime.election(),
                    ElectionClock.system(),
                    Duration.ofMillis(200),
                    new ElectionMonitor() {},
                    outcome -> {},
                    e -> {});
            CountDownLatch others = new CountDownLatch(ElectionRuntime.MAX_IO_THREADS - 1);
            for (int i = 1; i < ElectionRuntime.MAX_IO_THREADS; i++) { // every other I/O thread busy too
                runtime.io().execute(() -> {
                    others.countDown();
                    awaitQuietly(release);
                });
            }
            assertThat(others.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
            CountDownLatch busy = new CountDownLatch(1);
            runtime.election().execute(() -> {
                calls.call(
                        StoreOperation.RENEW,
                        () -> {
                            busy.countDown();
                            awaitQuietly(release);
                            return "hung";
                        },
                        outcome -> {});
                calls.call(
                        StoreOperation.GET,
                        () -> {
                            lateCallStarted.set(true);
                            return "late";
                        },
                        lateOutcome::set);
            });
            busy.await(PATIENCE.toSeconds(), TimeUnit.SECONDS);

            await().atMost(PATIENCE).until(() -> lateOutcome.get() != null);
            assertThat(lateOutcome.get().failed()).isTrue();
            release.countDown();
            CountDownLatch drained = new CountDownLatch(1);
            runtime.io().execute(drained::countDown); // runs after the abandoned call was taken off the queue
            drained.await(PATIENCE.toSeconds(), TimeUnit.SECONDS);

            assertThat(lateCallStarted).as("the abandoned call ran").isFalse();
        } finally {
            release.countDown();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
