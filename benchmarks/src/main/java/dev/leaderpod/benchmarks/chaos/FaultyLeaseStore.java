package dev.leaderpod.benchmarks.chaos;

import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.VersionedLease;
import java.util.Optional;
import java.util.function.Supplier;

/** A {@link LeaseStore} that applies a slot's {@link Faults} around the real store. */
final class FaultyLeaseStore implements LeaseStore {

    private final LeaseStore delegate;
    private final Faults faults;

    FaultyLeaseStore(LeaseStore delegate, Faults faults) {
        this.delegate = delegate;
        this.faults = faults;
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
        if (faults.serverError()) {
            throw new LeaseStoreException(LeaseStoreException.Kind.SERVER_ERROR, "injected HTTP 500");
        }
        if (write && faults.conflict()) {
            throw new LeaseConflictException("injected HTTP 409");
        }
        T result = call.get();
        faults.maybePause(true);
        return result;
    }
}
