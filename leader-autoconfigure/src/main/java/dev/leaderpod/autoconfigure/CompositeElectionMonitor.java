package dev.leaderpod.autoconfigure;

import dev.leaderpod.core.ElectionMonitor;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.StoreOperation;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;

/**
 * Calls every {@link ElectionMonitor} bean, in {@code @Order}, on the election thread. Looked up at the first
 * call, so monitors (such as the metrics, which gauge the elector) may depend on the elector. A failing monitor
 * does not stop the others, nor the election.
 */
class CompositeElectionMonitor implements ElectionMonitor {

    private static final Logger log = LoggerFactory.getLogger(CompositeElectionMonitor.class);

    private final Supplier<List<ElectionMonitor>> provider;
    private volatile List<ElectionMonitor> monitors;

    CompositeElectionMonitor(ObjectProvider<ElectionMonitor> provider) {
        this(() -> provider.orderedStream().toList());
    }

    /** Calls the monitors {@code provider} gives, in their order; asked once, at the first call. */
    CompositeElectionMonitor(Supplier<List<ElectionMonitor>> provider) {
        this.provider = provider;
    }

    @Override
    public void storeCall(StoreOperation operation, Duration latency, LeaseStoreException.Kind failure) {
        for (ElectionMonitor monitor : monitors()) {
            try {
                monitor.storeCall(operation, latency, failure);
            } catch (RuntimeException e) {
                log.error("Election monitor {} failed", monitor, e);
            }
        }
    }

    private List<ElectionMonitor> monitors() {
        List<ElectionMonitor> resolved = monitors;
        if (resolved == null) {
            resolved = provider.get();
            monitors = resolved;
        }
        return resolved;
    }
}
