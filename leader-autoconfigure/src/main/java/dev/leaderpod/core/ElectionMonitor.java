package dev.leaderpod.core;

import java.time.Duration;

/**
 * Measurements of an elector's store calls, for metrics. Called on the election thread: implementations must be
 * fast and must not block (a Micrometer timer or counter is fine).
 */
public interface ElectionMonitor {

    /** A monitor that ignores everything. */
    ElectionMonitor NONE = new ElectionMonitor() {};

    /**
     * A store call finished.
     *
     * @param operation the call: {@link StoreOperation#RENEW} for a leader's renew, and so on (watch starts are not
     *     reported)
     * @param latency how long the call took
     * @param failure why it failed, or {@code null} if it succeeded
     */
    default void storeCall(StoreOperation operation, Duration latency, LeaseStoreException.Kind failure) {}
}
