package dev.leaderpod.autoconfigure;

import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.RevocationReason;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;

/**
 * Calls every {@link LeadershipListener} bean, in {@code @Order}, on the elector's event thread. Looked up at the
 * first event, so listeners may depend on the elector. A failing listener does not stop the others.
 */
class CompositeLeadershipListener implements LeadershipListener {

    private static final Logger log = LoggerFactory.getLogger(CompositeLeadershipListener.class);

    private final ObjectProvider<LeadershipListener> provider;
    private volatile List<LeadershipListener> listeners;

    CompositeLeadershipListener(ObjectProvider<LeadershipListener> provider) {
        this.provider = provider;
    }

    @Override
    public void onStartedLeading(LeadershipTerm term) {
        for (LeadershipListener listener : listeners()) {
            invoke(listener, "onStartedLeading", () -> listener.onStartedLeading(term));
        }
    }

    @Override
    public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
        for (LeadershipListener listener : listeners()) {
            invoke(listener, "onStoppedLeading", () -> listener.onStoppedLeading(term, reason));
        }
    }

    @Override
    public void onNewLeader(String holderIdentity, long leaseTransitions) {
        for (LeadershipListener listener : listeners()) {
            invoke(listener, "onNewLeader", () -> listener.onNewLeader(holderIdentity, leaseTransitions));
        }
    }

    private List<LeadershipListener> listeners() {
        List<LeadershipListener> resolved = listeners;
        if (resolved == null) {
            resolved = provider.orderedStream().toList();
            listeners = resolved;
        }
        return resolved;
    }

    private static void invoke(LeadershipListener listener, String callback, Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            log.error("Leadership listener {} failed in {}", listener, callback, e);
        }
    }
}
