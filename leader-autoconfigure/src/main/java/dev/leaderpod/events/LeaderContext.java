package dev.leaderpod.events;

import dev.leaderpod.core.LeadershipTerm;
import java.util.Optional;
import org.springframework.integration.leader.Context;
import org.springframework.integration.leader.event.AbstractLeaderEvent;

/**
 * The {@link Context} of the {@code OnGrantedEvent} and {@code OnRevokedEvent} this starter publishes: Spring
 * Integration's view plus the term, with its fencing token.
 *
 * <pre>{@code
 * @EventListener
 * void onGranted(OnGrantedEvent event) {
 *     long token = LeaderContext.from(event).orElseThrow().getFencingToken();
 * }
 * }</pre>
 */
public interface LeaderContext extends Context {

    /** The term this event is about. */
    LeadershipTerm getTerm();

    /**
     * The fencing token of the term: the lease's {@code leaseTransitions}, strictly greater for every later term.
     * Pass it to the systems you write to so they can reject a stale leader.
     */
    default long getFencingToken() {
        return getTerm().fencingToken();
    }

    /** This candidate's identity. */
    default String getIdentity() {
        return getTerm().identity();
    }

    /** The lease-election context of {@code event}, if it came from this starter. */
    static Optional<LeaderContext> from(AbstractLeaderEvent event) {
        return event.getContext() instanceof LeaderContext context ? Optional.of(context) : Optional.empty();
    }
}
