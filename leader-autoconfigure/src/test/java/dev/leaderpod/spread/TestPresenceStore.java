package dev.leaderpod.spread;

import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.Presence;
import dev.leaderpod.core.PresenceStore;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Presence shared by the candidates of a test, with a view per candidate that can be cut off (a crash, as the others
 * see it). Watches deliver synchronously.
 */
final class TestPresenceStore {

    private final Map<String, Presence> announcements = new ConcurrentHashMap<>();
    private final List<PresenceStore.PresenceWatcher> watchers = new CopyOnWriteArrayList<>();
    private final AtomicLong versions = new AtomicLong();
    private final Set<String> cutOff = ConcurrentHashMap.newKeySet();

    /** The store as {@code identity} reaches it. */
    PresenceStore viewOf(String identity) {
        return new PresenceStore() {
            @Override
            public Presence announce(Presence presence) {
                check();
                Presence stored = presence.atVersion(Long.toString(versions.incrementAndGet()));
                announcements.put(presence.identity(), stored);
                watchers.forEach(watcher -> watcher.changed(stored));
                return stored;
            }

            @Override
            public List<Presence> list() {
                check();
                return List.copyOf(announcements.values());
            }

            @Override
            public void remove(String who, String version) {
                check();
                Presence current = announcements.get(who);
                if (current == null) {
                    return;
                }
                if (!current.version().equals(version) || !announcements.remove(who, current)) {
                    throw new LeaseConflictException(who + " announced again");
                }
                watchers.forEach(watcher -> watcher.removed(who));
            }

            @Override
            public Optional<LeaseWatch> watch(PresenceWatcher watcher) {
                check();
                watchers.add(watcher);
                return Optional.of(() -> watchers.remove(watcher));
            }

            private void check() {
                if (cutOff.contains(identity)) {
                    throw new LeaseStoreException(LeaseStoreException.Kind.UNAVAILABLE, identity + " is cut off", null);
                }
            }
        };
    }

    void cutOff(String identity) {
        cutOff.add(identity);
    }

    Set<String> announced() {
        return Set.copyOf(announcements.keySet());
    }
}
