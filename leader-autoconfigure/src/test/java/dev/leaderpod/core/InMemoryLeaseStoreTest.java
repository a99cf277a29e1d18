package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStore.LeaseWatcher;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The in-memory store the elector's own tests and users' tests run on, and the defaults of {@link LeaseStore}. What
 * the elector relies on: watchers see every change, creates included ("Watch to be fast, poll to be right"), and only a
 * store that sees every write may prove that a lease never existed ("Third parties cannot make two leaders",
 * Deletion). The full store contract is {@code store.LeaseStoreContractTest}.
 */
class InMemoryLeaseStoreTest {

    private static final Instant WALL = Instant.parse("2026-01-01T00:00:00Z");
    private static final LeaseRecord RECORD = new LeaseRecord("a", Duration.ofSeconds(15), WALL, WALL, 0L);

    private final InMemoryLeaseStore store = new InMemoryLeaseStore();

    @Test
    void watchersSeeTheCreateEveryUpdateAndTheDeletionOfTheirLeaseInOrder() {
        List<String> seen = new ArrayList<>();
        LeaseWatch watch = store.watch("orders", recording(seen)).orElseThrow();
        store.watch("other", recording(new ArrayList<>()));
        assertThat(store.watchCount()).isEqualTo(2);

        VersionedLease created = store.create("orders", RECORD);
        store.update("orders", RECORD, created.version());
        store.create("other", RECORD);
        store.delete("orders");
        store.delete("orders"); // nothing left to delete: no event

        assertThat(seen).containsExactly("1", "2", "deleted");
        watch.close();
        assertThat(store.watchCount()).isEqualTo(1);
    }

    @Test
    void onlyALeaseThatWasNeverCreatedProvablyNeverExisted() {
        assertThat(store.provablyNeverExisted("orders")).isTrue();

        store.createIfNeverExisted("orders", RECORD);
        store.delete("orders");

        assertThat(store.provablyNeverExisted("orders")).isFalse();
        assertThatThrownBy(() -> store.createIfNeverExisted("orders", RECORD))
                .isInstanceOf(LeaseConflictException.class);
        assertThat(store.provablyNeverExisted("other")).isTrue();
    }

    @Test
    void itDescribesItselfForLogs() {
        assertThat(store.describe("orders")).isEqualTo("in-memory lease orders");
    }

    @Test
    void aStoreThatCannotSeeEveryWriteNeverClaimsALeaseNeverExistedAndCannotWatchByDefault() {
        LeaseStore minimal = new LeaseStore() {
            @Override
            public Optional<VersionedLease> get(String name) {
                return Optional.empty();
            }

            @Override
            public VersionedLease create(String name, LeaseRecord record) {
                throw new UnsupportedOperationException();
            }

            @Override
            public VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
                throw new UnsupportedOperationException();
            }
        };

        assertThat(minimal.provablyNeverExisted("orders")).isFalse();
        assertThatThrownBy(() -> minimal.createIfNeverExisted("orders", RECORD))
                .isInstanceOf(LeaseConflictException.class)
                .hasMessageEndingWith("orders cannot be proven never to have existed");
        assertThat(minimal.watch("orders", recording(new ArrayList<>()))).isEmpty();
        assertThat(minimal.describe("orders")).endsWith(" orders");
    }

    private static LeaseWatcher recording(List<String> seen) {
        return new LeaseWatcher() {
            @Override
            public void onChange(Optional<VersionedLease> lease) {
                seen.add(lease.map(VersionedLease::version).orElse("deleted"));
            }

            @Override
            public void onClose(Exception cause) {
                seen.add("closed");
            }
        };
    }
}
