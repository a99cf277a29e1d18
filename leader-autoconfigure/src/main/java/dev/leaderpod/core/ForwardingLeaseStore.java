package dev.leaderpod.core;

import java.util.Objects;
import java.util.Optional;

/**
 * A {@link LeaseStore} that passes every call on to another: the base of a store that adds something around the
 * calls (a check, a delay, a second record to claim) and overrides only the calls it changes. Every call except
 * {@link #describe} first runs {@link #beforeCall}, which does nothing unless overridden.
 */
public abstract class ForwardingLeaseStore implements LeaseStore {

    private final LeaseStore delegate;

    protected ForwardingLeaseStore(LeaseStore delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** The store the calls go to. */
    protected final LeaseStore delegate() {
        return delegate;
    }

    /** Runs before each call on the lease {@code name} is passed on; may throw to fail the call instead. */
    protected void beforeCall(String name) {}

    @Override
    public Optional<VersionedLease> get(String name) {
        beforeCall(name);
        return delegate.get(name);
    }

    @Override
    public VersionedLease create(String name, LeaseRecord record) {
        beforeCall(name);
        return delegate.create(name, record);
    }

    @Override
    public VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
        beforeCall(name);
        return delegate.update(name, record, expectedVersion);
    }

    @Override
    public Optional<LeaseWatch> watch(String name, LeaseWatcher watcher) {
        beforeCall(name);
        return delegate.watch(name, watcher);
    }

    @Override
    public boolean provablyNeverExisted(String name) {
        beforeCall(name);
        return delegate.provablyNeverExisted(name);
    }

    @Override
    public VersionedLease createIfNeverExisted(String name, LeaseRecord record) {
        beforeCall(name);
        return delegate.createIfNeverExisted(name, record);
    }

    @Override
    public String describe(String name) {
        return delegate.describe(name);
    }
}
