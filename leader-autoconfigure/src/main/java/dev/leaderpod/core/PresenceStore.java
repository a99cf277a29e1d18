package dev.leaderpod.core;

import java.util.List;
import java.util.Optional;

/**
 * The storage port of presence: the candidates of one application that are alive, for spreading its elections over
 * them (docs/design.md, "Spreading elections"). One announcement per candidate, written only by that candidate, except
 * that anyone may remove an announcement that stopped changing (its candidate died) at the version it saw.
 *
 * <p>Every method may throw {@link LeaseStoreException}; implementations bound each call by their own request timeout.
 * Kept apart from the leases: a presence store never touches a lease, and a lease store never lists announcements.
 * What every store guarantees is in docs/design.md, "Presence", and proven for each by
 * {@code store.PresenceStoreContractTest}. The stores: {@link InMemoryPresenceStore}, for tests;
 * {@code store.local.FilePresenceStore}; {@code store.kubernetes.KubernetesPresenceStore}.
 */
public interface PresenceStore {

    /**
     * Writes this candidate's announcement, creating it if it is missing (a first start, or removed by another
     * candidate that thought it dead), replacing it otherwise.
     *
     * @return the announcement as stored, with its new version
     */
    Presence announce(Presence presence);

    /** Every announcement of the group, as stored now. */
    List<Presence> list();

    /**
     * Removes {@code identity}'s announcement if it is still at {@code version}; nothing if it is gone already.
     *
     * @throws LeaseConflictException if it changed since {@code version}: its candidate is alive after all
     */
    void remove(String identity, String version);

    /**
     * Starts notifying {@code watcher} of changed and removed announcements, if this store can. Only makes changes
     * known sooner; the tracker lists again after every (re)start and whenever it cannot watch.
     *
     * @return the running watch, or empty if this store does not support watching
     */
    default Optional<LeaseStore.LeaseWatch> watch(PresenceWatcher watcher) {
        return Optional.empty();
    }

    /** A short human description for logs, such as {@code Kubernetes Leases team-a/billing-candidate-*}. */
    default String describe() {
        return getClass().getSimpleName();
    }

    /** Receives changes to announcements, possibly on a store-owned thread; must return quickly. */
    interface PresenceWatcher {

        /** An announcement was written. */
        void changed(Presence presence);

        /** The announcement of {@code identity} was removed. */
        void removed(String identity);

        /** The watch ended and will not deliver more changes. */
        void onClose(Exception cause);
    }
}
