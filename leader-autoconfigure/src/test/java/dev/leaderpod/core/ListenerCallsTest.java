package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ListenerCalls}: the listener hears of every start and end of a term and every new holder on the event
 * thread, in order (docs/design.md, "No I/O on the thread that ends terms"); nothing a listener throws reaches the
 * elector or keeps the callbacks after it from running ("Nothing but stop ends the election").
 */
class ListenerCallsTest {

    private static final LeadershipTerm TERM =
            new LeadershipTerm("orders", "me", 3, Instant.parse("2026-01-01T00:00:00Z"));

    private final ManualTime time = new ManualTime();
    private final ScheduledExecutorService election = time.executor("election");
    private final ElectionSettings settings = new ElectionSettings(
            "orders", "me", Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(2), null);
    private final ElectionLog log = new ElectionLog("lease orders", settings, time.clock());
    private final ElectionThreads threads = new ElectionThreads(
            ElectionRuntime.of(election, time.executor("events"), time.executor("io")),
            "orders",
            time.clock(),
            log,
            () -> true,
            e -> {
                throw new AssertionError(e);
            });
    private final CallHistory history = new CallHistory(log);
    private final List<String> heard = new ArrayList<>();
    private RuntimeException toThrow;
    private final ListenerCalls calls = new ListenerCalls(
            new LeadershipListener() {
                @Override
                public void onStartedLeading(LeadershipTerm term) {
                    hear("started " + term.fencingToken());
                }

                @Override
                public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
                    hear("stopped " + term.fencingToken() + " " + reason);
                }

                @Override
                public void onNewLeader(String holderIdentity, long leaseTransitions) {
                    hear("leader " + holderIdentity + " " + leaseTransitions);
                }
            },
            threads,
            log,
            history);
    private final LogCapture captured = new LogCapture();

    {
        threads.open();
    }

    @AfterEach
    void detach() {
        captured.close();
    }

    private void hear(String what) {
        heard.add(what + " on " + time.runningExecutor());
        if (toThrow != null) {
            RuntimeException failure = toThrow;
            toThrow = null;
            throw failure;
        }
    }

    @Test
    void everyCallbackRunsOnTheEventThreadInOrder() {
        calls.started(TERM);
        calls.stopped(TERM, RevocationReason.LOST);
        assertThat(heard).as("never on the caller's thread").isEmpty();

        time.runDue();

        assertThat(heard).containsExactly("started 3 on events", "stopped 3 LOST on events");
        assertThat(captured.lines()).containsExactly("INFO me no longer leads orders (LOST, fencing token was 3)");
    }

    @Test
    void theFutureOfARevocationCompletesOnceTheListenersRanAndAYieldReleasesOnlyThen() throws Exception {
        Future<?> revoked = calls.stopped(TERM, RevocationReason.SHUTDOWN);
        calls.stopped(TERM, RevocationReason.YIELDED, () -> heard.add("release on " + time.runningExecutor()));
        assertThat(revoked.isDone()).isFalse();

        time.runDue();

        assertThat(revoked.isDone()).isTrue();
        assertThat(heard)
                .containsExactly("stopped 3 SHUTDOWN on events", "stopped 3 YIELDED on events", "release on events");
    }

    @Test
    void aRevocationAtTheDeadlineNamesTheFailuresThatCausedIt() {
        history.failed(LeaseStoreException.Kind.TIMEOUT);
        history.failed(LeaseStoreException.Kind.TIMEOUT);

        calls.stopped(TERM, RevocationReason.DEADLINE_PASSED);
        time.runDue();

        assertThat(captured.atLeast(Level.WARN)).hasSize(1);
        assertThat(captured.atLeast(Level.WARN).get(0)).contains("2 failures in a row, last TIMEOUT");
    }

    @Test
    void aListenerThatThrowsIsLoggedAndTheCallbacksAfterItStillRun() {
        toThrow = new IllegalStateException("listener broke");
        calls.started(TERM);
        calls.stopped(TERM, RevocationReason.YIELDED, () -> heard.add("release"));
        time.runDue();

        assertThat(heard).containsExactly("started 3 on events", "stopped 3 YIELDED on events", "release");
        assertThat(captured.atLeast(Level.ERROR))
                .containsExactly("ERROR Leadership listener failed in onStartedLeading (fencing token 3) of orders");

        toThrow = new IllegalStateException("listener broke again");
        calls.stopped(TERM, RevocationReason.YIELDED, () -> heard.add("release after a throw"));
        time.runDue();
        assertThat(heard).last().isEqualTo("release after a throw");
    }

    @Test
    void listenersHearOfEveryChangeOfHolderAndOnlyOfChanges() {
        calls.seen(record("", 0));
        calls.seen(record("a", 1));
        calls.seen(record("a", 1));
        calls.seen(record("", 1));
        calls.seen(record("b", 2));
        time.runDue();

        assertThat(heard)
                .as("a free lease at first sight is no change")
                .containsExactly("leader a 1 on events", "leader null 1 on events", "leader b 2 on events");
    }

    private static LeaseRecord record(String holder, long token) {
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        return new LeaseRecord(holder, Duration.ofSeconds(15), t, t, token);
    }
}
