package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.leaderpod.core.ElectionSettings.InvalidSettingException;
import dev.leaderpod.core.ElectionSettings.Setting;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Tests that kill mutants a mutation run of the core left alive (survivors that were not equivalent): each pins a
 * behaviour no other test checked.
 */
class CoreSurvivorsTest {

    @Test
    void theOldestOfEightUnstartedCreatesIsStillRemembered() {
        OwnTerms own = new OwnTerms("me", Duration.ofSeconds(10).toNanos());
        Instant first = Instant.parse("2026-01-01T00:00:00Z");
        for (int i = 0; i < 8; i++) {
            own.sentCreate(first.plusSeconds(i));
        }

        assertThat(own.unstartedCreate(held("me", first)))
                .as("eight creates are remembered, the first among them")
                .isTrue();

        own.sentCreate(first.plusSeconds(8));
        assertThat(own.unstartedCreate(held("me", first)))
                .as("a ninth pushes the first out")
                .isFalse();
    }

    @Test
    void aRenewDeadlineOneNanosecondBelowTheDriftBoundIsAcceptedAndOneAtTheBoundIsRefused() {
        Duration lease = Duration.ofSeconds(101);
        long bound = lease.toNanos() / 101 * 99; // 99 s: 1.01 x deadline must stay below 0.99 x lease
        assertThat(ElectionSettings.maxRenewDeadlineNanos(lease)).isEqualTo(bound - 1);

        ElectionSettings justBelow =
                new ElectionSettings("orders", "me", lease, Duration.ofNanos(bound - 1), Duration.ofSeconds(2), null);
        assertThat(justBelow.renewDeadline()).isEqualTo(Duration.ofNanos(bound - 1));

        assertThatThrownBy(() -> new ElectionSettings(
                        "orders", "me", lease, Duration.ofNanos(bound), Duration.ofSeconds(2), null))
                .isInstanceOfSatisfying(
                        InvalidSettingException.class,
                        e -> assertThat(e.setting()).isEqualTo(Setting.RENEW_DEADLINE));
    }

    @Test
    void aZeroOrNegativeRenewDeadlineIsRefusedAsARenewDeadlineNotAsARetryPeriod() {
        for (Duration deadline : new Duration[] {Duration.ZERO, Duration.ofSeconds(-5)}) {
            assertThatThrownBy(() -> new ElectionSettings(
                            "orders", "me", Duration.ofSeconds(15), deadline, Duration.ofSeconds(2), null))
                    .as("renew deadline %s", deadline)
                    .isInstanceOfSatisfying(
                            InvalidSettingException.class,
                            e -> assertThat(e.setting()).isEqualTo(Setting.RENEW_DEADLINE));
        }
    }

    @Test
    void anElectionThatStopsLeavesOneCallLessWaitingForABusyIoThread() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        try (ElectionRuntime runtime = ElectionRuntime.create("detach")) {
            runtime.attach();
            runtime.attach();
            runtime.detach(); // one election left: one call may wait for a busy thread
            ThreadPoolExecutor io = (ThreadPoolExecutor) runtime.io();

            CountDownLatch firstRuns = new CountDownLatch(1);
            io.execute(() -> {
                firstRuns.countDown();
                awaitQuietly(release);
            });
            assertThat(firstRuns.await(10, TimeUnit.SECONDS)).isTrue();
            io.execute(() -> awaitQuietly(release)); // waits for the busy thread
            io.execute(() -> awaitQuietly(release)); // the queue is full: a thread of its own

            assertThat(io.getQueue()).as("exactly one call waits").hasSize(1);
            assertThat(io.getPoolSize()).isEqualTo(2);
        } finally {
            release.countDown();
        }
    }

    private static LeaseRecord held(String holder, Instant acquired) {
        return new LeaseRecord(holder, Duration.ofSeconds(15), acquired, acquired, 1L);
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
