package dev.leaderpod.autoconfigure;

import dev.leaderpod.core.ElectionMonitor;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeaseElector;

/**
 * Gives each named election ({@code leader.elections.<name>}, {@code @LeaderOnly("<name>")}) a listener of its own.
 * The default election calls the {@link LeadershipListener} beans, as it always has; a named election calls only
 * what these beans give it, because a listener written for one election cannot tell another's
 * {@code onNewLeader} apart. The starter's metrics, {@code @LeaderOnly} lifecycle beans, Spring Integration events
 * and Kubernetes Events reach named elections this way; the pod label stays the default election's.
 *
 * <p>Listeners are called in their {@code @Order} on the election's event thread, as the default election's are
 * ({@code LeadershipListenerOrder}). A listener that is also an {@link ElectionMonitor} receives the election's
 * store-call measurements.
 */
@FunctionalInterface
public interface ElectionListenerFactory {

    /**
     * The listener of the named election {@code name}, or {@code null} for none. Called once per election, when its
     * elector is built and before it starts.
     *
     * @param name the election's name (never the default election's)
     * @param elector the election's elector, for listeners that read it (gauges, a context's {@code yield})
     */
    LeadershipListener listenerFor(String name, LeaseElector elector);
}
