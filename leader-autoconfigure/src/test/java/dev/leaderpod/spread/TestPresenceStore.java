package dev.leaderpod.spread;

import dev.leaderpod.core.InMemoryPresenceStore;
import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.Presence;
import dev.leaderpod.core.PresenceStore;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Presence shared by the candidates of a test, an {@link InMemoryPresenceStore}, with a view per candidate that can be
 * cut off (a crash, as the others see it).
 */
final class TestPresenceStore {

    private final InMemoryPresenceStore shared = new InMemoryPresenceStore("test");
    private final Set<String> cutOff = ConcurrentHashMap.newKeySet();

    /** The store as {@code identity} reaches it. */
    PresenceStore viewOf(String identity) {
        return new PresenceStore() {
            @Override
            public Presence announce(Presence presence) {
                check();
                return shared.announce(presence);
            }

            @Override
            public List<Presence> list() {
                check();
                return shared.list();
            }

            @Override
            public void remove(String who, String version) {
                check();
                shared.remove(who, version);
            }

            @Override
            public Optional<LeaseWatch> watch(PresenceWatcher watcher) {
                check();
                return shared.watch(watcher);
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
        return shared.list().stream().map(Presence::identity).collect(Collectors.toSet());
    }
}
