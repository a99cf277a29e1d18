package dev.leaderpod.benchmarks.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStoreException;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class FaultyLeaseStoreTest {

    private final InMemoryLeaseStore real = new InMemoryLeaseStore();
    private final Faults faults = new Faults(1);
    private final FaultyLeaseStore store = new FaultyLeaseStore(real, faults);

    private static LeaseRecord held(String holder) {
        return new LeaseRecord(holder, Duration.ofSeconds(3), Instant.EPOCH, Instant.EPOCH, 1L);
    }

    @Test
    void anErrorBeforeTheCallKeepsTheRequestFromLeavingAndIsThrownOnce() {
        OutOfMemoryError error = new OutOfMemoryError("injected");
        faults.throwOnNextCall(error, false);

        assertThatThrownBy(() -> store.create("lease", held("a"))).isSameAs(error);
        assertThat(real.get("lease")).isEmpty();
        assertThat(store.create("lease", held("a")).record().holderIdentity()).isEqualTo("a");
    }

    @Test
    void anErrorAfterTheCallComesWithTheWriteDone() {
        faults.throwOnNextCall(new StackOverflowError(), true);

        assertThatThrownBy(() -> store.create("lease", held("a"))).isInstanceOf(StackOverflowError.class);
        assertThat(real.get("lease")).isPresent();
    }

    @Test
    void aKilledStoreReachesNothingAnyMoreWhileItsSlotsFaultsServeTheNextGeneration() {
        store.kill();

        assertThatThrownBy(() -> store.create("lease", held("a")))
                .isInstanceOfSatisfying(
                        LeaseStoreException.class,
                        e -> assertThat(e.kind()).isEqualTo(LeaseStoreException.Kind.UNAVAILABLE));
        assertThat(real.get("lease")).isEmpty();
        assertThat(new FaultyLeaseStore(real, faults)
                        .create("lease", held("b"))
                        .record()
                        .holderIdentity())
                .isEqualTo("b");
    }

    @Test
    void anOutageFailsEveryCallUntilHealed() {
        faults.outage(true);

        assertThatThrownBy(() -> store.get("lease")).isInstanceOf(LeaseStoreException.class);
        faults.heal();
        assertThat(store.get("lease")).isEmpty();
    }
}
