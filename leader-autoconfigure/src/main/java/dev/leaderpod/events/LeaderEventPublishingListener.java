package dev.leaderpod.events;

import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipListenerOrder;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.RevocationReason;
import java.util.function.Supplier;
import org.springframework.core.Ordered;
import org.springframework.integration.leader.event.LeaderEventPublisher;

/**
 * Publishes Spring Integration's {@code OnGrantedEvent} / {@code OnRevokedEvent} for each term of one election, so
 * listeners written for spring-cloud-kubernetes keep working. The role is the lease name for the default election
 * and the election's name for a named one, so that a {@code @Role("reports")} endpoint follows the election
 * {@code reports}. Runs last ({@link LeadershipListenerOrder#EVENTS}).
 */
public class LeaderEventPublishingListener implements LeadershipListener, Ordered {

    private final LeaderEventPublisher publisher;
    private final Supplier<LeaseElector> elector;
    private final String role;

    /** Events of the default election: role = its lease name. */
    public LeaderEventPublishingListener(LeaderEventPublisher publisher, Supplier<LeaseElector> elector) {
        this(publisher, elector, null);
    }

    /**
     * Events of one election with the given role: a named election's is its name.
     *
     * @param role the events' role; null for the lease name
     */
    public LeaderEventPublishingListener(LeaderEventPublisher publisher, Supplier<LeaseElector> elector, String role) {
        this.publisher = publisher;
        this.elector = elector;
        this.role = role;
    }

    @Override
    public void onStartedLeading(LeadershipTerm term) {
        LeaseElector source = elector.get();
        TermContext context = new TermContext(source, term, roleOf(term));
        publisher.publishOnGranted(source, context, context.getRole());
    }

    @Override
    public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
        LeaseElector source = elector.get();
        TermContext context = new TermContext(source, term, roleOf(term));
        publisher.publishOnRevoked(source, context, context.getRole());
    }

    private String roleOf(LeadershipTerm term) {
        return role != null ? role : term.leaseName();
    }

    @Override
    public int getOrder() {
        return LeadershipListenerOrder.EVENTS;
    }

    /** One term's context: leader while that term is current; yielding gives that term up. */
    private record TermContext(LeaseElector elector, LeadershipTerm term, String role) implements LeaderContext {

        @Override
        public boolean isLeader() {
            return elector.isCurrent(term);
        }

        @Override
        public void yield() {
            if (elector.isCurrent(term)) {
                elector.yieldLeadership();
            }
        }

        @Override
        public String getRole() {
            return role;
        }

        @Override
        public LeadershipTerm getTerm() {
            return term;
        }

        @Override
        public String toString() {
            return "LeaderContext[role=" + role + ", identity=" + term.identity() + ", fencingToken="
                    + term.fencingToken() + ", leader=" + isLeader() + "]";
        }
    }
}
