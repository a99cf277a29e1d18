package dev.leaderpod.core;

import java.util.Optional;

/** A read-only view of one election, safe to call from any thread. */
public interface Leadership {

    /** Name of the lease this election uses. */
    String leaseName();

    /** This candidate's identity. */
    String identity();

    /**
     * Whether this candidate leads right now. Evaluated at call time against the renew deadline, so it turns
     * false when renewal stalls, before any other candidate can take over, even if no event was delivered yet.
     */
    boolean isLeader();

    /** The current term, present only while {@link #isLeader()} is true. */
    Optional<LeadershipTerm> currentTerm();

    /** The holder this candidate last saw in the lease, if any: for messages, never for decisions. */
    default Optional<String> observedLeader() {
        return Optional.empty();
    }
}
