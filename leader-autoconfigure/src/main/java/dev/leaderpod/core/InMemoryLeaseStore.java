package dev.leaderpod.core;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A store in this JVM's memory, with watch support. For tests of the elector and of user code: several electors
 * sharing one instance behave like candidates sharing one API server.
 */
public class InMemoryLeaseStore implements LeaseStore {

    private final Map<String, VersionedLease> leases = new HashMap<>();
    private final java.util.Set<String> everCreated = new java.util.HashSet<>();
    private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    private long nextVersion = 1;

    @Override
    public synchronized Optional<VersionedLease> get(String name) {
        return Optional.ofNullable(leases.get(name));
    }

    @Override
    public synchronized VersionedLease create(String name, LeaseRecord record) {
        if (leases.containsKey(name)) {
            throw new LeaseConflictException("lease " + name + " already exists");
        }
        VersionedLease created = store(name, record);
        notifyWatchers(name, Optional.of(created));
        return created;
    }

    @Override
    public synchronized VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
        VersionedLease current = leases.get(name);
        if (current == null) {
            throw new LeaseConflictException("lease " + name + " does not exist");
        }
        if (!current.version().equals(expectedVersion)) {
            throw new LeaseConflictException(
                    "lease " + name + " is at version " + current.version() + ", not " + expectedVersion);
        }
        VersionedLease updated = store(name, record);
        notifyWatchers(name, Optional.of(updated));
        return updated;
    }

    /** Removes the lease, as an operator deleting the object would. */
    public synchronized void delete(String name) {
        if (leases.remove(name) != null) {
            notifyWatchers(name, Optional.empty());
        }
    }

    @Override
    public Optional<LeaseWatch> watch(String name, LeaseWatcher watcher) {
        Subscription subscription = new Subscription(name, watcher);
        subscriptions.add(subscription);
        return Optional.of(subscription);
    }

    /** Ends every watch with {@code cause}, as a dropped connection would. */
    public void breakWatches(Exception cause) {
        for (Subscription subscription : subscriptions) {
            subscriptions.remove(subscription);
            subscription.watcher.onClose(cause);
        }
    }

    /** Number of open watches. */
    public int watchCount() {
        return subscriptions.size();
    }

    @Override
    public String describe(String name) {
        return "in-memory lease " + name;
    }

    // Watchers are notified under the lock, so they see changes in the order they happened.
    @Override
    public synchronized VersionedLease createIfNeverExisted(String name, LeaseRecord record) {
        if (everCreated.contains(name)) {
            throw new LeaseConflictException("lease " + name + " exists or existed");
        }
        return create(name, record);
    }

    /** This store sees every write: a lease it never created never existed. */
    @Override
    public synchronized boolean provablyNeverExisted(String name) {
        return !everCreated.contains(name);
    }

    private VersionedLease store(String name, LeaseRecord record) {
        everCreated.add(name);
        VersionedLease stored = new VersionedLease(record, Long.toString(nextVersion++));
        leases.put(name, stored);
        return stored;
    }

    private void notifyWatchers(String name, Optional<VersionedLease> lease) {
        for (Subscription subscription : subscriptions) {
            if (subscription.name.equals(name)) {
                subscription.watcher.onChange(lease);
            }
        }
    }

    private final class Subscription implements LeaseWatch {
        private final String name;
        private final LeaseWatcher watcher;

        Subscription(String name, LeaseWatcher watcher) {
            this.name = name;
            this.watcher = watcher;
        }

        @Override
        public void close() {
            subscriptions.remove(this);
        }
    }
}
