package dev.leaderpod.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.InMemoryPresenceStore;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.PresenceStore;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** The reference store meets the contract; candidates of one group share one instance, another group has its own. */
class InMemoryPresenceStoreContractTest extends PresenceStoreContractTest {

    private final InMemoryPresenceStore store = new InMemoryPresenceStore(LEASE);
    private final InMemoryPresenceStore otherGroup = new InMemoryPresenceStore(OTHER_LEASE);
    private final InMemoryLeaseStore leases = new InMemoryLeaseStore();

    @Override
    protected PresenceStore store() {
        return store;
    }

    @Override
    protected PresenceStore anotherGroupsStore() {
        return otherGroup;
    }

    @Override
    protected LeaseStore leaseStore() {
        return leases;
    }

    @Test
    void brokenWatchesAreToldOnceAndClosedWatchesHearNothing() {
        RecordingWatcher broken = new RecordingWatcher();
        RecordingWatcher closed = new RecordingWatcher();
        store.watch(broken);
        store.watch(closed).orElseThrow().close();
        IOException cause = new IOException("connection reset");

        store.breakWatches(cause);
        store.announce(presence("candidate-a"));

        assertThat(broken.closes).containsExactly(cause);
        assertThat(broken.events).isEmpty();
        assertThat(closed.closes).isEmpty();
        assertThat(closed.events).isEmpty();
        assertThat(store.watchCount()).isZero();
    }
}
