package dev.leaderpod.core;

/**
 * Callbacks of an elector. They run on the elector's event thread, never on the thread that renews the lease,
 * in the order the transitions happened. A slow callback delays later callbacks, never a renew.
 */
public interface LeadershipListener {

    /** This candidate became leader, after the write that made it holder succeeded. */
    default void onStartedLeading(LeadershipTerm term) {}

    /** This candidate's term ended; {@link Leadership#isLeader()} is already false. */
    default void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {}

    /**
     * The observed holder changed.
     *
     * @param holderIdentity the new holder, or {@code null} when the lease became free
     * @param leaseTransitions the lease's transition count as observed
     */
    default void onNewLeader(String holderIdentity, long leaseTransitions) {}
}
