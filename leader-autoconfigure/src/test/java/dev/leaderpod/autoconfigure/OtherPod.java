package dev.leaderpod.autoconfigure;

import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.VersionedLease;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/** Another replica, played by writing the shared store directly: it takes the lease, or releases it. */
final class OtherPod {

    static final String IDENTITY = "other";

    private final InMemoryLeaseStore store;
    private final String lease;

    OtherPod(InMemoryLeaseStore store, String lease) {
        this.store = store;
        this.lease = lease;
    }

    /** Takes the lease for one minute, as a new term: a watching leader loses it at once. */
    void takeLease() {
        write(current -> new LeaseRecord(
                IDENTITY,
                Duration.ofMinutes(1),
                Instant.now(),
                Instant.now(),
                current.map(record -> record.transitionsOrZero() + 1).orElse(0L)));
    }

    /** Releases the lease: a watching follower acquires it at once. */
    void releaseLease() {
        write(current -> new LeaseRecord(
                "",
                Duration.ofSeconds(1),
                null,
                Instant.now(),
                current.map(LeaseRecord::transitionsOrZero).orElse(0L)));
    }

    private void write(java.util.function.Function<Optional<LeaseRecord>, LeaseRecord> next) {
        for (int attempt = 0; ; attempt++) {
            Optional<VersionedLease> current = store.get(lease);
            try {
                LeaseRecord record = next.apply(current.map(VersionedLease::record));
                if (current.isEmpty()) {
                    store.create(lease, record);
                } else {
                    store.update(lease, record, current.get().version());
                }
                return;
            } catch (LeaseConflictException e) {
                if (attempt > 10) {
                    throw e;
                }
            }
        }
    }
}
