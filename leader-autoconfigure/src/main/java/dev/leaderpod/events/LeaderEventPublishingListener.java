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
 * Publishes Spring Integration's {@code OnGrantedEvent} / {@code OnRevokedEvent} (role = lease name) for each
 * term, so listeners written for spring-cloud-kubernetes keep working. Runs last
 * ({@link LeadershipListenerOrder#EVENTS}).
 */
public class LeaderEventPublishingListener implements LeadershipListener, Ordered {

    private final LeaderEventPublisher publisher;
    private final Supplier<LeaseElector> elector;

    public LeaderEventPublishingListener(LeaderEventPublisher publisher, Supplier<LeaseElector> elector) {
        this.publisher = publisher;
        this.elector = elector;
    }

    @Override
    public void onStartedLeading(LeadershipTerm term) {
        LeaseElector source = elector.get();
        publisher.publishOnGranted(source, new TermContext(source, term), term.leaseName());
    }

    @Override
    public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
        LeaseElector source = elector.get();
        publisher.publishOnRevoked(source, new TermContext(source, term), term.leaseName());
    }

    @Override
    public int getOrder() {
        return LeadershipListenerOrder.EVENTS;
    }

    /** One term's context: leader while that term is current; yielding gives that term up. */
    private record TermContext(LeaseElector elector, LeadershipTerm term) implements LeaderContext {

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
            return term.leaseName();
        }

        @Override
        public LeadershipTerm getTerm() {
            return term;
        }

        @Override
        public String toString() {
            return "LeaderContext[role=" + term.leaseName() + ", identity=" + term.identity() + ", fencingToken="
                    + term.fencingToken() + ", leader=" + isLeader() + "]";
        }
    }
}
