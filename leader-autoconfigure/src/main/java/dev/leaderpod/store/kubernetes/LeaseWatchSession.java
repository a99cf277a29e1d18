package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.LeaseStore.LeaseWatcher;
import dev.leaderpod.core.LeaseStoreException;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.Optional;

/**
 * One watch of one Lease for the elector, on a WebSocket of its own ({@link WatchSocket}): every change of the Lease,
 * and its deletion as empty, after the store kept the object it was told of ({@link NewestLeases}). A store without an
 * election group watches every Lease so; a store with one, only a Lease known to lack the group's label (the others
 * share {@link SharedLeaseWatch}).
 */
final class LeaseWatchSession extends WatchSocket {

    private final KubernetesLeaseStore store;
    private final String name;
    private final LeaseWatcher watcher;

    LeaseWatchSession(
            KubernetesLeaseStore store, String name, LeaseWatcher watcher, KubernetesSerialization serialization) {
        super(serialization);
        this.store = store;
        this.name = name;
        this.watcher = watcher;
    }

    @Override
    String subject() {
        return store.describe(name);
    }

    @Override
    void event(String type, GenericKubernetesResource lease) {
        if ("DELETED".equals(type)) {
            store.watchedDeletion(name, lease);
            watcher.onChange(Optional.empty());
        } else {
            watcher.onChange(Optional.of(store.watchedChange(name, lease)));
        }
    }

    @Override
    LeaseStoreException reported(Status status) {
        return store.watchError(name, status);
    }

    @Override
    LeaseStoreException failed(Throwable failure) {
        return store.watchFailure(name, failure);
    }

    @Override
    void ended(LeaseStoreException cause) {
        store.forget(this);
        if (cause != null) {
            watcher.onClose(cause);
        }
    }
}
