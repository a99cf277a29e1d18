package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.leaderpod.core.ElectionSettings.InvalidSettingException;
import dev.leaderpod.core.ElectionSettings.Setting;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Tests that kill mutants a mutation run of the core left alive (survivors that were not equivalent): each pins a
 * behaviour no other test checked.
 */
class CoreSurvivorsTest {

    private static final String LEASE = "orders";
    private static final Duration SECOND = Duration.ofSeconds(1);

    private final ManualTime time = new ManualTime();
    private final InMemoryLeaseStore shared = new InMemoryLeaseStore();
    /** Store calls as {@code candidate operation[ failure]}, in order. */
    private final List<String> calls = new CopyOnWriteArrayList<>();
    /** Listener callbacks as {@code candidate callback detail}, in order. */
    private final List<String> events = new CopyOnWriteArrayList<>();

    /** When set, the elector's clock fails once: a bug in the election loop. */
    private final AtomicBoolean clockFails = new AtomicBoolean();

    private final ElectionClock clock = new ElectionClock() {
        @Override
        public long nanoTime() {
            if (clockFails.getAndSet(false)) {
                throw new IllegalStateException("scripted failure");
            }
            return time.clock().nanoTime();
        }

        @Override
        public Instant wallTime() {
            return time.clock().wallTime();
        }
    };

    private LeaseElector elector(String id, ScriptedStore store, boolean watch) {
        return elector(id, store, watch, time.executor("io-" + id));
    }

    private LeaseElector elector(String id, ScriptedStore store, boolean watch, Executor io) {
        store.watchable(watch);
        return LeaseElector.builder(
                        new ElectionSettings(
                                LEASE, id, Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(2), null),
                        store)
                .clock(clock)
                .executors(time.executor("election-" + id), time.executor("events-" + id), io)
                .watch(watch)
                .random(new SplittableRandom(7))
                .listener(new LeadershipListener() {
                    @Override
                    public void onStartedLeading(LeadershipTerm term) {
                        events.add(id + " started " + term.fencingToken());
                    }

                    @Override
                    public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
                        events.add(id + " stopped " + reason);
                    }
                })
                .monitor(new ElectionMonitor() {
                    @Override
                    public void storeCall(
                            StoreOperation operation, Duration latency, LeaseStoreException.Kind failure) {
                        calls.add(id + " " + operation + (failure == null ? "" : " " + failure));
                    }
                })
                .build();
    }

    /** A lease held by {@code holder}, written now: a live leader's, for the next lease duration. */
    private void heldBy(String holder) {
        Instant now = time.clock().wallTime();
        shared.create(LEASE, new LeaseRecord(holder, Duration.ofSeconds(15), now, now, 1L));
    }

    /** The lease existed once and was deleted: a candidate that creates it holds it a lease duration first. */
    private void deletedLease() {
        heldBy("gone");
        shared.delete(LEASE);
    }

    private long count(String call) {
        return calls.stream().filter(call::equals).count();
    }

    @Test
    void observedLeaderIsEmptyBeforeAnyReadTheHolderOnceReadAndEmptyForAReleasedLease() {
        heldBy("leader");
        LeaseElector follower = elector("b", new ScriptedStore(shared), false);
        assertThat(follower.observedLeader()).as("nothing read yet").isEmpty();

        follower.start();
        time.runDue();
        assertThat(follower.observedLeader()).contains("leader");

        VersionedLease held = shared.get(LEASE).orElseThrow();
        LeaseRecord record = held.record();
        shared.update(
                LEASE,
                new LeaseRecord(null, record.leaseDuration(), record.acquireTime(), record.renewTime(), 1L),
                held.version());
        time.advance(Duration.ofSeconds(3));
        assertThat(follower.observedLeader()).as("released: nobody leads").isEmpty();
        follower.stop(SECOND);
    }

    @Test
    void stopReturnsOnlyOnceTheWatchIsClosed() {
        heldBy("leader");
        ScriptedStore store = new ScriptedStore(shared);
        LeaseElector follower = elector("b", store, true);
        follower.start();
        time.advance(SECOND);
        assertThat(follower.snapshot().watching()).isTrue();

        AtomicBoolean closed = new AtomicBoolean();
        store.beforeWatchClose(() -> closed.set(true));
        follower.stop(Duration.ofSeconds(5));

        assertThat(closed).as("no connection outlives stop()").isTrue();
    }

    @Test
    void stopWaitsForAWatchCloseHandedToAPlainIoExecutorAndReportsOneThatDoesNotFinish() throws InterruptedException {
        assertStopWaitsForTheWatchClose(1);
    }

    @Test
    void stopWaitsForAWatchCloseOnAThreadOfItsOwnWhenTheIoExecutorRefusesIt() throws InterruptedException {
        assertStopWaitsForTheWatchClose(2);
    }

    /** @param mode how the I/O executor treats the close: 1 runs it on a thread, 2 refuses it */
    private void assertStopWaitsForTheWatchClose(int mode) throws InterruptedException {
        heldBy("leader");
        ScheduledExecutorService manualIo = time.executor("io-b");
        AtomicInteger ioMode = new AtomicInteger();
        Executor io = task -> {
            switch (ioMode.get()) {
                case 0 -> manualIo.execute(task);
                case 1 -> {
                    Thread thread = new Thread(task, "test-io");
                    thread.setDaemon(true);
                    thread.start();
                }
                default -> throw new RejectedExecutionException("shutting down");
            }
        };
        ScriptedStore store = new ScriptedStore(shared);
        LeaseElector follower = elector("b", store, true, io);
        follower.start();
        time.advance(SECOND);
        assertThat(follower.snapshot().watching()).isTrue();

        CountDownLatch closeStarted = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        store.beforeWatchClose(() -> {
            closeStarted.countDown();
            awaitQuietly(release); // a close that hangs on the network
        });
        ioMode.set(mode);
        try (LogCapture log = new LogCapture()) {
            follower.stop(Duration.ofMillis(200));

            assertThat(closeStarted.await(10, TimeUnit.SECONDS))
                    .as("the watch is closed")
                    .isTrue();
            assertThat(log.lines())
                    .as("stop() waited for the close, up to its timeout")
                    .anyMatch(line -> line.contains("watch close did not finish within"));
        } finally {
            release.countDown();
        }
    }

    @Test
    void aCandidateThatCreatedTheLeaseKnowsItHoldsItBeforeItsFirstHoldingRenew() {
        deletedLease();
        LeaseElector candidate = elector("a", new ScriptedStore(shared), false);
        candidate.start();
        time.runDue();
        assertThat(shared.get(LEASE)).isPresent();

        assertThat(candidate.observedLeader()).contains("a");
        assertThat(candidate.snapshot().observed()).isEqualTo(shared.get(LEASE));
        candidate.stop(SECOND);
    }

    @Test
    void eachHoldingRenewIsTheLeaseTheCandidateKnows() {
        deletedLease();
        LeaseElector candidate = elector("a", new ScriptedStore(shared), false);
        candidate.start();
        time.runDue();
        time.advance(Duration.ofSeconds(3)); // one holding renew, at 2 s
        assertThat(count("a RENEW")).isEqualTo(1);

        assertThat(candidate.snapshot().observed()).isEqualTo(shared.get(LEASE));
        candidate.stop(SECOND);
    }

    @Test
    void aCreateWhoseAnswerWasLostIsHeldAndThenLed() {
        deletedLease();
        ScriptedStore store = new ScriptedStore(shared);
        LeaseElector candidate = elector("a", store, false);
        store.loseResponseOfNextWrites(1);
        candidate.start();
        time.runDue();
        assertThat(shared.get(LEASE)).as("the create landed").isPresent();

        assertThat(time.advanceUntil(candidate::isLeader, Duration.ofMillis(100), Duration.ofSeconds(40)))
                .isTrue();
        candidate.stop(SECOND);
    }

    @Test
    void aHoldingRenewThatFailsIsTriedAgainAndTheTermStillStarts() {
        deletedLease();
        ScriptedStore store = new ScriptedStore(shared);
        LeaseElector candidate = elector("a", store, false);
        candidate.start();
        time.runDue();
        store.failNext(1, LeaseStoreException.Kind.UNAVAILABLE); // the first holding renew

        assertThat(time.advanceUntil(candidate::isLeader, Duration.ofMillis(100), Duration.ofSeconds(40)))
                .isTrue();
        assertThat(calls).contains("a RENEW UNAVAILABLE");
        candidate.stop(SECOND);
    }

    @Test
    void aLeaderWhoseTermStartedAfterAHoldRenewsWithoutReading() {
        deletedLease();
        LeaseElector candidate = elector("a", new ScriptedStore(shared), false);
        candidate.start();
        assertThat(time.advanceUntil(candidate::isLeader, Duration.ofMillis(100), Duration.ofSeconds(40)))
                .isTrue();
        calls.clear();

        time.advance(Duration.ofSeconds(8));

        assertThat(calls).as("renews on top of its own last write").isNotEmpty().containsOnly("a RENEW");
        candidate.stop(SECOND);
    }

    @Test
    void aWatchingCandidateThatCreatedTheLeaseFirstRenewsItARetryPeriodLater() {
        deletedLease();
        LeaseElector candidate = elector("a", new ScriptedStore(shared), true);
        candidate.start();
        time.runDue();
        assertThat(count("a CREATE")).isEqualTo(1);

        time.advance(Duration.ofMillis(1900));
        assertThat(count("a RENEW"))
                .as("the echo of its create brings no renew forward")
                .isZero();
        time.advance(Duration.ofMillis(200));
        assertThat(count("a RENEW")).isEqualTo(1);
        candidate.stop(SECOND);
    }

    @Test
    void aLeaderWhoseThreadWasStuckPastItsDeadlineNeverRenewsTheEndedTerm() {
        LeaseElector candidate = elector("a", new ScriptedStore(shared), true);
        candidate.start();
        assertThat(time.advanceUntil(candidate::isLeader, Duration.ofMillis(100), Duration.ofSeconds(40)))
                .isTrue();
        time.advance(Duration.ofMillis(500));
        long token = candidate.currentTerm().orElseThrow().fencingToken();
        calls.clear();

        time.freeze("election-a");
        time.advance(Duration.ofSeconds(11)); // past the renew deadline; the cycle due first is still queued
        time.thaw("election-a");
        time.runDue();
        time.advance(SECOND);

        assertThat(calls)
                .as("the ended term is never renewed: a new term is acquired first")
                .startsWith("a GET", "a ACQUIRE");
        assertThat(events).contains("a stopped DEADLINE_PASSED");
        assertThat(candidate.currentTerm())
                .hasValueSatisfying(term -> assertThat(term.fencingToken()).isGreaterThan(token));
        candidate.stop(SECOND);
    }

    @Test
    void aFollowerWhoseWatchIsQuietBecauseTheLeaderIsSilentKeepsItsWatch() {
        heldBy("leader"); // a leader that never renews: the watch has nothing to deliver
        ScriptedStore store = new ScriptedStore(shared);
        LeaseElector follower = elector("b", store, true);
        try (LogCapture log = new LogCapture()) {
            follower.start();
            time.advance(Duration.ofSeconds(10)); // reads whenever the renews stop arriving; finds nothing new

            assertThat(count("b GET")).as("it read again").isGreaterThan(1);
            assertThat(log.lines()).noneMatch(line -> line.contains("missed changes"));
            assertThat(store.calls("watch")).as("the same watch").isEqualTo(1);
        }
        follower.stop(SECOND);
    }

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
            runtime.detach(); // one election left: two calls may wait for a busy thread
            ThreadPoolExecutor io = (ThreadPoolExecutor) runtime.io();

            CountDownLatch running = new CountDownLatch(ElectionRuntime.MAX_IO_THREADS);
            for (int i = 0; i < ElectionRuntime.MAX_IO_THREADS; i++) { // every thread busy
                io.execute(() -> {
                    running.countDown();
                    awaitQuietly(release);
                });
            }
            assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
            io.execute(() -> awaitQuietly(release)); // waits for a busy thread
            io.execute(() -> awaitQuietly(release)); // waits too
            assertThatThrownBy(() -> io.execute(() -> {}))
                    .as("the queue is full and so is the pool")
                    .isInstanceOf(RejectedExecutionException.class);

            assertThat(io.getQueue()).as("exactly two calls wait").hasSize(2);
        } finally {
            release.countDown();
        }
    }

    @Test
    void oneConflictingRenewIsNotCountedAgainstTheCyclesAfterIt() {
        ScriptedStore store = new ScriptedStore(shared);
        LeaseElector leader = elector("a", store, false);
        try (LogCapture log = new LogCapture()) {
            leader.start();
            assertThat(time.advanceUntil(leader::isLeader, Duration.ofMillis(100), Duration.ofSeconds(40)))
                    .isTrue();
            VersionedLease current = shared.get(LEASE).orElseThrow();
            shared.update(
                    LEASE, current.record(), current.version()); // a hand edit that changes nothing but the version
            time.advance(Duration.ofSeconds(12)); // one conflicting renew, then five that land

            assertThat(calls).contains("a RENEW CONFLICT");
            assertThat(leader.isLeader()).isTrue();
            assertThat(log.lines()).noneMatch(line -> line.contains("overtaken by another writer"));
        }
        leader.stop(SECOND);
    }

    @Test
    void aLeaderWhoseTermEndedTakesTheLeaseItCreatedBackWithANewTermNotANewHold() {
        deletedLease();
        ScriptedStore store = new ScriptedStore(shared);
        LeaseElector candidate = elector("a", store, false);
        candidate.start();
        assertThat(time.advanceUntil(candidate::isLeader, Duration.ofMillis(100), Duration.ofSeconds(40)))
                .isTrue();
        store.failAll(LeaseStoreException.Kind.UNAVAILABLE);
        time.advance(Duration.ofSeconds(11));
        assertThat(events).contains("a stopped DEADLINE_PASSED");
        store.heal();
        calls.clear();

        assertThat(time.advanceUntil(candidate::isLeader, Duration.ofMillis(100), Duration.ofSeconds(10)))
                .as("its own earlier term: a new term at once")
                .isTrue();
        assertThat(calls).contains("a ACQUIRE");
        candidate.stop(SECOND);
    }

    @Test
    void aFollowerReadsAtOnceWhenItsWatchIsBackAfterItBroke() {
        LeaseElector leader = elector("a", new ScriptedStore(shared), false);
        leader.start();
        assertThat(time.advanceUntil(leader::isLeader, Duration.ofMillis(100), Duration.ofSeconds(40)))
                .isTrue();
        ScriptedStore store = new ScriptedStore(shared);
        LeaseElector follower = elector("b", store, true);
        follower.start();
        time.advance(Duration.ofSeconds(5));
        assertThat(follower.snapshot().watching()).isTrue();

        shared.breakWatches(new LeaseStoreException(LeaseStoreException.Kind.UNAVAILABLE, "connection reset"));
        assertReadsAsItsWatchStarts(store, 2);
        leader.stop(SECOND);
        follower.stop(SECOND);
    }

    @Test
    void aFollowerReadsAtOnceWhenItRestartedAWatchThatMissedChanges() {
        LeaseElector leader = elector("a", new ScriptedStore(shared), false);
        leader.start();
        assertThat(time.advanceUntil(leader::isLeader, Duration.ofMillis(100), Duration.ofSeconds(40)))
                .isTrue();
        ScriptedStore store = new ScriptedStore(shared);
        store.deliverWatchEvents(false); // the leader's renews never reach this watch
        LeaseElector follower = elector("b", store, true);
        follower.start();

        assertReadsAsItsWatchStarts(store, 2);
        leader.stop(SECOND);
        follower.stop(SECOND);
    }

    /** Moves time in small steps until the {@code nth} watch starts; the follower reads in that very step. */
    private void assertReadsAsItsWatchStarts(ScriptedStore store, int nth) {
        long end = time.nanoTime() + Duration.ofSeconds(30).toNanos();
        long readsBefore = count("b GET");
        while (store.calls("watch") < nth && time.nanoTime() < end) {
            readsBefore = count("b GET");
            time.advance(Duration.ofMillis(10));
        }
        assertThat(store.calls("watch")).isEqualTo(nth);
        time.runDue();
        assertThat(count("b GET")).as("a read as the watch starts").isGreaterThan(readsBefore);
    }

    @Test
    void aHoldingRenewWhoseAnswerWasLostIsRecognisedAsOwnWriteAndTheHoldGoesOn() {
        deletedLease();
        ScriptedStore store = new ScriptedStore(shared);
        LeaseElector candidate = elector("a", store, false);
        candidate.start();
        time.runDue();
        store.loseResponseOfNextWrites(1); // the first holding renew lands, its answer is lost
        time.advance(Duration.ofMillis(2500));
        calls.clear();

        assertThat(time.advanceUntil(candidate::isLeader, Duration.ofMillis(100), Duration.ofSeconds(40)))
                .isTrue();
        assertThat(calls)
                .as("the term starts from the hold, not by taking an expired lease")
                .doesNotContain("a ACQUIRE");
        candidate.stop(SECOND);
    }

    @Test
    void workHoppedOntoTheElectionThreadThatThrowsIsLogged() {
        LeaseElector leader = elector("a", new ScriptedStore(shared), false);
        leader.start();
        assertThat(time.advanceUntil(leader::isLeader, Duration.ofMillis(100), Duration.ofSeconds(40)))
                .isTrue();
        try (LogCapture log = new LogCapture()) {
            clockFails.set(true);
            leader.yieldLeadership();
            time.runDue();

            assertThat(log.atLeast(ch.qos.logback.classic.Level.ERROR))
                    .anyMatch(line -> line.contains("unexpected failure in the election loop"));
        }
        leader.stop(SECOND);
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
