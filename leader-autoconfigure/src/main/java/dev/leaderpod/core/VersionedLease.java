package dev.leaderpod.core;

import java.util.Objects;

/**
 * A lease record together with the opaque version the store gave it (a Kubernetes {@code resourceVersion}).
 * Updates are conditional on this version.
 */
public record VersionedLease(LeaseRecord record, String version) {

    public VersionedLease {
        Objects.requireNonNull(record, "record");
        Objects.requireNonNull(version, "version");
    }
}
