package dev.leaderpod.leaderonly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.core.LeadershipTerm;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.util.ReflectionUtils;

/** The registry of running {@code @LeaderOnly} calls that the end of a term drains. */
class InFlightCallsTest {

    private static final LeadershipTerm TERM = new LeadershipTerm("orders", "me", 3, Instant.EPOCH);
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final InFlightCalls calls = new InFlightCalls();

    @Test
    void aDrainSleepsUntilTheLastCallOfTheTermExitsInsteadOfSpinning() throws InterruptedException {
        InFlightCalls.Call call = startedCall(TERM);
        AtomicReference<List<InFlightCalls.Call>> left = new AtomicReference<>();
        Thread drain = new Thread(() -> left.set(calls.awaitCompletion(TERM, WAIT.multipliedBy(3))), "drain");
        assertThat(calls.isDraining()).isFalse();

        drain.start();
        // TIMED_WAITING, not RUNNABLE: a drain can last leader.drain-timeout, and must not burn a core meanwhile.
        await().atMost(WAIT).until(() -> drain.getState() == Thread.State.TIMED_WAITING);
        assertThat(calls.isDraining()).isTrue();
        calls.exit(call);
        drain.join(WAIT.toMillis());

        assertThat(drain.isAlive()).isFalse();
        assertThat(left.get()).isEmpty();
        assertThat(calls.isDraining()).isFalse();
    }

    @Test
    void anInterruptedDrainReturnsTheCallsStillRunningAndKeepsTheInterrupt() {
        InFlightCalls.Call call = startedCall(TERM);
        Thread.currentThread().interrupt();
        try {
            assertThat(calls.awaitCompletion(TERM, WAIT)).containsExactly(call);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
        assertThat(calls.isDraining()).isFalse();
    }

    @Test
    void aCallNotYetGivenATermBelongsToEveryDrainAndAStartedOneOnlyToItsOwn() {
        LeadershipTerm later = new LeadershipTerm("orders", "me", 4, Instant.EPOCH);
        InFlightCalls.Call checking = calls.enter(gated());
        InFlightCalls.Call ofLater = startedCall(later);

        assertThat(calls.running(TERM)).containsExactly(checking);
        assertThat(calls.running(later)).containsExactlyInAnyOrder(checking, ofLater);
        assertThat(calls.awaitCompletion(TERM, Duration.ZERO)).containsExactly(checking);
    }

    @Test
    void nestedCallsOnOneThreadAreEachTrackedUntilTheyExit() {
        InFlightCalls.Call outer = startedCall(TERM);
        InFlightCalls.Call inner = startedCall(TERM);

        assertThat(calls.running()).containsExactly(outer, inner);
        calls.exit(inner);
        assertThat(calls.running()).containsExactly(outer);
        calls.exit(outer);
        assertThat(calls.running()).isEmpty();
    }

    @Test
    void callsOfOtherThreadsAreSeenByTheDrainAndNamedWithTheirThread() throws InterruptedException {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread worker = new Thread(
                () -> {
                    InFlightCalls.Call call = startedCall(TERM);
                    entered.countDown();
                    awaitQuietly(release);
                    calls.exit(call);
                },
                "worker-1");
        worker.start();
        entered.await();

        List<InFlightCalls.Call> left = calls.awaitCompletion(TERM, Duration.ZERO);
        assertThat(left).hasSize(1);
        assertThat(left.get(0))
                .hasToString("dev.leaderpod.leaderonly.InFlightCallsTest$Job.work() on thread 'worker-1'");
        release.countDown();
        worker.join(WAIT.toMillis());
        assertThat(calls.awaitCompletion(TERM, WAIT)).isEmpty();
    }

    @Test
    void framesOfThreadsThatDiedAreDroppedAsNewThreadsRegister() throws InterruptedException {
        for (int i = 0; i < 300; i++) {
            Thread thread = new Thread(() -> calls.exit(startedCall(TERM)), "short-lived-" + i);
            thread.start();
            thread.join(WAIT.toMillis());
        }

        // One entry per thread that ever called would be 300 (+1, this thread); sweeps drop the dead ones, and the
        // threads registered since the last sweep are still there.
        assertThat(calls.registeredThreads()).isBetween(2, 64);
    }

    /**
     * The property the drain rests on, raced on real threads: a call registers, then reads the term; the end of the
     * term clears it, then drains. Whatever the interleaving, once the drain found no call of the term, no call of
     * that term is running or starts (docs/design.md, "Ordered graceful shutdown").
     */
    @Test
    void onceADrainFoundNoCallOfTheTermNoneRunsOrStarts() throws InterruptedException {
        for (int round = 0; round < 200; round++) {
            LeadershipTerm term = new LeadershipTerm("orders", "me", round, Instant.EPOCH);
            AtomicReference<LeadershipTerm> leading = new AtomicReference<>(term);
            AtomicInteger inBody = new AtomicInteger();
            AtomicInteger lateStarts = new AtomicInteger();
            AtomicBoolean drained = new AtomicBoolean();
            List<Thread> workers = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                Thread worker = new Thread(() -> {
                    for (int i = 0; i < 200; i++) {
                        InFlightCalls.Call call = calls.enter(gated());
                        try {
                            LeadershipTerm seen = leading.get();
                            if (seen == null) {
                                continue;
                            }
                            call.startedUnder(seen);
                            if (drained.get()) {
                                lateStarts.incrementAndGet();
                            }
                            inBody.incrementAndGet();
                            Thread.onSpinWait();
                            inBody.decrementAndGet();
                        } finally {
                            calls.exit(call);
                        }
                    }
                });
                workers.add(worker);
                worker.start();
            }
            leading.set(null);
            assertThat(calls.awaitCompletion(term, WAIT)).isEmpty();
            drained.set(true);
            int runningAfterDrain = inBody.get();
            for (Thread worker : workers) {
                worker.join(WAIT.toMillis());
            }
            assertThat(runningAfterDrain)
                    .as("calls of the term running after its drain")
                    .isZero();
            assertThat(lateStarts.get())
                    .as("calls of the term started after its drain")
                    .isZero();
        }
    }

    @Test
    void deeplyNestedCallsAreAllTrackedAndEachExitRemovesItsOwn() {
        List<InFlightCalls.Call> nested = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            nested.add(startedCall(TERM));
        }
        assertThat(calls.running()).containsExactlyElementsOf(nested);

        for (int i = nested.size() - 1; i >= 0; i--) {
            calls.exit(nested.get(i));
            assertThat(calls.running()).containsExactlyElementsOf(nested.subList(0, i));
        }
    }

    @Test
    void aCallThatEndsBeforeACallItStartedLeavesTheOtherTracked() {
        InFlightCalls.Call first = startedCall(TERM);
        InFlightCalls.Call second = startedCall(TERM);
        InFlightCalls.Call third = startedCall(TERM);

        calls.exit(first); // out of order: not what proxies do, but nothing may be lost if it happens
        assertThat(calls.running()).containsExactly(second, third);
        calls.exit(third);
        assertThat(calls.running()).containsExactly(second);
        InFlightCalls.Call fourth = startedCall(TERM);
        assertThat(calls.running()).containsExactly(second, fourth);
    }

    @Test
    void aLiveThreadThatWentIdleIsStillSeenByTheDrainAfterDeadThreadsWereSwept() throws InterruptedException {
        CountDownLatch calledOnce = new CountDownLatch(1);
        CountDownLatch callAgain = new CountDownLatch(1);
        CountDownLatch inSecondCall = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread scheduler = new Thread(
                () -> {
                    calls.exit(startedCall(TERM));
                    calledOnce.countDown();
                    awaitQuietly(callAgain);
                    InFlightCalls.Call call = startedCall(TERM);
                    inSecondCall.countDown();
                    awaitQuietly(release);
                    calls.exit(call);
                },
                "scheduling-1");
        scheduler.start();
        calledOnce.await();
        for (int i = 0; i < 200; i++) { // enough registrations for sweeps of the dead threads
            Thread thread = new Thread(() -> calls.exit(startedCall(TERM)), "short-lived-" + i);
            thread.start();
            thread.join(WAIT.toMillis());
        }

        callAgain.countDown();
        inSecondCall.await();
        try {
            assertThat(calls.awaitCompletion(TERM, Duration.ZERO))
                    .singleElement()
                    .hasToString("dev.leaderpod.leaderonly.InFlightCallsTest$Job.work() on thread 'scheduling-1'");
        } finally {
            release.countDown();
            scheduler.join(WAIT.toMillis());
        }
    }

    @Test
    void aThreadCallingThroughTwoRegistriesIsDrainedByEachOnlyForItsOwnCalls() {
        InFlightCalls other = new InFlightCalls(); // another application context in the same JVM
        InFlightCalls.Call mine = startedCall(TERM);
        InFlightCalls.Call theirs = other.enter(gated());
        theirs.startedUnder(TERM);

        assertThat(calls.running()).containsExactly(mine);
        assertThat(other.running()).containsExactly(theirs);
        other.exit(theirs);
        calls.exit(mine);
        assertThat(calls.running()).isEmpty();
        assertThat(other.running()).isEmpty();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private InFlightCalls.Call startedCall(LeadershipTerm term) {
        InFlightCalls.Call call = calls.enter(gated());
        call.startedUnder(term);
        return call;
    }

    private static LeaderOnlyMethods.Gated gated() {
        return LeaderOnlyMethods.resolve(ReflectionUtils.findMethod(Job.class, "work"), Job.class)
                .orElseThrow();
    }

    static class Job {
        @LeaderOnly
        public void work() {}
    }
}
