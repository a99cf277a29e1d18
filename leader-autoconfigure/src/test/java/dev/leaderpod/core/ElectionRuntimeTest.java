package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@link ElectionRuntime} and the system {@link ElectionClock}, on real threads (docs/design.md, "No I/O on the thread
 * that ends terms", Threads: one election thread, I/O threads only while a call runs, at most four hung calls, the
 * event thread only while there is something to deliver and 5 s after). Waits use Awaitility with generous margins.
 */
class ElectionRuntimeTest {

    private static final Duration PATIENCE = Duration.ofSeconds(10);

    @Test
    void ownThreadsAreDaemonsNamedAfterTheSuffix() throws Exception {
        try (ElectionRuntime runtime = ElectionRuntime.create("orders")) {
            assertThat(threadOf(runtime.election())).isEqualTo("leader-election-orders daemon");
            assertThat(threadOf(runtime.events())).isEqualTo("leader-events-orders daemon");
            assertThat(threadOf(runtime.io())).isEqualTo("leader-io-orders daemon");
        }
        try (ElectionRuntime runtime = ElectionRuntime.create("")) {
            assertThat(threadOf(runtime.election())).isEqualTo("leader-election daemon");
        }
        try (ElectionRuntime runtime = ElectionRuntime.create(null)) {
            assertThat(threadOf(runtime.io())).isEqualTo("leader-io daemon");
        }
    }

    @Test
    void atMostFourHungCallsHoldIoThreadsAndTheFifthIsRefusedAtOnce() throws Exception {
        CountDownLatch hang = new CountDownLatch(1);
        List<String> hungOn = new CopyOnWriteArrayList<>();
        try (ElectionRuntime runtime = ElectionRuntime.create("io")) {
            for (int i = 0; i < ElectionRuntime.MAX_IO_THREADS; i++) {
                runtime.io().execute(() -> {
                    hungOn.add(Thread.currentThread().getName());
                    awaitQuietly(hang);
                });
            }
            await().atMost(PATIENCE).until(() -> hungOn.size() == ElectionRuntime.MAX_IO_THREADS);

            assertThat(ElectionRuntime.MAX_IO_THREADS).isEqualTo(4);
            assertThat(hungOn)
                    .containsExactlyInAnyOrder("leader-io-io", "leader-io-io-2", "leader-io-io-3", "leader-io-io-4");
            assertThatThrownBy(() -> runtime.io().execute(() -> {})).isInstanceOf(RejectedExecutionException.class);
        } finally {
            hang.countDown();
        }
    }

    @Test
    void closingAnOwnRuntimeEndsItsThreadsAndInterruptsHungCalls() {
        AtomicReference<Boolean> interrupted = new AtomicReference<>();
        CountDownLatch running = new CountDownLatch(1);
        ElectionRuntime runtime = ElectionRuntime.create("closing");
        runtime.io().execute(() -> {
            running.countDown();
            try {
                new CountDownLatch(1).await(30, TimeUnit.SECONDS);
                interrupted.set(false);
            } catch (InterruptedException e) {
                interrupted.set(true);
            }
        });
        awaitQuietly(running);

        runtime.close();

        assertThat(runtime.election().isShutdown()).isTrue();
        assertThat(runtime.events().isShutdown()).isTrue();
        await().atMost(PATIENCE).until(() -> interrupted.get() != null);
        assertThat(interrupted.get()).isTrue();
    }

    @Test
    void aRuntimeOnTheCallersExecutorsLeavesThemAloneOnClose() {
        ManualTime time = new ManualTime();
        ScheduledExecutorService election = time.executor("election");
        ScheduledExecutorService events = time.executor("events");
        ScheduledExecutorService io = time.executor("io");

        ElectionRuntime runtime = ElectionRuntime.of(election, events, io);
        runtime.close();

        assertThat(runtime.election()).isSameAs(election);
        assertThat(runtime.events()).isSameAs(events);
        assertThat(runtime.io()).isSameAs(io);
        assertThat(List.of(election, events, io)).noneMatch(ScheduledExecutorService::isShutdown);
        assertThatThrownBy(() -> ElectionRuntime.of(null, events, io)).hasMessage("election");
        assertThatThrownBy(() -> ElectionRuntime.of(election, null, io)).hasMessage("events");
        assertThatThrownBy(() -> ElectionRuntime.of(election, events, null)).hasMessage("io");
    }

    /**
     * A leader cancels a timer on every renew (the timeout of its answered call): cancelled timers leave the queue at
     * once rather than piling up until they were due. The event thread stays 5 s after its last delivery, then ends.
     */
    @Test
    void cancelledTimersLeaveTheQueueAndTheEventThreadEndsFiveSecondsAfterItsLastDelivery() {
        try (ElectionRuntime runtime = ElectionRuntime.create("timers")) {
            ScheduledFuture<?> timer = runtime.election().schedule(() -> {}, 1, TimeUnit.HOURS);
            ScheduledFuture<?> event = runtime.events().schedule(() -> {}, 1, TimeUnit.HOURS);
            timer.cancel(false);
            event.cancel(false);

            assertThat(((ScheduledThreadPoolExecutor) runtime.election()).getQueue())
                    .isEmpty();
            assertThat(((ScheduledThreadPoolExecutor) runtime.events()).getQueue())
                    .isEmpty();
            ScheduledThreadPoolExecutor events = (ScheduledThreadPoolExecutor) runtime.events();
            assertThat(events.allowsCoreThreadTimeOut()).isTrue();
            assertThat(events.getKeepAliveTime(TimeUnit.MILLISECONDS)).isEqualTo(5000);
        }
    }

    @Test
    void theSystemClockIsTheJvmsMonotonicAndWallClock() {
        ElectionClock clock = ElectionClock.system();

        long before = System.nanoTime();
        long nanos = clock.nanoTime();
        long after = System.nanoTime();
        Instant wallBefore = Instant.now();
        Instant wall = clock.wallTime();
        Instant wallAfter = Instant.now();

        assertThat(nanos).isBetween(before, after);
        assertThat(wall).isBetween(wallBefore, wallAfter);
    }

    private static String threadOf(Executor executor) throws Exception {
        AtomicReference<String> name = new AtomicReference<>();
        executor.execute(() -> name.set(
                Thread.currentThread().getName() + (Thread.currentThread().isDaemon() ? " daemon" : " user")));
        await().atMost(PATIENCE).until(() -> name.get() != null);
        return name.get();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
