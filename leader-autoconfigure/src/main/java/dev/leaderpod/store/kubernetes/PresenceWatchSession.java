package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.Presence;
import dev.leaderpod.core.PresenceStore.PresenceWatcher;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/**
 * One watch of a group's announcements ({@link WatchSocket}), selected by their label: each written one as changed,
 * each deleted one as removed. Leases that share the label but not the group (two long lease names hashed alike) and
 * Leases that name no candidate are passed over.
 */
final class PresenceWatchSession extends WatchSocket {

    private final KubernetesPresenceStore store;
    private final PresenceWatcher watcher;

    PresenceWatchSession(
            KubernetesPresenceStore store, PresenceWatcher watcher, KubernetesSerialization serialization) {
        super(serialization);
        this.store = store;
        this.watcher = watcher;
    }

    @Override
    String subject() {
        return store.describe();
    }

    @Override
    void event(String type, GenericKubernetesResource lease) {
        if (!store.isAnnouncement(lease)) {
            return;
        }
        if ("DELETED".equals(type)) {
            watcher.removed(PresenceObjects.identity(lease));
        } else {
            Presence presence = PresenceObjects.read(lease);
            if (presence.version() != null) {
                watcher.changed(presence);
            }
        }
    }

    @Override
    LeaseStoreException reported(Status status) {
        return store.watchError(status);
    }

    @Override
    LeaseStoreException failed(Throwable failure) {
        return store.watchFailure(failure);
    }

    @Override
    void ended(LeaseStoreException cause) {
        store.forget(this);
        if (cause != null) {
            watcher.onClose(cause);
        }
    }
}
