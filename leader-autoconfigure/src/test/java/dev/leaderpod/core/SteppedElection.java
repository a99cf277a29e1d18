package dev.leaderpod.core;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

/**
 * Test kit for code outside this package (metrics, health, endpoint): candidates of one election on a stepped
 * clock, sharing an in-memory store, each with a {@link ScriptedStore} to fail its calls. Everything runs in the
 * test thread; time moves only through {@link #advance}.
 */
public final class SteppedElection {

    public static final String LEASE = "orders";
    public static final Duration LEASE_DURATION = Duration.ofSeconds(15);
    public static final Duration RENEW_DEADLINE = Duration.ofSeconds(10);
    public static final Duration RETRY_PERIOD = Duration.ofSeconds(2);

    private final ManualTime time = new ManualTime();
    private final InMemoryLeaseStore shared = new InMemoryLeaseStore();

    /** A candidate named {@code id}, not yet started; {@code watch} is whether it watches the lease. */
    public Candidate candidate(String id, boolean watch) {
        return new Candidate(id, watch);
    }

    /** The store all candidates share, as the API server would be. */
    public InMemoryLeaseStore store() {
        return shared;
    }

    /** Moves time forward, running every candidate's work as it falls due. */
    public void advance(Duration duration) {
        time.advance(duration);
    }

    /** Runs what is due now, without moving time. */
    public void runDue() {
        time.runDue();
    }

    /** Moves time forward in 100 ms steps until {@code condition} holds; false if it did not within {@code max}. */
    public boolean advanceUntil(BooleanSupplier condition, Duration max) {
        return time.advanceUntil(condition, Duration.ofMillis(100), max);
    }

    /** The wall-clock time of the candidates now. */
    public Instant wallTime() {
        return time.clock().wallTime();
    }

    /** One candidate: its elector, and listeners and monitors that may be added before it starts. */
    public final class Candidate implements LeadershipListener, ElectionMonitor {
        private final String id;
        private final ScriptedStore store = new ScriptedStore(shared);
        private final LeaseElector elector;
        private final List<LeadershipListener> listeners = new CopyOnWriteArrayList<>();
        private final List<ElectionMonitor> monitors = new CopyOnWriteArrayList<>();

        private Candidate(String id, boolean watch) {
            this.id = id;
            store.watchable(watch);
            this.elector = LeaseElector.builder(
                            new ElectionSettings(LEASE, id, LEASE_DURATION, RENEW_DEADLINE, RETRY_PERIOD, null), store)
                    .listener(this)
                    .monitor(this)
                    .clock(time.clock())
                    .executors(
                            time.executor("election-" + id), time.executor("events-" + id), time.executor("io-" + id))
                    .random(new SplittableRandom(id.hashCode()))
                    .build();
        }

        public LeaseElector elector() {
            return elector;
        }

        /** Adds a listener (call before {@link #start()}: it misses earlier callbacks). */
        public Candidate listener(LeadershipListener listener) {
            listeners.add(listener);
            return this;
        }

        /** Adds a monitor of store calls. */
        public Candidate monitor(ElectionMonitor monitor) {
            monitors.add(monitor);
            return this;
        }

        /** Joins the election and runs what is due now. */
        public Candidate start() {
            elector.start();
            time.runDue();
            return this;
        }

        /** Leaves the election, releasing the lease. */
        public void stop() {
            elector.stop(Duration.ofSeconds(5));
            time.runDue();
        }

        /** The next {@code count} store calls of this candidate fail with {@code kind}. */
        public Candidate failNext(int count, LeaseStoreException.Kind kind) {
            store.failNext(count, kind);
            return this;
        }

        /** Every store call of this candidate fails with {@code kind} until {@link #heal()}. */
        public Candidate failAll(LeaseStoreException.Kind kind) {
            store.failAll(kind);
            return this;
        }

        /** Every watch this candidate starts ends at once with {@code kind} (a Role without "watch"). */
        public Candidate failWatchesWith(LeaseStoreException.Kind kind) {
            store.failWatchesWith(kind);
            return this;
        }

        public void heal() {
            store.heal();
        }

        /**
         * This candidate's next write hangs while {@code duration} passes for everybody else (its election thread
         * is stuck in the call), then fails with a timeout.
         */
        public void hangNextWriteFor(Duration duration, Runnable whileHung) {
            store.beforeWrite(() -> {
                store.beforeWrite(() -> {});
                time.advanceExcept(duration, "io-" + id);
                whileHung.run();
                throw new LeaseStoreException(LeaseStoreException.Kind.TIMEOUT, "scripted hung call");
            });
        }

        @Override
        public void onStartedLeading(LeadershipTerm term) {
            listeners.forEach(listener -> listener.onStartedLeading(term));
        }

        @Override
        public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
            listeners.forEach(listener -> listener.onStoppedLeading(term, reason));
        }

        @Override
        public void onNewLeader(String holderIdentity, long leaseTransitions) {
            listeners.forEach(listener -> listener.onNewLeader(holderIdentity, leaseTransitions));
        }

        @Override
        public void storeCall(StoreOperation operation, Duration latency, LeaseStoreException.Kind failure) {
            monitors.forEach(monitor -> monitor.storeCall(operation, latency, failure));
        }
    }
}
