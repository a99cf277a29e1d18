package dev.leaderpod.test;

import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.VersionedLease;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The in-memory store of the test's elections. A lease is there before any elector looks at it, held by
 * {@link TestLeadership#OTHER_CANDIDATE} (token 0), so that nobody leads until the test grants: on a store where the
 * lease never existed, the first elector would create it and lead at once. A lease the test deletes stays deleted.
 */
final class TestLeaseStore extends InMemoryLeaseStore {

    private final Set<String> seen = new HashSet<>(); // guarded by this, as the store's own state
    private final Duration leaseDuration;
    private final Instant wallTime;

    /**
     * @param leaseDuration the duration the other candidate writes into the leases it holds
     * @param wallTime the time it writes
     */
    TestLeaseStore(Duration leaseDuration, Instant wallTime) {
        this.leaseDuration = leaseDuration;
        this.wallTime = wallTime;
    }

    @Override
    public synchronized Optional<VersionedLease> get(String name) {
        seed(name);
        return super.get(name);
    }

    @Override
    public Optional<LeaseWatch> watch(String name, LeaseWatcher watcher) {
        seed(name);
        return super.watch(name, watcher);
    }

    @Override
    public String describe(String name) {
        return "test lease " + name;
    }

    private synchronized void seed(String name) {
        if (seen.add(name) && provablyNeverExisted(name)) {
            create(name, new LeaseRecord(TestLeadership.OTHER_CANDIDATE, leaseDuration, wallTime, wallTime, 0L));
        }
    }
}
