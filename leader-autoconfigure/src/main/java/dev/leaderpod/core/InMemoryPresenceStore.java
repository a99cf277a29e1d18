package dev.leaderpod.core;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link PresenceStore} in this JVM's memory, with watch support: the presence of one group of candidates, for
 * tests of the tracker and of user code. Like {@link InMemoryLeaseStore}, one instance is shared by every candidate
 * of a test, as they would share an API server; a second group is a second instance.
 *
 * <p>Versions are a counter shared by every announcement of the instance, so a version is never given twice, not
 * even to an announcement removed and made again. Watchers are told under the store's lock, in the order the changes
 * happened.
 */
public class InMemoryPresenceStore implements PresenceStore {

    private final String leaseName;
    private final Map<String, Presence> announcements = new LinkedHashMap<>();
    private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    private long nextVersion = 1;

    /** The presence of a group that logs do not name. */
    public InMemoryPresenceStore() {
        this(null);
    }

    /** The presence of the candidates of lease {@code leaseName}, as logs name it. */
    public InMemoryPresenceStore(String leaseName) {
        this.leaseName = leaseName;
    }

    @Override
    public synchronized Presence announce(Presence presence) {
        Objects.requireNonNull(presence, "presence").requireStorable();
        Presence stored = presence.atVersion(Long.toString(nextVersion++));
        announcements.put(stored.identity(), stored);
        for (Subscription subscription : subscriptions) {
            subscription.watcher.changed(stored);
        }
        return stored;
    }

    @Override
    public synchronized List<Presence> list() {
        return List.copyOf(announcements.values());
    }

    @Override
    public synchronized void remove(String identity, String version) {
        Objects.requireNonNull(identity, "identity");
        Presence current = announcements.get(identity);
        if (current == null) {
            return;
        }
        if (!current.version().equals(version)) {
            throw new LeaseConflictException(
                    describe() + ": " + identity + " is at version " + current.version() + ", not " + version);
        }
        announcements.remove(identity);
        for (Subscription subscription : subscriptions) {
            subscription.watcher.removed(identity);
        }
    }

    /** Starts a watch; the announcements there are now are not delivered, every later change is. */
    @Override
    public Optional<LeaseStore.LeaseWatch> watch(PresenceWatcher watcher) {
        Subscription subscription = new Subscription(Objects.requireNonNull(watcher, "watcher"));
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
    public String describe() {
        return leaseName == null ? "in-memory presence" : "in-memory presence of " + leaseName;
    }

    private final class Subscription implements LeaseStore.LeaseWatch {
        private final PresenceWatcher watcher;

        Subscription(PresenceWatcher watcher) {
            this.watcher = watcher;
        }

        @Override
        public void close() {
            subscriptions.remove(this);
        }
    }
}
