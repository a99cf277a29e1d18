package dev.leaderpod.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One candidate's view of a shared {@link InMemoryLeaseStore}: counts this candidate's calls, and fails or delays
 * them on demand, as a flaky network between it and the API server would.
 */
final class ScriptedStore implements LeaseStore {

    private final InMemoryLeaseStore shared;
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    private final List<LeaseStoreException> failures = new ArrayList<>();
    private volatile Runnable beforeWrite = () -> {};
    private volatile Runnable beforeGet = () -> {};
    private volatile Runnable afterWrite = () -> {};
    private volatile Runnable afterGet = () -> {};
    private volatile Runnable afterProbe = () -> {};
    private volatile Runnable beforeWatchClose = () -> {};
    private volatile LeaseStoreException.Kind watchFailure;
    private volatile boolean watchable = true;
    private volatile boolean deliverWatchEvents = true;
    private volatile java.util.concurrent.Executor watchEvents = Runnable::run;
    private LeaseStoreException.Kind failingWith;
    private final AtomicInteger lostResponses = new AtomicInteger();
    private final List<AssertionError> failedAssertions = new ArrayList<>();

    ScriptedStore(InMemoryLeaseStore shared) {
        this.shared = shared;
    }

    /** The next {@code count} calls fail with {@code kind}. */
    synchronized ScriptedStore failNext(int count, LeaseStoreException.Kind kind) {
        for (int i = 0; i < count; i++) {
            failures.add(new LeaseStoreException(kind, "scripted " + kind));
        }
        return this;
    }

    /** Every call fails with {@code kind} until {@link #heal()}. */
    synchronized ScriptedStore failAll(LeaseStoreException.Kind kind) {
        failingWith = kind;
        return this;
    }

    synchronized void heal() {
        failures.clear();
        failingWith = null;
    }

    /** Runs {@code action} inside every create/update, before it reaches the store: a slow or hung call. */
    void beforeWrite(Runnable action) {
        this.beforeWrite = action;
    }

    /** Runs {@code action} inside every get, before it reaches the store: a slow or hung read. */
    void beforeGet(Runnable action) {
        this.beforeGet = action;
    }

    /** Runs {@code action} inside every create/update after it reached the store: a write whose answer is slow. */
    void afterWrite(Runnable action) {
        this.afterWrite = action;
    }

    /** Runs {@code action} inside every get after the store answered it: a read whose answer is slow (stale). */
    void afterGet(Runnable action) {
        this.afterGet = action;
    }

    /**
     * Runs {@code action} inside every {@link #provablyNeverExisted} after the store answered it: the answer of a
     * read of an absent lease that arrives late.
     */
    void afterProbe(Runnable action) {
        this.afterProbe = action;
    }

    /** Runs {@code action} when a watch of this candidate is closed, before it closes: a close that blocks. */
    void beforeWatchClose(Runnable action) {
        this.beforeWatchClose = action;
    }

    /** Every watch started from now on ends at once with {@code kind} (null: watches work again). */
    void failWatchesWith(LeaseStoreException.Kind kind) {
        this.watchFailure = kind;
    }

    /** The next {@code count} writes reach the store, but the caller gets a timeout: a lost response. */
    void loseResponseOfNextWrites(int count) {
        lostResponses.set(count);
    }

    void watchable(boolean watchable) {
        this.watchable = watchable;
    }

    /** Whether changes reach this candidate's watch (false: a watch that silently misses events). */
    void deliverWatchEvents(boolean deliver) {
        this.deliverWatchEvents = deliver;
    }

    /**
     * Changes reach this candidate's watch through {@code executor} (by default at once): an executor of
     * {@link ManualTime} that is frozen holds them back, as a watch that lags behind under load.
     */
    void watchEventsVia(java.util.concurrent.Executor executor) {
        this.watchEvents = executor;
    }

    /**
     * Assertions that failed inside a {@link #beforeWrite} action. Such an action runs inside a store call, whose
     * failure the elector treats as a store failure: a test must check this list to see them.
     */
    synchronized List<AssertionError> failedAssertions() {
        return new ArrayList<>(failedAssertions);
    }

    private void runBeforeWrite() {
        try {
            beforeWrite.run();
        } catch (AssertionError e) {
            synchronized (this) {
                failedAssertions.add(e);
            }
            throw e;
        }
    }

    int calls(String operation) {
        return calls.getOrDefault(operation, new AtomicInteger()).get();
    }

    int totalCalls() {
        return calls.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    void resetCounts() {
        calls.clear();
    }

    private void enter(String operation) {
        calls.computeIfAbsent(operation, key -> new AtomicInteger()).incrementAndGet();
        synchronized (this) {
            if (failingWith != null) {
                throw new LeaseStoreException(failingWith, "scripted " + failingWith);
            }
            if (!failures.isEmpty()) {
                throw failures.remove(0);
            }
        }
    }

    @Override
    public Optional<VersionedLease> get(String name) {
        enter("get");
        beforeGet.run();
        Optional<VersionedLease> lease = shared.get(name);
        afterGet.run();
        return lease;
    }

    @Override
    public VersionedLease create(String name, LeaseRecord record) {
        enter("create");
        runBeforeWrite();
        VersionedLease created = shared.create(name, record);
        afterWrite.run();
        return answer(created);
    }

    @Override
    public VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
        enter("update");
        runBeforeWrite();
        VersionedLease updated = shared.update(name, record, expectedVersion);
        afterWrite.run();
        return answer(updated);
    }

    private VersionedLease answer(VersionedLease written) {
        if (lostResponses.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new LeaseStoreException(LeaseStoreException.Kind.TIMEOUT, "scripted lost response");
        }
        return written;
    }

    @Override
    public VersionedLease createIfNeverExisted(String name, LeaseRecord record) {
        enter("create");
        runBeforeWrite();
        return answer(shared.createIfNeverExisted(name, record));
    }

    @Override
    public boolean provablyNeverExisted(String name) {
        boolean neverExisted = shared.provablyNeverExisted(name);
        afterProbe.run();
        return neverExisted;
    }

    @Override
    public Optional<LeaseWatch> watch(String name, LeaseWatcher watcher) {
        if (!watchable) {
            return Optional.empty();
        }
        calls.computeIfAbsent("watch", key -> new AtomicInteger()).incrementAndGet();
        LeaseStoreException.Kind failure = watchFailure;
        if (failure != null) {
            watcher.onClose(new LeaseStoreException(failure, "scripted watch failure: " + failure));
            return Optional.of(() -> {});
        }
        return shared.watch(name, new LeaseWatcher() {
                    @Override
                    public void onChange(Optional<VersionedLease> lease) {
                        if (deliverWatchEvents) {
                            watchEvents.execute(() -> watcher.onChange(lease));
                        }
                    }

                    @Override
                    public void onClose(Exception cause) {
                        watcher.onClose(cause);
                    }
                })
                .map(watch -> () -> {
                    beforeWatchClose.run();
                    watch.close();
                });
    }
}
