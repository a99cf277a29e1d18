package dev.leaderpod.core;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * How one candidate takes part in one election beside the lease rules, which it can never override: whether it stands
 * for leadership now, how long it lets the others try first for a lease free for all, and whom it hands the lease to.
 * Spreading many elections over the candidates is built on it (docs/design.md, "Spreading elections"), and so is
 * leadership that follows readiness ("Leadership follows readiness"). Called on the election thread and, for
 * {@link #successor(String)}, on the thread that stops the elector; must be quick and thread-safe.
 */
public interface Candidacy {

    /** Takes any free lease at once and hands it to nobody in particular: a single election. */
    Candidacy EAGER = new Candidacy() {};

    /**
     * Whether this candidate stands for leadership now. One that does not follows the election as any follower does —
     * it reads, watches and keeps its view current — but takes nothing: it creates no lease, takes no free, expired or
     * released lease (not even one handed to it), and a leader that stops standing hands leadership over (drain, then
     * release naming {@link #successor(String)}). Call {@link LeaseElector#standingChanged()} when it changes, so that the
     * elector acts at once rather than at its next cycle. Not standing can only make a candidate take less, never
     * more: it never lets a lease be taken that the lease rules would not let it take.
     */
    default boolean standing() {
        return true;
    }

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

    /**
     * This candidacy, standing only while {@code condition} holds as well (readiness, a migration's record): patience
     * and successor unchanged. Call {@link LeaseElector#standingChanged()} when the condition changes.
     */
    default Candidacy standingOnlyWhile(BooleanSupplier condition) {
        Candidacy candidacy = this;
        return new Candidacy() {
            @Override
            public boolean standing() {
                return condition.getAsBoolean() && candidacy.standing();
            }

            @Override
            public Duration patience() {
                return candidacy.patience();
            }

            @Override
            public String successor(String leaseName) {
                return candidacy.successor(leaseName);
            }
        };
    }
}
