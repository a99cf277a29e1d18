package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.StoreCalls.Outcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;

/**
 * {@link StoreCalls}: every store call bounded by the elector's own clock, its outcome delivered once on the election
 * thread (docs/design.md, "Bounded store calls" and "No I/O on the thread that ends terms"), and nothing a store throws
 * ending the election ("Nothing but stop ends the election").
 */
class StoreCallsTest {

    private static final Duration BOUND = Duration.ofMillis(6250);

    private final ManualTime time = new ManualTime();
    private final ScheduledExecutorService election = time.executor("election");
    private final ScheduledExecutorService io = time.executor("io");
    private final List<String> measured = new ArrayList<>();
    private final List<Outcome<?>> seenByElector = new ArrayList<>();
    private final List<Throwable> continuationFailures = new ArrayList<>();
    private final List<String> delivered = new ArrayList<>();
    /** What the elector's monitor is told: operation, latency and failure kind. */
    private Measure monitor = (operation, latency, failure) ->
            measured.add(operation.key() + " " + latency.toMillis() + " ms " + failure);

    private interface Measure {
        void storeCall(StoreOperation operation, Duration latency, Kind failure);
    }

    private StoreCalls calls() {
        return calls(io);
    }

    private StoreCalls calls(java.util.concurrent.Executor ioExecutor) {
        return new StoreCalls(
                "orders",
                ioExecutor,
                election,
                time.clock(),
                BOUND,
                new ElectionMonitor() {
                    @Override
                    public void storeCall(StoreOperation operation, Duration latency, Kind failure) {
                        monitor.storeCall(operation, latency, failure);
                    }
                },
                seenByElector::add,
                continuationFailures::add);
    }

    @Test
    void aCallRunsOnAnIoThreadAndItsOutcomeComesBackOnTheElectionThread() {
        List<String> ranOn = new ArrayList<>();
        StoreCalls calls = calls();

        calls.call(
                StoreOperation.GET,
                () -> {
                    ranOn.add(time.runningExecutor());
                    return "lease";
                },
                out -> {
                    ranOn.add(time.runningExecutor());
                    delivered.add(out.value());
                });
        assertThat(delivered).as("nothing runs on the caller's thread").isEmpty();
        time.runDue();

        assertThat(ranOn).containsExactly("io", "election");
        assertThat(delivered).containsExactly("lease");
        assertThat(seenByElector).hasSize(1);
    }

    @Test
    void aCallThatDoesNotAnswerWithinTheBoundIsAbandonedWithATimeoutAtTheBoundAndItsLateValueIsDiscarded() {
        List<String> discarded = new ArrayList<>();
        List<Long> outcomeAt = new ArrayList<>();
        long start = time.nanoTime();
        calls().call(
                        StoreOperation.WATCH,
                        () -> {
                            time.advanceExcept(Duration.ofSeconds(8), "io"); // hangs past the bound
                            return "late watch";
                        },
                        out -> {
                            outcomeAt.add(time.nanoTime());
                            delivered.add(out.kind() + " " + out.failure().getMessage());
                        },
                        discarded::add);
        time.runDue();

        assertThat(outcomeAt).containsExactly(start + BOUND.toNanos());
        assertThat(delivered)
                .containsExactly("TIMEOUT watch of orders got no answer within PT6.25S; the call was abandoned");
        assertThat(discarded).containsExactly("late watch");
    }

    @Test
    void aCallAnsweredJustBeforeTheBoundIsNotAbandoned() {
        calls().call(
                        StoreOperation.RENEW,
                        () -> {
                            time.advanceExcept(BOUND.minusNanos(1), "io");
                            return "renewed";
                        },
                        out -> delivered.add(String.valueOf(out.value())));
        time.advance(Duration.ofSeconds(10));

        assertThat(delivered).containsExactly("renewed");
        assertThat(measured).containsExactly("renew 6249 ms null");
    }

    @Test
    void anAnsweredCallLeavesNoTimerBehind() {
        // A leader renews every retry period: each answered call's timeout must be cancelled, not left to pile up on
        // the election thread until it fires.
        calls().call(StoreOperation.RENEW, () -> "renewed", out -> delivered.add(out.value()));
        time.runDue();

        assertThat(delivered).containsExactly("renewed");
        assertThat(time.pending()).isZero();
    }

    @Test
    void theMonitorMeasuresEveryCallButWatchStartsWithItsLatencyAndFailureKind() {
        StoreCalls calls = calls();
        calls.call(
                StoreOperation.ACQUIRE,
                () -> {
                    time.advanceExcept(Duration.ofMillis(300), "io");
                    throw new LeaseConflictException("overtaken");
                },
                out -> {});
        time.runDue();
        calls.call(StoreOperation.WATCH, () -> "watch", out -> {});
        time.runDue();
        calls.call(
                StoreOperation.GET,
                () -> {
                    throw new LeaseStoreException(Kind.FORBIDDEN, "no rule");
                },
                out -> {});
        time.runDue();

        assertThat(measured).containsExactly("acquire 300 ms CONFLICT", "get 0 ms FORBIDDEN");
        assertThat(seenByElector)
                .as("the elector's bookkeeping sees every outcome but a watch's")
                .hasSize(2)
                .allMatch(Outcome::failed);
    }

    @Test
    void anythingAStoreThrowsBecomesAFailedOutcomeErrorsIncluded() {
        List<Outcome<?>> outcomes = new ArrayList<>();
        StoreCalls calls = calls();
        calls.call(
                StoreOperation.GET,
                () -> {
                    throw new StackOverflowError("a store bug");
                },
                outcomes::add);
        calls.call(
                StoreOperation.RENEW,
                () -> {
                    throw new LeaseConflictException("overtaken");
                },
                outcomes::add);
        calls.call(
                StoreOperation.RENEW,
                () -> {
                    throw new LeaseStoreException(Kind.UNAVAILABLE, "down");
                },
                outcomes::add);
        time.runDue();

        assertThat(outcomes).allMatch(Outcome::failed);
        assertThat(outcomes).extracting(Outcome::kind).containsExactly(Kind.OTHER, Kind.CONFLICT, Kind.UNAVAILABLE);
        assertThat(outcomes).extracting(Outcome::conflict).containsExactly(false, true, false);
        Outcome<String> success = new Outcome<>("value", null);
        assertThat(success.failed()).isFalse();
        assertThat(success.conflict()).isFalse();
    }

    @Test
    void aMonitorOrAContinuationThatThrowsNeitherEndsTheElectionNorSkipsTheOutcome() {
        monitor = (operation, latency, failure) -> {
            throw new OutOfMemoryError("a monitor bug");
        };
        calls().call(StoreOperation.RENEW, () -> "renewed", out -> {
            delivered.add(out.value());
            throw new IllegalStateException("a bug in a step");
        });
        time.runDue();

        assertThat(delivered).containsExactly("renewed");
        assertThat(seenByElector).hasSize(1);
        assertThat(continuationFailures).singleElement().isInstanceOf(IllegalStateException.class);
    }

    @Test
    void callsOfAClosedRunThatHadNotStartedNeverStartAndDeliverNothing() {
        List<String> discarded = new ArrayList<>();
        List<String> started = new ArrayList<>();
        StoreCalls calls = calls();
        calls.call(
                StoreOperation.WATCH,
                () -> {
                    started.add("watch");
                    return "watch of the old run";
                },
                out -> delivered.add("answer"),
                discarded::add);
        calls.<String>call(
                StoreOperation.GET,
                () -> {
                    throw new LeaseStoreException(Kind.UNAVAILABLE, "down");
                },
                out -> delivered.add("failure"),
                discarded::add);

        calls.close();
        time.advance(Duration.ofSeconds(10));

        assertThat(delivered).isEmpty();
        assertThat(seenByElector).isEmpty();
        assertThat(measured).isEmpty();
        assertThat(started)
                .as("a call of a closed run that waited for an I/O thread")
                .isEmpty();
        assertThat(discarded).isEmpty();
    }

    @Test
    void anOutcomeOnItsWayWhenTheRunClosesIsDroppedAndItsValueDiscarded() {
        List<String> discarded = new ArrayList<>();
        StoreCalls calls = calls();
        calls.call(
                StoreOperation.WATCH,
                () -> {
                    time.freeze("election"); // answered, but the election thread is busy ...
                    return "watch";
                },
                out -> delivered.add("answer"),
                discarded::add);
        time.advanceExcept(Duration.ofMillis(10), "election");
        calls.close(); // ... and the run ends before it gets to the outcome
        time.thaw("election");
        time.advance(Duration.ofSeconds(10));

        assertThat(delivered).isEmpty();
        assertThat(discarded).containsExactly("watch");
    }

    @Test
    void whenEveryIoThreadIsStuckANewCallFailsAtOnceInsteadOfQueueing() {
        ScheduledExecutorService full = time.executor("io-full");
        full.shutdown(); // refuses every task, as the runtime's pool does when all its threads hang
        List<Long> outcomeAt = new ArrayList<>();
        long start = time.nanoTime();

        calls(full).call(StoreOperation.RENEW, () -> "never runs", out -> {
            outcomeAt.add(time.nanoTime());
            delivered.add(out.kind() + " " + out.failure().getMessage());
        });
        time.advance(Duration.ofSeconds(10));

        assertThat(outcomeAt).containsExactly(start);
        assertThat(delivered)
                .containsExactly("TIMEOUT renew of orders not started: earlier store calls are still hung");
    }

    @Test
    void aCallMadeWhileTheElectionThreadShutsDownIsNotStarted() {
        List<String> started = new ArrayList<>();
        election.shutdown();

        calls().call(
                        StoreOperation.RENEW,
                        () -> {
                            started.add("renew");
                            return "renewed";
                        },
                        out -> delivered.add("answer"));
        time.advance(Duration.ofSeconds(10));

        assertThat(started).isEmpty();
        assertThat(delivered).isEmpty();
    }
}
