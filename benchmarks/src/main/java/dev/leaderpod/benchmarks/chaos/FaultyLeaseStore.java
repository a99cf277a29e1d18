package dev.leaderpod.benchmarks.chaos;

import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.VersionedLease;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A {@link LeaseStore} that applies a slot's {@link Faults} around the real store. One per candidate generation:
 * {@link #kill()} makes every later call fail, so a crashed candidate can neither renew nor release, whatever its
 * threads still do, while its slot's {@link Faults} go on serving the next generation.
 */
final class FaultyLeaseStore implements LeaseStore {

    private final LeaseStore delegate;
    private final Faults faults;
    private volatile boolean dead;

    FaultyLeaseStore(LeaseStore delegate, Faults faults) {
        this.delegate = delegate;
        this.faults = faults;
    }

    /** The process is gone: no call of this store reaches the real one any more. */
    void kill() {
        dead = true;
    }

    @Override
    public Optional<VersionedLease> get(String name) {
        return call(() -> delegate.get(name), false);
    }

    @Override
    public VersionedLease create(String name, LeaseRecord record) {
        return call(() -> delegate.create(name, record), true);
    }

    @Override
    public VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
        return call(() -> delegate.update(name, record, expectedVersion), true);
    }

    @Override
    public Optional<LeaseWatch> watch(String name, LeaseWatcher watcher) {
        return delegate.watch(name, watcher);
    }

    @Override
    public String describe(String name) {
        return delegate.describe(name);
    }

    private <T> T call(Supplier<T> call, boolean write) {
        faults.maybePause(false);
        faults.maybeThrow(false);
        if (dead) {
            throw new LeaseStoreException(LeaseStoreException.Kind.UNAVAILABLE, "crashed");
        }
        if (faults.outage()) {
            throw new LeaseStoreException(LeaseStoreException.Kind.UNAVAILABLE, "injected outage");
        }
        if (faults.serverError()) {
            throw new LeaseStoreException(LeaseStoreException.Kind.SERVER_ERROR, "injected HTTP 500");
        }
        if (write && faults.conflict()) {
            throw new LeaseConflictException("injected HTTP 409");
        }
        T result = call.get();
        faults.maybePause(true);
        faults.maybeThrow(true);
        return result;
    }
}
