package dev.leaderpod.autoconfigure;

import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.RevocationReason;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;

/**
 * Calls every {@link LeadershipListener} bean, in {@code @Order}, on the elector's event thread. Looked up at the
 * first event, so listeners may depend on the elector. Nothing a listener throws, not even an {@link Error}, keeps
 * the listeners after it from being called: among them are the {@code @LeaderOnly} listener, which stops the
 * term's lifecycle beans and drains its calls, and the one publishing {@code OnRevokedEvent} ("Ordered graceful
 * shutdown" in the design notes).
 */
class CompositeLeadershipListener implements LeadershipListener {

    private static final Logger log = LoggerFactory.getLogger(CompositeLeadershipListener.class);

    private final Supplier<List<LeadershipListener>> provider;
    private volatile List<LeadershipListener> listeners;

    CompositeLeadershipListener(ObjectProvider<LeadershipListener> provider) {
        this(() -> provider.orderedStream().toList());
    }

    /** Calls the listeners {@code provider} gives, in their order; asked once, at the first call. */
    CompositeLeadershipListener(Supplier<List<LeadershipListener>> provider) {
        this.provider = provider;
    }

    @Override
    public void onStartedLeading(LeadershipTerm term) {
        callEach("onStartedLeading", listener -> listener.onStartedLeading(term));
    }

    @Override
    public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
        callEach("onStoppedLeading", listener -> listener.onStoppedLeading(term, reason));
    }

    @Override
    public void onNewLeader(String holderIdentity, long leaseTransitions) {
        callEach("onNewLeader", listener -> listener.onNewLeader(holderIdentity, leaseTransitions));
    }

    private List<LeadershipListener> listeners() {
        List<LeadershipListener> resolved = listeners;
        if (resolved == null) {
            resolved = provider.get();
            listeners = resolved;
        }
        return resolved;
    }

    /**
     * Calls {@code callback} on every listener, whatever each one throws; anything thrown is logged. A
     * {@link VirtualMachineError} (out of memory, stack overflow) is also rethrown, but only once every listener ran:
     * a failing JVM is not ours to hide, while throwing at once would leave the term's work running on a follower.
     * The elector runs listeners as tasks of its event executor, so the error ends that task, not the election
     * ("Nothing but stop ends the election").
     */
    private void callEach(String callback, Consumer<LeadershipListener> call) {
        VirtualMachineError fatal = null;
        for (LeadershipListener listener : listeners()) {
            try {
                call.accept(listener);
            } catch (Throwable e) {
                log.error("Leadership listener {} failed in {}", listener, callback, e);
                if (fatal == null && e instanceof VirtualMachineError error) {
                    fatal = error;
                }
            }
        }
        if (fatal != null) {
            throw fatal;
        }
    }
}
