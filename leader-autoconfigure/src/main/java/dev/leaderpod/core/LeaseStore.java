package dev.leaderpod.core;

import java.util.Optional;

/**
 * The storage port of the elector: read a lease, create it, and update it only if nobody wrote it since a
 * known version. Implementations translate; all election logic lives in {@link LeaseElector}.
 *
 * <p>Every method may throw {@link LeaseStoreException}; a lost compare-and-set is the subtype
 * {@link LeaseConflictException}. Implementations bound each call by their own request timeout.
 */
public interface LeaseStore {

    /** The lease called {@code name}, or empty if it does not exist. */
    Optional<VersionedLease> get(String name);

    /**
     * Creates the lease.
     *
     * @throws LeaseConflictException if a lease with that name already exists
     */
    VersionedLease create(String name, LeaseRecord record);

    /**
     * Replaces the lease if its current version is {@code expectedVersion}.
     *
     * @throws LeaseConflictException if the lease changed since, or no longer exists
     */
    VersionedLease update(String name, LeaseRecord record, String expectedVersion);

    /**
     * Starts notifying {@code watcher} of changes to the lease, if this store can. Watching only makes the
     * elector react faster; correctness never depends on it. A store may or may not deliver the current lease
     * when the watch starts (the elector reads once after every (re)start), and may call
     * {@link LeaseWatcher#onClose} before this method returns.
     *
     * @return the running watch, or empty if this store does not support watching
     */
    default Optional<LeaseWatch> watch(String name, LeaseWatcher watcher) {
        return Optional.empty();
    }

    /**
     * Whether this store can prove that no lease called {@code name} has ever existed in it, so that no candidate can
     * hold a term of it. Only a store that sees every write, such as an in-process one, can know; the default is
     * false, and the elector then treats an absent lease like a lease that must expire before anyone creates it
     * (docs/design.md, "Third parties cannot make two leaders").
     */
    default boolean provablyNeverExisted(String name) {
        return false;
    }

    /**
     * Creates the lease only if this store proves, atomically with the create, that no lease called {@code name} has
     * ever existed in it (see {@link #provablyNeverExisted}). The default, for stores that cannot know, refuses.
     *
     * @throws LeaseConflictException if the lease exists, existed, or the store cannot tell
     */
    default VersionedLease createIfNeverExisted(String name, LeaseRecord record) {
        throw new LeaseConflictException(describe(name) + " cannot be proven never to have existed");
    }

    /** A short human description for logs, such as {@code Kubernetes Lease team-a/billing}. */
    default String describe(String name) {
        return getClass().getSimpleName() + " " + name;
    }

    /** A running watch. */
    interface LeaseWatch extends AutoCloseable {
        @Override
        void close();

        /**
         * The elector found a change of the lease that this watch should have delivered and did not (docs/design.md,
         * "Watch to be fast, poll to be right"); it closes the watch next and starts another. A store whose watches
         * share one connection may take it as a sign that the connection went silent, and open a new one for the next
         * watch rather than join the silent one. Called on the election thread: returns at once, and does no I/O.
         * The default does nothing.
         */
        default void missedChanges() {}
    }

    /** Receives changes to a watched lease, possibly on a store-owned thread; must return quickly. */
    interface LeaseWatcher {

        /** The lease changed; empty when it was deleted. */
        void onChange(Optional<VersionedLease> lease);

        /** The watch ended and will not deliver more changes; the elector falls back to polling. */
        void onClose(Exception cause);
    }
}
