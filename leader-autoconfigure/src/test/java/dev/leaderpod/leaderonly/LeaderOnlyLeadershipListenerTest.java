package dev.leaderpod.leaderonly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.core.LeadershipListenerOrder;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.RevocationReason;
import dev.leaderpod.leaderonly.LeaderOnlyLeadershipListener.GatedLifecycle;
import java.lang.reflect.Method;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.Lifecycle;
import org.springframework.context.SmartLifecycle;
import org.springframework.util.ReflectionUtils;

/** Starting and stopping gated lifecycle beans at the edges of a term (the beans here are not proxied). */
@ExtendWith(OutputCaptureExtension.class)
class LeaderOnlyLeadershipListenerTest {

    private static final LeadershipTerm TERM = new LeadershipTerm("orders", "me", 3, Instant.EPOCH);
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final List<String> events = new CopyOnWriteArrayList<>();
    private final InFlightCalls calls = new InFlightCalls();

    @Test
    void startsInAscendingPhaseAndStopsRunningBeansInDescendingPhase() {
        Bean late = new Bean("late", 10);
        Bean early = new Bean("early", -10);
        Plain plain = new Plain();
        LeaderOnlyLeadershipListener listener = listener(WAIT, late, plain, early);

        listener.onStartedLeading(TERM);
        plain.running = false; // stopped by itself meanwhile: not stopped again
        listener.onStoppedLeading(TERM, RevocationReason.YIELDED);

        assertThat(events).containsExactly("early start", "plain start", "late start", "late stop", "early stop");
    }

    @Test
    void waitsForAnAsynchronousStopToCallBack() throws InterruptedException {
        CountDownLatch allowCallback = new CountDownLatch(1);
        Bean async = new Bean("async", 0) {
            @Override
            public void stop(Runnable callback) {
                Thread stopper = new Thread(() -> {
                    awaitQuietly(allowCallback);
                    events.add("async stopped");
                    running = false;
                    callback.run();
                });
                stopper.setDaemon(true);
                stopper.start();
            }
        };
        LeaderOnlyLeadershipListener listener = listener(WAIT, async);
        listener.onStartedLeading(TERM);
        Thread ending = new Thread(() -> {
            listener.onStoppedLeading(TERM, RevocationReason.LOST);
            events.add("term ended");
        });
        ending.start();

        await().atMost(WAIT).until(() -> ending.getState() == Thread.State.TIMED_WAITING);
        assertThat(events).containsExactly("async start");
        allowCallback.countDown();
        ending.join(WAIT.toMillis());

        assertThat(events).containsExactly("async start", "async stopped", "term ended");
    }

    @Test
    void warnsWhenAStopDoesNotCallBackWithinTheDrainTimeout(CapturedOutput output) {
        Bean silent = new Bean("silent", 0) {
            @Override
            public void stop(Runnable callback) {}
        };
        LeaderOnlyLeadershipListener listener = listener(Duration.ofMillis(20), silent);
        listener.onStartedLeading(TERM);

        listener.onStoppedLeading(TERM, RevocationReason.SHUTDOWN);

        assertThat(output).contains("@LeaderOnly bean 'silent' did not finish stopping within leader.drain-timeout");
    }

    @Test
    void aFailingStartDoesNotKeepTheOthersFromStarting(CapturedOutput output) {
        Bean failing = new Bean("failing", 0) {
            @Override
            public void start() {
                throw new IllegalStateException("no broker");
            }
        };
        Bean next = new Bean("next", 1);

        listener(WAIT, failing, next).onStartedLeading(TERM);

        assertThat(events).containsExactly("next start");
        assertThat(output).contains("Could not start @LeaderOnly bean 'failing' for term 3");
    }

    // ---------------------------------------------------------------------------------------------------------
    // User code that throws, even an Error, must not cut the start or the end of a term short

    @Test
    void anErrorFromOneBeansStopDoesNotSkipTheOtherBeansNorTheDrain(CapturedOutput output) {
        Bean failing = new Bean("failing", 10) {
            @Override
            public void stop(Runnable callback) {
                throw new AssertionError("stop bug");
            }
        };
        Bean next = new Bean("next", 0);
        LeaderOnlyLeadershipListener listener = listener(Duration.ofMillis(50), failing, next);
        listener.onStartedLeading(TERM);
        stillRunningCallOf(TERM);

        assertThatCode(() -> listener.onStoppedLeading(TERM, RevocationReason.LOST))
                .doesNotThrowAnyException();

        assertThat(events).containsExactly("next start", "failing start", "next stop");
        assertThat(output)
                .contains("Could not stop @LeaderOnly bean 'failing'")
                .contains("java.lang.AssertionError: stop bug")
                .contains("1 @LeaderOnly call(s) still run after leader.drain-timeout");
    }

    @Test
    void aVirtualMachineErrorFromAStopIsRethrownOnlyAfterTheOtherBeansStoppedAndTheCallsDrained(CapturedOutput output) {
        StackOverflowError overflow = new StackOverflowError("deep stop");
        Bean failing = new Bean("failing", 10) {
            @Override
            public void stop(Runnable callback) {
                throw overflow;
            }
        };
        Bean next = new Bean("next", 0);
        LeaderOnlyLeadershipListener listener = listener(Duration.ofMillis(50), failing, next);
        listener.onStartedLeading(TERM);
        stillRunningCallOf(TERM);

        assertThatThrownBy(() -> listener.onStoppedLeading(TERM, RevocationReason.SHUTDOWN))
                .isSameAs(overflow);

        assertThat(events).endsWith("next stop");
        assertThat(output)
                .contains("Could not stop @LeaderOnly bean 'failing'")
                .contains("1 @LeaderOnly call(s) still run after leader.drain-timeout");
    }

    @Test
    void callsAreDrainedEvenWhenTheBeansCannotBeListed(CapturedOutput output) {
        LeaderOnlyLeadershipListener listener = new LeaderOnlyLeadershipListener(
                calls,
                term -> {
                    throw new IllegalStateException("context closed");
                },
                Duration.ofMillis(50));
        stillRunningCallOf(TERM);

        assertThatThrownBy(() -> listener.onStoppedLeading(TERM, RevocationReason.SHUTDOWN))
                .hasMessage("context closed");

        assertThat(output).contains("1 @LeaderOnly call(s) still run after leader.drain-timeout");
    }

    @Test
    void anErrorFromOneBeansStartDoesNotKeepTheOthersFromStarting(CapturedOutput output) {
        Bean failing = new Bean("failing", 0) {
            @Override
            public void start() {
                throw new NoClassDefFoundError("com/example/Broker");
            }
        };
        Bean next = new Bean("next", 1);

        assertThatCode(() -> listener(WAIT, failing, next).onStartedLeading(TERM))
                .doesNotThrowAnyException();

        assertThat(events).containsExactly("next start");
        assertThat(output)
                .contains("Could not start @LeaderOnly bean 'failing' for term 3")
                .contains("java.lang.NoClassDefFoundError: com/example/Broker");
    }

    @Test
    void aVirtualMachineErrorFromAStartIsRethrownOnlyAfterTheOtherBeansStarted() {
        OutOfMemoryError first = new OutOfMemoryError("first");
        Bean failing = new Bean("failing", 0) {
            @Override
            public void start() {
                throw first;
            }
        };
        Bean alsoFailing = new Bean("also failing", 1) {
            @Override
            public void start() {
                throw new StackOverflowError("second");
            }
        };
        Bean next = new Bean("next", 2);

        assertThatThrownBy(() -> listener(WAIT, failing, alsoFailing, next).onStartedLeading(TERM))
                .isSameAs(first);

        assertThat(events).containsExactly("next start");
    }

    @Test
    void anInterruptedEndOfTermStillStopsEveryBeanAndKeepsTheInterruptForTheEventThread() {
        Bean silent = new Bean("silent", 10) {
            @Override
            public void stop(Runnable callback) {
                events.add("silent stop"); // never calls back
            }
        };
        Bean next = new Bean("next", 0);
        LeaderOnlyLeadershipListener listener = listener(WAIT, silent, next);
        listener.onStartedLeading(TERM);

        Thread.currentThread().interrupt();
        try {
            listener.onStoppedLeading(TERM, RevocationReason.SHUTDOWN);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
        assertThat(events).endsWith("silent stop", "next stop");
    }

    @Test
    void runsBeforeListenersOfDefaultOrZeroOrderSoThatTheTermsWorkIsOverBeforeTheyHearOfIt() {
        assertThat(listener(WAIT).getOrder())
                .isEqualTo(LeadershipListenerOrder.LEADER_ONLY)
                .isLessThan(0);
    }

    /** A {@code @LeaderOnly} call of {@code term} that has started and does not return during the test. */
    private void stillRunningCallOf(LeadershipTerm term) {
        Method work = ReflectionUtils.findMethod(Job.class, "work");
        InFlightCalls.Call call =
                calls.enter(LeaderOnlyMethods.resolve(work, Job.class).orElseThrow());
        call.startedUnder(term);
    }

    static class Job {
        @LeaderOnly
        public void work() {}
    }

    private LeaderOnlyLeadershipListener listener(Duration drainTimeout, Lifecycle... beans) {
        List<GatedLifecycle> gated = java.util.Arrays.stream(beans)
                .map(bean -> new GatedLifecycle(bean.toString(), bean))
                .toList();
        return new LeaderOnlyLeadershipListener(calls, term -> gated, drainTimeout);
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    class Bean implements SmartLifecycle {
        private final String name;
        private final int phase;
        volatile boolean running;

        Bean(String name, int phase) {
            this.name = name;
            this.phase = phase;
        }

        @Override
        public void start() {
            events.add(name + " start");
            running = true;
        }

        @Override
        public void stop() {
            events.add(name + " stop");
            running = false;
        }

        @Override
        public boolean isRunning() {
            return running;
        }

        @Override
        public int getPhase() {
            return phase;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** A plain Lifecycle: phase 0. */
    class Plain implements Lifecycle {
        volatile boolean running;

        @Override
        public void start() {
            events.add("plain start");
            running = true;
        }

        @Override
        public void stop() {
            events.add("plain stop");
            running = false;
        }

        @Override
        public boolean isRunning() {
            return running;
        }

        @Override
        public String toString() {
            return "plain";
        }
    }
}
