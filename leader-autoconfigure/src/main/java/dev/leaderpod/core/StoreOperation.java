package dev.leaderpod.core;

/** The store calls an elector makes, as its {@link ElectionMonitor} sees them. */
public enum StoreOperation {
    /** Read the lease. */
    GET("get"),
    /** Create the lease, starting a term. */
    CREATE("create"),
    /** Take a free or expired lease, starting a term. */
    ACQUIRE("acquire"),
    /** Extend the current term. */
    RENEW("renew"),
    /** Give the lease up (holder cleared). */
    RELEASE("release"),
    /** Start a watch on the lease. */
    WATCH("watch");

    private final String key;

    StoreOperation(String key) {
        this.key = key;
    }

    /** The name used in metrics and logs, such as {@code renew}. */
    public String key() {
        return key;
    }
}
