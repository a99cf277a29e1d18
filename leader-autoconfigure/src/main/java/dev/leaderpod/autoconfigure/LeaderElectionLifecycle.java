package dev.leaderpod.autoconfigure;

import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationContextAware;
import org.springframework.context.ApplicationListener;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.core.Ordered;

/**
 * Joins the elections when the context starts and leaves them, gracefully, when the context closes: isLeader turns
 * false, leader-only work drains, {@code OnRevokedEvent} is published, then the lease is released — for every
 * election, one after another ({@link LeaderElections#stop()}).
 *
 * <p>Leaving happens on {@link ContextClosedEvent} with the highest precedence, before schedulers shut down and
 * before spring-cloud-kubernetes closes its {@code KubernetesClient} (which it does on the same event), so the
 * release can still reach the API server. The lifecycle {@link #stop()} does the same for a context that is stopped
 * without being closed.
 */
class LeaderElectionLifecycle
        implements SmartLifecycle, ApplicationListener<ContextClosedEvent>, ApplicationContextAware, Ordered {

    /** Start after the web server, stop before it. */
    static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 512;

    private final LeaderElections elections;
    private ApplicationContext context;

    LeaderElectionLifecycle(LeaderElections elections) {
        this.elections = elections;
    }

    @Override
    public void start() {
        elections.start();
    }

    @Override
    public void stop() {
        if (elections.isRunning()) {
            elections.stop();
        }
    }

    @Override
    public boolean isRunning() {
        return elections.isRunning();
    }

    @Override
    public int getPhase() {
        return PHASE;
    }

    @Override
    public void setApplicationContext(ApplicationContext context) {
        this.context = context;
    }

    @Override
    public void onApplicationEvent(ContextClosedEvent event) {
        if (event.getApplicationContext() == context) { // not a child context, such as the management one
            stop();
        }
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }
}
