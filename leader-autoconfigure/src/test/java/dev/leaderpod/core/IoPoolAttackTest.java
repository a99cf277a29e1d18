package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.spread.ElectionSpreader;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;

/**
 * An outsider's attack on the shared I/O pool of {@link ElectionRuntime} (docs/design.md, "Bounded store calls",
 * "Named elections"): one candidate leads two elections on one runtime, on real threads with short timings (lease
 * 2 s, renew deadline 1 s, retry period 200 ms, request timeout 500 ms, so a call is abandoned after 625 ms).
 *
 * <p>The pool has no core threads and a queue that takes up to two waiting calls per running election: a
 * {@link java.util.concurrent.ThreadPoolExecutor} starts a second thread only once that queue is full. So while its
 * one thread is busy, every other call waits behind it, and an election's single renew never fills the queue. Each
 * finding has a control that runs the same scenario on a runtime whose I/O executor gives every call a thread: the
 * timings are not the cause, the pool is.
 */
class IoPoolAttackTest {

    private static final Duration LEASE = Duration.ofSeconds(2);
    private static final Duration RENEW = Duration.ofSeconds(1);
    private static final Duration RETRY = Duration.ofMillis(200);
    private static final Duration REQUEST_TIMEOUT = Duration.ofMillis(500);
    /** Several renew deadlines (and, in the presence case, several presence ticks). */
    private static final Duration OBSERVED = Duration.ofSeconds(5);

    // =========================================================================================================
    // Findings (each fails; disabled so the build stays green)

    /**
     * Finding P1. A renew of election "one" hangs (a store whose call never answers: docs/design.md promises every
     * call is bounded "whatever the client library promises"). Election "one" is revoked at its deadline, as it must.
     * But the renews of election "two" wait behind the hung call on the pool's only thread, are abandoned unstarted
     * after 625 ms, and the leader of "two" — whose store answers at once — loses it at its deadline too, and cannot
     * take it back while the queue is not full. One hung call costs the candidate every election it leads.
     */
    @Test
    void aHungCallOfOneElectionDoesNotCostTheLeaderItsOtherElections() {
        try (ElectionRuntime runtime = ElectionRuntime.create("hung-call")) {
            assertThat(hungCallOfOneElection(runtime))
                    .as("revocations of \"two\", whose store answers at once, while a renew of \"one\" hangs")
                    .isEmpty();
        }
    }

    /**
     * Finding P2. Presence runs on the same pool ({@link ElectionRuntime#runBlocking}): a presence tick is several
     * store calls in one task (announce, then list where the store cannot watch, then removals). A presence store
     * answering each call within the request timeout (480 ms of 500 ms) holds the only I/O thread for about a second
     * per tick; the leader's renews queued behind it are abandoned unstarted and it loses both elections, tick after
     * tick. docs/design.md, "Presence": a wrong or slow view of presence "costs balance ... never a second leader" —
     * here it costs every term.
     */
    @Test
    void slowPresenceCallsWithinTheRequestTimeoutDoNotCostTheLeaderItsElections() {
        try (ElectionRuntime runtime = ElectionRuntime.create("slow-presence")) {
            assertThat(slowPresence(runtime))
                    .as("revocations while presence answers within its request timeout")
                    .isEmpty();
        }
    }

    // =========================================================================================================
    // Controls: the same scenarios where every call gets a thread of its own keep both terms

    @Test
    void controlAHungCallOfOneElectionCostsNothingElseWhenEveryCallGetsAThread() {
        withThreadPerCallRuntime(
                runtime -> assertThat(hungCallOfOneElection(runtime)).isEmpty());
    }

    @Test
    void controlSlowPresenceCostsNoTermWhenEveryCallGetsAThread() {
        withThreadPerCallRuntime(runtime -> assertThat(slowPresence(runtime)).isEmpty());
    }

    // =========================================================================================================

    /** Returns the revocations of "two" while a renew of "one" hangs. */
    private List<String> hungCallOfOneElection(ElectionRuntime runtime) {
        InMemoryLeaseStore shared = new InMemoryLeaseStore();
        CountDownLatch answer = new CountDownLatch(1);
        AtomicBoolean hang = new AtomicBoolean();
        LeaseStore store = new ForwardingLeaseStore(shared) {
            @Override
            public VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
                if (hang.get() && name.equals("one")) {
                    awaitQuietly(answer);
                }
                return super.update(name, record, expectedVersion);
            }
        };
        List<String> revoked = new CopyOnWriteArrayList<>();
        LeaseElector one = elector("one", store, runtime, revoked);
        LeaseElector two = elector("two", store, runtime, revoked);
        try {
            one.start();
            two.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> one.isLeader() && two.isLeader());
            revoked.clear();

            hang.set(true);
            await().atMost(Duration.ofSeconds(5)).until(() -> !one.isLeader()); // revoked at its deadline: right
            revoked.remove("one:DEADLINE_PASSED");
            return observed(revoked);
        } finally {
            answer.countDown();
            one.stop(Duration.ofSeconds(2));
            two.stop(Duration.ofSeconds(2));
        }
    }

    /** Returns the revocations of both elections while presence answers slowly, within its request timeout. */
    private List<String> slowPresence(ElectionRuntime runtime) {
        InMemoryLeaseStore shared = new InMemoryLeaseStore();
        List<String> revoked = new CopyOnWriteArrayList<>();
        LeaseElector one = elector("one", shared, runtime, revoked);
        LeaseElector two = elector("two", shared, runtime, revoked);
        InMemoryPresenceStore presence = new InMemoryPresenceStore("app");
        Duration latency = Duration.ofMillis(480); // each call answers within the 500 ms request timeout
        PresenceStore slow = new PresenceStore() {
            @Override
            public Presence announce(Presence announcement) {
                pause(latency); // a slow API server, simulated in the store: not a wait of the test
                return presence.announce(announcement);
            }

            @Override
            public List<Presence> list() {
                pause(latency);
                return presence.list();
            }

            @Override
            public void remove(String identity, String version) {
                pause(latency);
                presence.remove(identity, version);
            }
            // no watch, as the file store: the tracker lists on every tick
        };
        ElectionSpreader spreader = new ElectionSpreader(
                "a",
                slow,
                runtime,
                ElectionClock.system(),
                Duration.ofSeconds(1),
                RETRY,
                () -> List.of(one, two),
                Map::of);
        try {
            one.start();
            two.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> one.isLeader() && two.isLeader());
            revoked.clear();

            spreader.start();
            return observed(revoked);
        } finally {
            spreader.leave();
            one.stop(Duration.ofSeconds(2));
            two.stop(Duration.ofSeconds(2));
        }
    }

    private static LeaseElector elector(String lease, LeaseStore store, ElectionRuntime runtime, List<String> revoked) {
        return LeaseElector.builder(new ElectionSettings(lease, "a", LEASE, RENEW, RETRY, REQUEST_TIMEOUT), store)
                .runtime(runtime)
                .listener(new LeadershipListener() {
                    @Override
                    public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
                        if (reason != RevocationReason.SHUTDOWN) {
                            revoked.add(lease + ":" + reason);
                        }
                    }
                })
                .build();
    }

    private static void withThreadPerCallRuntime(java.util.function.Consumer<ElectionRuntime> scenario) {
        ScheduledExecutorService election = Executors.newSingleThreadScheduledExecutor();
        ScheduledExecutorService events = Executors.newSingleThreadScheduledExecutor();
        ExecutorService io = Executors.newCachedThreadPool();
        try {
            scenario.accept(ElectionRuntime.of(election, events, io));
        } finally {
            election.shutdownNow();
            events.shutdownNow();
            io.shutdownNow();
        }
    }

    private static void pause(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Watches {@code revoked} for {@link #OBSERVED}, ending early at the first revocation; returns it. */
    private static List<String> observed(List<String> revoked) {
        try {
            await().during(OBSERVED).atMost(OBSERVED.plusSeconds(5)).until(revoked::isEmpty);
        } catch (ConditionTimeoutException e) {
            // a revocation: returned below
        }
        return List.copyOf(revoked);
    }
}
