package dev.leaderpod.leaderonly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.core.LeadershipTerm;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
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
