package dev.leaderpod.core;

/** Why a term ended. */
public enum RevocationReason {
    /** The renew deadline passed without a successful renew (API unreachable, slow, or this process paused). */
    DEADLINE_PASSED,
    /** Another candidate holds the lease now. */
    LOST,
    /** The lease was released or deleted by somebody else. */
    RELEASED,
    /** This candidate gave leadership up on request and rejoined as a follower. */
    YIELDED,
    /** The elector stopped (application shutdown) and released the lease. */
    SHUTDOWN
}
