package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ForwardingLeaseStoreTest {

    private final InMemoryLeaseStore leases = new InMemoryLeaseStore();
    private final List<String> calls = new ArrayList<>();
    private final LeaseStore forwarding = new ForwardingLeaseStore(leases) {
        @Override
        protected void beforeCall(String name) {
            calls.add(name);
        }
    };

    @Test
    void passesEveryCallOnIncludingTheOnesWithDefaults() {
        assertThat(forwarding.provablyNeverExisted("a")).isTrue(); // the in-memory store's answer, not the default
        VersionedLease created = forwarding.createIfNeverExisted("a", record("x"));
        VersionedLease updated = forwarding.update("a", record("y"), created.version());
        forwarding.create("b", record("z"));
        List<Optional<VersionedLease>> seen = new ArrayList<>();
        Optional<LeaseStore.LeaseWatch> watch = forwarding.watch("a", new LeaseStore.LeaseWatcher() {
            @Override
            public void onChange(Optional<VersionedLease> lease) {
                seen.add(lease);
            }

            @Override
            public void onClose(Exception cause) {}
        });

        assertThat(forwarding.get("a")).contains(updated);
        assertThat(watch).isPresent();
        assertThat(forwarding.describe("a")).isEqualTo(leases.describe("a"));
        assertThat(calls).containsExactly("a", "a", "a", "b", "a", "a");
    }

    @Test
    void aCheckBeforeTheCallCanFailIt() {
        LeaseStore cut = new ForwardingLeaseStore(leases) {
            @Override
            protected void beforeCall(String name) {
                throw new LeaseStoreException(LeaseStoreException.Kind.UNAVAILABLE, "cut off");
            }
        };

        assertThatThrownBy(() -> cut.create("a", record("x"))).hasMessage("cut off");
        assertThat(leases.get("a")).isEmpty();
    }

    private static LeaseRecord record(String holder) {
        Instant now = Instant.parse("2026-11-29T10:00:00Z");
        return new LeaseRecord(holder, Duration.ofSeconds(15), now, now, 1L);
    }
}
