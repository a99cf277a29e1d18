package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * docs/design.md, "Leadership follows readiness": a candidate whose {@link Candidacy#standing()} is false follows the
 * election — reads, watches, keeps its view current — but takes nothing, and a leader that stops standing hands over
 * as a yield does, without the yield's hold-off; and a stop that comes while a yield drains releases only after the
 * drain, once. Every candidate runs in the test thread on a stepped clock ({@link ManualTime}), except the last test
 * (a stop called by a listener, on real threads).
 */
class LeaseElectorStandingTest {

    private static final String LEASE = "orders";
    private static final Duration LEASE_DURATION = Duration.ofSeconds(15);
    private static final Duration RENEW_DEADLINE = Duration.ofSeconds(10);
    private static final Duration RETRY = Duration.ofSeconds(2);
    /** Longest follower poll interval: retry period plus 20 % jitter. */
    private static final Duration MAX_POLL = Duration.ofMillis(2400);

    private static final Duration STEP = Duration.ofMillis(100);

    private final ManualTime time = new ManualTime();
    private final InMemoryLeaseStore shared = new InMemoryLeaseStore();
    private final List<Candidate> candidates = new ArrayList<>();
    /** Leaders seen at every step the test sampled: never two. */
    private final List<String> overlaps = new ArrayList<>();

    @AfterEach
    void neverTwoLeaders() {
        sample();
        assertThat(overlaps).as("two leaders at once").isEmpty();
        for (Candidate candidate : candidates) {
            assertThat(candidate.store.failedAssertions()).isEmpty();
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // A candidate that does not stand takes nothing

    /**
     * Whatever the lease — absent, released, expired, or released naming it as the successor — a candidate that does
     * not stand never writes it; the lease goes to a candidate that stands (or stays free), and the one that does not
     * stand sees who took it.
     */
    @ParameterizedTest(name = "lease {0}")
    @ValueSource(strings = {"absent", "released", "expired", "handed to it"})
    void aCandidateThatDoesNotStandNeverTakesTheLeaseWhateverItIs(String lease) {
        Candidate a = candidate("a", true);
        a.standing = false;
        Candidate b = null;
        switch (lease) {
            case "absent" -> a.start();
            case "released" -> {
                b = candidate("b", true).start();
                a.start();
                b.elector.stop(Duration.ofSeconds(5));
            }
            case "expired" -> {
                b = candidate("b", true).start();
                a.start();
                b.store.failAll(LeaseStoreException.Kind.UNAVAILABLE); // cut off: its term ends, the lease expires
            }
            case "handed to it" -> {
                b = candidate("b", true).start();
                a.start();
                b.elector.yieldLeadership("a");
            }
            default -> throw new IllegalArgumentException(lease);
        }
        a.clearOps();

        advance(LEASE_DURATION.multipliedBy(3));

        assertThat(a.events).isEmpty();
        assertThat(a.ops).doesNotContain("create", "acquire", "renew", "release");
        if (b != null) {
            assertThat(a.elector.snapshot().observed())
                    .as("a's view is current")
                    .isEqualTo(shared.get(LEASE));
        } else {
            assertThat(shared.get(LEASE)).isEmpty();
        }

        if (lease.equals("handed to it")) {
            // After a's turn, the lease is anyone's: b, whose hold-off after its yield has ended, took it back.
            assertThat(b.elector.isLeader()).isTrue();
            assertThat(a.elector.observedLeader()).contains("b");
            return;
        }
        Candidate c = candidate("c", true).start();
        assertThat(time.advanceUntil(c.elector::isLeader, STEP, LEASE_DURATION.plus(MAX_POLL)))
                .as("a candidate that stands takes it")
                .isTrue();
        advance(MAX_POLL.multipliedBy(2));
        assertThat(a.elector.observedLeader()).as("and a sees it").contains("c");
        assertThat(a.events).isEmpty();
    }

    /**
     * While it does not stand, a candidate follows as any other: it sees each new leader and the renews, polling or
     * watching, and only polls where another would take the lease.
     */
    @ParameterizedTest(name = "watch {0}")
    @ValueSource(booleans = {true, false})
    void aCandidateThatDoesNotStandKeepsItsViewCurrentAndOnlyReads(boolean watch) {
        Candidate a = candidate("a", watch);
        a.standing = false;
        Candidate b = candidate("b", true).start();
        a.start();
        a.clearOps();

        advance(Duration.ofSeconds(7));
        assertThat(a.elector.observedLeader()).contains("b");
        assertThat(a.elector.snapshot().sinceObservedChange().orElseThrow())
                .as("it sees b's renews")
                .isLessThanOrEqualTo(MAX_POLL);

        b.elector.stop(Duration.ofSeconds(5)); // free for anyone: a would take it now if it stood
        Candidate c = candidate("c", true).start();
        advance(MAX_POLL);
        assertThat(a.elector.observedLeader()).contains("c");

        c.elector.stop(Duration.ofSeconds(5));
        a.clearOps();
        advance(Duration.ofSeconds(10));
        assertThat(a.ops).as("polls, one read at a time, never a write").containsOnly("get");
        assertThat(a.ops.size()).as("at most one read a retry period").isBetween(1, 5);
        assertThat(a.elector.snapshot().observed()).isEqualTo(shared.get(LEASE));
    }

    /**
     * A lease it created and holds (a deleted lease: its term would start after a lease duration) is neither led nor
     * released once it stops standing: a release would be taken at once, while the holder of the deleted lease may
     * still lead. It stops renewing it, and the others wait it out.
     */
    @Test
    void aCandidateHoldingALeaseItCreatedStopsHoldingItAndNeverReleasesItWhenItStopsStanding() {
        shared.create(LEASE, new LeaseRecord("gone", LEASE_DURATION, null, null, 3L));
        shared.delete(LEASE); // it existed: a creator must hold it a lease duration before leading
        Candidate a = candidate("a", true).start();
        Candidate b = candidate("b", true).start();
        assertThat(shared.get(LEASE).orElseThrow().record().holderIdentity()).isEqualTo("a");
        advance(Duration.ofSeconds(5));
        assertThat(a.ops).contains("renew"); // holding: renews without leading

        a.standing = false;
        a.elector.standingChanged();
        a.clearOps();
        long lastHeld = time.nanoTime();
        advance(LEASE_DURATION.multipliedBy(2));

        assertThat(a.events).as("its term never started").isEmpty();
        assertThat(a.ops).doesNotContain("create", "acquire", "renew", "release");
        assertThat(b.events).containsExactly("granted:1");
        assertThat(b.grantedAt.get(0) - lastHeld)
                .as("b waited the held lease out")
                .isGreaterThanOrEqualTo(LEASE_DURATION.minus(RETRY).toNanos());
    }

    /**
     * A candidacy that stops standing while the write that would start its term is in flight: told, the elector finds
     * no term to hand over, so the answer itself must check (the ConfigMap migration's claim flips standing inside
     * that very write). The write landed; no term starts; standing again, it takes the lease back with a new term.
     */
    @Test
    void aCandidateThatStopsStandingWhileTheWriteThatWouldStartItsTermIsInFlightStartsNoTerm() {
        shared.create(LEASE, new LeaseRecord("", Duration.ofSeconds(1), null, null, 3L)); // a release: free at once
        Candidate a = candidate("a", true);
        a.store.afterWrite(() -> {
            a.standing = false;
            a.elector.standingChanged();
        });

        a.start();
        advance(Duration.ofSeconds(5));

        assertThat(a.events).as("no term started").isEmpty();
        assertThat(shared.get(LEASE).orElseThrow().record().holderIdentity()).isEqualTo("a");

        a.store.afterWrite(() -> {});
        a.standing = true;
        a.elector.standingChanged();
        advance(STEP);
        assertThat(a.events).containsExactly("granted:5");
    }

    /** The same for the last write of the hold of a lease this candidate created: it starts no term. */
    @Test
    void aCandidateThatStopsStandingDuringTheLastWriteOfItsHoldStartsNoTerm() {
        shared.create(LEASE, new LeaseRecord("gone", LEASE_DURATION, null, null, 3L));
        shared.delete(LEASE); // it existed: a creator must hold it a lease duration before leading
        Candidate a = candidate("a", true).start();
        advance(LEASE_DURATION.minus(Duration.ofMillis(500)));
        assertThat(a.events).isEmpty();
        a.store.afterWrite(() -> {
            a.standing = false;
            a.elector.standingChanged();
        });

        advance(Duration.ofSeconds(5));

        assertThat(a.events).as("the hold's last write started no term").isEmpty();
    }

    /**
     * A candidacy may change before its elector starts (the ConfigMap migration reads its record when the context
     * builds the elector): telling the elector then is a no-op, not a failure, and the start looks at everything.
     */
    @Test
    void standingChangedBeforeTheElectorStartsIsIgnoredAndTheStartActsOnIt() {
        Candidate a = candidate("a", true);
        a.standing = false;

        a.elector.standingChanged(); // threw a NullPointerException (no runtime yet)
        a.start();
        advance(Duration.ofSeconds(5));
        assertThat(a.events).isEmpty();

        a.standing = true;
        a.elector.standingChanged();
        advance(STEP);
        assertThat(a.events).containsExactly("granted:0");
    }

    // ---------------------------------------------------------------------------------------------------------
    // A leader that stops standing hands over

    /**
     * The leader hands over the moment it is told: revoked (drained) while it still holds the lease, then released;
     * a watching follower takes it in the same instant. It does not take the lease back while it does not stand.
     */
    @Test
    void aLeaderThatStopsStandingHandsOverAtOnceAndStaysOut() {
        Candidate a = candidate("a", true).start();
        Candidate b = candidate("b", true).start();
        advance(Duration.ofSeconds(3));
        long at = time.nanoTime();

        a.standing = false;
        a.elector.standingChanged();
        time.runDue();

        assertThat(a.events).containsExactly("granted:0", "revoked:YIELDED");
        assertThat(a.holderSeenByListener).as("drained while still holder").containsExactly("a", "a");
        assertThat(b.events).containsExactly("granted:1");
        assertThat(b.grantedAt).containsExactly(at);

        b.elector.stop(Duration.ofSeconds(5)); // free again, long before a yield's hold-off would end
        advance(LEASE_DURATION.multipliedBy(2));
        assertThat(a.events).containsExactly("granted:0", "revoked:YIELDED");
        assertThat(a.elector.snapshot().observed()).isEqualTo(shared.get(LEASE));
    }

    /** Not told (standingChanged() not called), the leader finds out at its next renew: within a retry period. */
    @Test
    void aLeaderThatStopsStandingUntoldHandsOverAtItsNextRenew() {
        Candidate a = candidate("a", true).start();
        Candidate b = candidate("b", true).start();
        advance(Duration.ofMillis(2500));
        long nextRenew = time.nanoTime() + RETRY.minus(Duration.ofMillis(500)).toNanos();

        a.standing = false;
        advance(RETRY);

        assertThat(a.events).containsExactly("granted:0", "revoked:YIELDED");
        assertThat(b.grantedAt).containsExactly(nextRenew);
    }

    /**
     * Standing again, a candidate takes part at once — no hold-off as after a yield: a lone candidate that stopped
     * standing leads again the moment it stands, and takes a lease that became free meanwhile at once.
     */
    @Test
    void aCandidateStandingAgainTakesPartAtOnce() {
        Candidate a = candidate("a", true).start();
        a.standing = false;
        a.elector.standingChanged();
        advance(Duration.ofSeconds(3));
        assertThat(a.elector.isLeader()).isFalse();
        assertThat(shared.get(LEASE).orElseThrow().record().isHeld())
                .as("released")
                .isFalse();
        long standsAt = time.nanoTime();

        a.standing = true;
        a.elector.standingChanged();
        time.runDue();

        assertThat(a.events).containsExactly("granted:0", "revoked:YIELDED", "granted:1");
        assertThat(a.grantedAt.get(1)).isEqualTo(standsAt);
    }

    /**
     * With a candidacy that names successors (spreading), the hand-over names the candidacy's choice, and the others
     * let it go first.
     */
    @Test
    void aLeaderThatStopsStandingNamesTheCandidacysSuccessor() {
        Candidate a = candidate("a", true);
        a.successor = "c";
        a.start();
        Candidate b = candidate("b", true).start();
        Candidate c = candidate("c", true).start();

        a.standing = false;
        a.elector.standingChanged();
        time.runDue();

        assertThat(c.events).containsExactly("granted:1");
        assertThat(b.events).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------
    // A stop during a yield: one drain, then one release

    /**
     * A stop that comes while a yield's revocation still runs (a drain of leader-only work) waits for it before it
     * releases: nobody takes over before the drain ended, and the term is revoked once. (Before, the stop found no
     * term to revoke and released at once: the follower led while the yielder still drained.)
     */
    @ParameterizedTest(name = "yield by {0}")
    @ValueSource(strings = {"standing", "request"})
    void aStopDuringTheDrainOfAYieldReleasesOnceAfterTheDrain(String by) {
        Candidate a = candidate("a", true).start();
        Candidate b = candidate("b", true).start();
        advance(Duration.ofSeconds(3));
        time.freeze("events-a"); // a listener of a's is busy: the yield's revocation waits ...
        time.executor("elsewhere").schedule(() -> time.thaw("events-a"), 3, TimeUnit.SECONDS); // ... for 3 s
        if (by.equals("standing")) {
            a.standing = false;
            a.elector.standingChanged();
        } else {
            a.elector.yieldLeadership();
        }
        time.runDue();
        assertThat(a.elector.isLeader()).isFalse();
        long stoppedAt = time.nanoTime();

        a.elector.stop(Duration.ofSeconds(5));
        time.runDue();

        assertThat(a.events).containsExactly("granted:0", "revoked:YIELDED");
        assertThat(a.holderSeenByListener).as("drained while still holder").containsExactly("a", "a");
        assertThat(b.grantedAt)
                .containsExactly(stoppedAt + Duration.ofSeconds(3).toNanos());
        assertThat(a.releases.get()).isEqualTo(1);
    }

    /** A stop after the yield's release was answered writes nothing more: one release. */
    @Test
    void aStopAfterAYieldReleasedWritesNothingMore() {
        Candidate a = candidate("a", true).start();
        Candidate b = candidate("b", true).start();
        a.standing = false;
        a.elector.standingChanged();
        time.runDue();
        assertThat(b.elector.isLeader()).isTrue();

        a.elector.stop(Duration.ofSeconds(5));
        time.runDue();

        assertThat(a.events).containsExactly("granted:0", "revoked:YIELDED");
        assertThat(a.releases.get()).isEqualTo(1);
        assertThat(b.elector.isLeader()).isTrue();
    }

    /**
     * A stop called by a listener while a yield's revocation is queued behind that very listener cannot wait for it:
     * it does not release (the lease expires) rather than release before the drain. Real threads.
     */
    @Test
    void aStopCalledByAListenerWhileAYieldsRevocationIsQueuedBehindItDoesNotRelease() {
        List<String> events = new CopyOnWriteArrayList<>();
        AtomicReference<LeaseElector> self = new AtomicReference<>();
        LeaseElector elector = LeaseElector.builder(
                        new ElectionSettings("orders", "real", LEASE_DURATION, RENEW_DEADLINE, RETRY, null), shared)
                .listener(new LeadershipListener() {
                    @Override
                    public void onStartedLeading(LeadershipTerm term) {
                        self.get().yieldLeadership(); // its revocation is queued behind this callback
                        Awaitility.await()
                                .atMost(Duration.ofSeconds(10))
                                .until(() -> !self.get().isLeader());
                        long from = System.nanoTime();
                        self.get().stop(Duration.ofSeconds(3));
                        events.add("stop returned within 1 s: "
                                + (System.nanoTime() - from
                                        < Duration.ofSeconds(1).toNanos()) + ", lease held: "
                                + shared.get("orders").orElseThrow().record().isHeld());
                    }

                    @Override
                    public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
                        events.add("revoked:" + reason);
                    }
                })
                .build();
        self.set(elector);
        elector.start();

        Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> events.size() == 2);
        assertThat(events).containsExactly("stop returned within 1 s: true, lease held: true", "revoked:YIELDED");
    }

    // ---------------------------------------------------------------------------------------------------------

    private void advance(Duration duration) {
        for (long i = 0; i < duration.dividedBy(STEP); i++) {
            time.advance(STEP);
            sample();
        }
    }

    private void sample() {
        List<String> leaders = candidates.stream()
                .filter(c -> c.elector.isLeader())
                .map(c -> c.id)
                .toList();
        if (leaders.size() > 1) {
            overlaps.add(time.nanoTime() + ": " + leaders);
        }
    }

    private Candidate candidate(String id, boolean watch) {
        Candidate candidate = new Candidate(id, watch);
        candidates.add(candidate);
        return candidate;
    }

    private final class Candidate implements LeadershipListener {
        final String id;
        final ScriptedStore store = new ScriptedStore(shared);
        final LeaseElector elector;
        final List<String> events = new ArrayList<>();
        final List<Long> grantedAt = new ArrayList<>();
        final List<String> holderSeenByListener = new ArrayList<>();
        final List<String> ops = new ArrayList<>();
        /** Release requests sent (updates clearing the holder), landed or not. */
        final AtomicInteger releases = new AtomicInteger();

        volatile boolean standing = true;
        volatile String successor;

        Candidate(String id, boolean watch) {
            this.id = id;
            store.watchable(watch);
            LeaseStore counting = new LeaseStore() {
                @Override
                public Optional<VersionedLease> get(String name) {
                    return store.get(name);
                }

                @Override
                public VersionedLease create(String name, LeaseRecord record) {
                    return store.create(name, record);
                }

                @Override
                public VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
                    if (!record.isHeld()) {
                        releases.incrementAndGet();
                    }
                    return store.update(name, record, expectedVersion);
                }

                @Override
                public Optional<LeaseWatch> watch(String name, LeaseWatcher watcher) {
                    return store.watch(name, watcher);
                }

                @Override
                public boolean provablyNeverExisted(String name) {
                    return store.provablyNeverExisted(name);
                }

                @Override
                public VersionedLease createIfNeverExisted(String name, LeaseRecord record) {
                    return store.createIfNeverExisted(name, record);
                }

                @Override
                public String describe(String name) {
                    return store.describe(name);
                }
            };
            this.elector = LeaseElector.builder(
                            new ElectionSettings(LEASE, id, LEASE_DURATION, RENEW_DEADLINE, RETRY, null), counting)
                    .listener(this)
                    .monitor(new ElectionMonitor() {
                        @Override
                        public void storeCall(StoreOperation operation, Duration latency, LeaseStoreException.Kind f) {
                            ops.add(operation.key());
                        }
                    })
                    .clock(time.clock())
                    .executors(
                            time.executor("election-" + id), time.executor("events-" + id), time.executor("io-" + id))
                    .random(new SplittableRandom(id.hashCode()))
                    .candidacy(new Candidacy() {
                        @Override
                        public boolean standing() {
                            return standing;
                        }

                        @Override
                        public String successor(String leaseName) {
                            return successor;
                        }
                    })
                    .build();
        }

        Candidate start() {
            elector.start();
            time.runDue();
            return this;
        }

        void clearOps() {
            ops.clear();
        }

        @Override
        public void onStartedLeading(LeadershipTerm term) {
            record("granted:" + term.fencingToken());
            grantedAt.add(time.nanoTime());
        }

        @Override
        public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
            record("revoked:" + reason);
        }

        private void record(String event) {
            events.add(event);
            holderSeenByListener.add(shared.get(LEASE)
                    .map(VersionedLease::record)
                    .map(LeaseRecord::holderIdentity)
                    .orElse(null));
        }
    }
}
