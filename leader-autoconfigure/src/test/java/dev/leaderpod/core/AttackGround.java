package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.core.LeaseStoreException.Kind;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;

/**
 * The ground of the outsiders' attacks on {@link LeaseElector} ({@code LeaseElectorAttackTest},
 * {@code SuccessorAttackTest}): candidates of one election on one in-memory store, everything in the test thread on a
 * stepped clock ({@link ManualTime}), and two leaders looked for after every step, also inside store hooks that move
 * time (where an assertion would only look like a store failure to the elector, so overlaps are recorded and asserted
 * after each test).
 */
abstract class AttackGround {

    static final String LEASE = "orders";
    static final Duration LEASE_DURATION = Duration.ofSeconds(15);
    static final Duration RENEW_DEADLINE = Duration.ofSeconds(10);
    static final Duration RETRY = Duration.ofSeconds(2);
    /** Longest follower poll interval: retry period plus 20 % jitter. */
    static final Duration MAX_POLL = Duration.ofMillis(2400);

    static final Duration STEP = Duration.ofMillis(100);

    final ManualTime time = new ManualTime();
    final InMemoryLeaseStore shared = new InMemoryLeaseStore();
    final List<Candidate> candidates = new ArrayList<>();
    /** Instants at which two candidates led at once. */
    final List<String> overlaps = new ArrayList<>();

    final List<Long> overlapTimes = new ArrayList<>();

    @AfterEach
    void neverTwoLeaders() {
        sample();
        assertThat(overlaps).as("instants with two leaders").isEmpty();
    }

    void sample() {
        List<String> leaders =
                candidates.stream().filter(Candidate::isLeader).map(c -> c.key).toList();
        if (leaders.size() > 1) {
            overlapTimes.add(time.nanoTime());
            if (overlaps.size() < 20) {
                overlaps.add(leaders + " at " + Duration.ofNanos(time.nanoTime()));
            }
        }
    }

    void advanceSampling(Duration duration) {
        for (long left = duration.toNanos(); left > 0; left -= STEP.toNanos()) {
            time.advance(STEP);
            sample();
        }
    }

    boolean advanceSamplingUntil(BooleanSupplier condition, Duration max) {
        long end = time.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (time.nanoTime() >= end) {
                return false;
            }
            time.advance(STEP);
            sample();
        }
        return true;
    }

    long lastSuccessfulRenewOf(Candidate candidate) {
        return time.nanoTime()
                - candidate.elector.snapshot().sinceLastRenew().orElseThrow().toNanos();
    }

    Instant wall() {
        return time.clock().wallTime();
    }

    final class Candidate implements LeadershipListener {
        final String id;
        /** Unique among candidates (two candidates may share an identity): names its executors. */
        final String key;

        final ScriptedStore store = new ScriptedStore(shared);
        final SwitchableExecutor io;
        final List<String> events = new ArrayList<>();
        final List<Long> tokens = new ArrayList<>();
        final List<Long> grantedAt = new ArrayList<>();
        final List<Long> revokedAt = new ArrayList<>();
        LeaseElector elector;
        private Duration wallOffset = Duration.ZERO;
        private double rate = 1.0;
        private boolean watch = true;
        private Duration renewDeadline = RENEW_DEADLINE;
        private boolean hostile;
        private Candidacy candidacy = Candidacy.EAGER;

        Candidate(String id) {
            this(id, id);
        }

        Candidate(String id, String key) {
            this.id = id;
            this.key = key;
            this.io = new SwitchableExecutor(time.executor("io-" + key));
            candidates.add(this);
        }

        Candidate watch(boolean watch) {
            this.watch = watch;
            return this;
        }

        Candidate rate(double rate) {
            this.rate = rate;
            return this;
        }

        Candidate wallOffset(Duration wallOffset) {
            this.wallOffset = wallOffset;
            return this;
        }

        Candidate renewDeadline(Duration renewDeadline) {
            this.renewDeadline = renewDeadline;
            return this;
        }

        Candidate candidacy(Candidacy candidacy) {
            this.candidacy = candidacy;
            return this;
        }

        /** Its monitor and listener throw Errors on every call. */
        Candidate hostile() {
            this.hostile = true;
            return this;
        }

        LeaseElector elector() {
            if (elector == null) {
                store.watchable(watch);
                ElectionMonitor monitor = hostile
                        ? new ElectionMonitor() {
                            @Override
                            public void storeCall(StoreOperation operation, Duration latency, Kind failure) {
                                throw new OutOfMemoryError("a monitor bug");
                            }
                        }
                        : ElectionMonitor.NONE;
                elector = LeaseElector.builder(
                                new ElectionSettings(LEASE, id, LEASE_DURATION, renewDeadline, RETRY, null), store)
                        .listener(this)
                        .monitor(monitor)
                        .clock(rate == 1.0 ? time.clock(wallOffset) : time.clock(wallOffset, rate))
                        .executors(time.executor("election-" + key, rate), time.executor("events-" + key, rate), io)
                        .candidacy(candidacy)
                        .random(new SplittableRandom(key.hashCode()))
                        .build();
            }
            return elector;
        }

        Candidate start() {
            elector().start();
            time.runDue();
            return this;
        }

        boolean isLeader() {
            return elector != null && elector.isLeader();
        }

        @Override
        public void onStartedLeading(LeadershipTerm term) {
            events.add("granted:" + term.fencingToken());
            tokens.add(term.fencingToken());
            grantedAt.add(time.nanoTime());
            if (hostile) {
                throw new StackOverflowError("a listener bug");
            }
        }

        @Override
        public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
            events.add("revoked:" + reason);
            revokedAt.add(time.nanoTime());
            if (hostile) {
                throw new AssertionError("a listener bug");
            }
        }

        @Override
        public void onNewLeader(String holderIdentity, long leaseTransitions) {
            if (hostile) {
                throw new LinkageError("a listener bug");
            }
        }
    }
}
