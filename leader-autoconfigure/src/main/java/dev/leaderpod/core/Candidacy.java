package dev.leaderpod.core;

import java.time.Duration;

/**
 * How one candidate takes part in one election beside the lease rules, which it can never override: how long it lets
 * the others try first for a lease free for all, and whom it hands the lease to. Spreading many elections over the
 * candidates is built on it (docs/design.md, "Spreading elections"). Called on the election thread and, for
 * {@link #successor(String)}, on the thread that stops the elector; must be quick and thread-safe.
 */
public interface Candidacy {

    /** Takes any free lease at once and hands it to nobody in particular: a single election. */
    Candidacy EAGER = new Candidacy() {};

    /**
     * How long this candidate waits, once a lease is free for all (expired, released to anyone, or released to a
     * successor that did not take it in time), before it tries to take it: others with a shorter patience go first.
     * Only an order among live candidates; a lease is never left free longer than the longest patience.
     */
    default Duration patience() {
        return Duration.ZERO;
    }

    /**
     * The candidate to name in the release of the lease {@code leaseName} when this one stops or yields without naming
     * one; null for anyone.
     */
    default String successor(String leaseName) {
        return null;
    }
}
