package dev.leaderpod.benchmarks.chaos;

import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.Presence;
import dev.leaderpod.core.PresenceStore;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A {@link PresenceStore} that applies a slot's store outage and 5xx faults ({@link Faults}) around the real one, and
 * that {@link #kill()} cuts off for good: a crashed candidate's announcement then stays until someone removes it, as
 * a dead process's would. Pauses and {@link Error}s stay with the lease store ({@link FaultyLeaseStore}), which they
 * are armed for.
 */
final class FaultyPresenceStore implements PresenceStore {

    private final PresenceStore delegate;
    private final Faults faults;
    private volatile boolean dead;

    FaultyPresenceStore(PresenceStore delegate, Faults faults) {
        this.delegate = delegate;
        this.faults = faults;
    }

    /** The process is gone: no call reaches the real store any more. */
    void kill() {
        dead = true;
    }

    @Override
    public Presence announce(Presence presence) {
        return call(() -> delegate.announce(presence));
    }

    @Override
    public List<Presence> list() {
        return call(delegate::list);
    }

    @Override
    public void remove(String identity, String version) {
        call(() -> {
            delegate.remove(identity, version);
            return null;
        });
    }

    @Override
    public Optional<LeaseWatch> watch(PresenceWatcher watcher) {
        if (dead) {
            throw new LeaseStoreException(LeaseStoreException.Kind.UNAVAILABLE, "crashed");
        }
        return delegate.watch(watcher);
    }

    @Override
    public String describe() {
        return delegate.describe();
    }

    private <T> T call(Supplier<T> call) {
        if (dead) {
            throw new LeaseStoreException(LeaseStoreException.Kind.UNAVAILABLE, "crashed");
        }
        if (faults.outage()) {
            throw new LeaseStoreException(LeaseStoreException.Kind.UNAVAILABLE, "injected outage");
        }
        if (faults.serverError()) {
            throw new LeaseStoreException(LeaseStoreException.Kind.SERVER_ERROR, "injected HTTP 500");
        }
        return call.get();
    }
}
