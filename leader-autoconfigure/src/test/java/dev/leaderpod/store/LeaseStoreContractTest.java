package dev.leaderpod.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStore.LeaseWatcher;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.VersionedLease;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.Test;

/**
 * What every {@link LeaseStore} must do, run against each store by a subclass (as ShedLock's
 * {@code AbstractLockProviderIntegrationTest}). A subclass gives a fresh, empty store per test.
 *
 * <p>Times in the records have microsecond precision, the finest a Kubernetes Lease keeps, and durations are whole
 * seconds, so every store must give them back unchanged.
 */
public abstract class LeaseStoreContractTest {

    protected static final String NAME = "billing";
    protected static final int CANDIDATES = 8;

    protected static final LeaseRecord HELD_BY_A = new LeaseRecord(
            "candidate-a",
            Duration.ofSeconds(15),
            Instant.parse("2024-05-01T10:15:30.123456Z"),
            Instant.parse("2024-05-01T10:15:32.654321Z"),
            3L);

    /** The store under test: the same instance throughout one test, empty at its start. */
    protected abstract LeaseStore store();

    /**
     * Another store on the same storage, as another candidate would have: another instance where that is how
     * candidates share a store, else the same one.
     */
    protected LeaseStore anotherCandidatesStore() {
        return store();
    }

    protected static LeaseRecord heldBy(String holder, long transitions) {
        return new LeaseRecord(
                holder,
                Duration.ofSeconds(10),
                Instant.parse("2024-05-01T11:00:00Z"),
                Instant.parse("2024-05-01T11:00:00Z").plusSeconds(transitions),
                transitions);
    }

    @Test
    void getReturnsEmptyWhenAbsent() {
        assertThat(store().get(NAME)).isEmpty();
    }

    @Test
    void createThenGetRoundTripsAllFields() {
        VersionedLease created = store().create(NAME, HELD_BY_A);

        assertThat(created.record()).isEqualTo(HELD_BY_A);
        assertThat(created.version()).isNotBlank();
        assertThat(store().get(NAME)).contains(created);
        assertThat(anotherCandidatesStore().get(NAME)).contains(created);
    }

    @Test
    void createThenGetRoundTripsNullFields() {
        LeaseRecord empty = new LeaseRecord(null, null, null, null, null);

        VersionedLease created = store().create(NAME, empty);

        assertThat(created.record()).isEqualTo(empty);
        assertThat(store().get(NAME)).contains(created);
    }

    @Test
    void theApplicationRoundTrips() {
        LeaseRecord owned = new LeaseRecord(
                "candidate-a",
                Duration.ofSeconds(15),
                Instant.parse("2024-05-01T10:15:30.123456Z"),
                Instant.parse("2024-05-01T10:15:32.654321Z"),
                3L,
                "BillingService");

        VersionedLease created = store().create(NAME, owned);
        VersionedLease updated = store().update(NAME, heldByFor("candidate-b", 4, "BillingService"), created.version());

        assertThat(created.record()).isEqualTo(owned);
        assertThat(anotherCandidatesStore().get(NAME))
                .map(VersionedLease::record)
                .contains(updated.record());
        assertThat(updated.record().application()).isEqualTo("BillingService");
    }

    @Test
    void fencingTokensBeyondThirtyTwoBitsRoundTrip() {
        long beyondInt = Integer.MAX_VALUE + 5L;

        VersionedLease created = store().create(NAME, heldBy("candidate-a", beyondInt));
        VersionedLease updated = store().update(NAME, heldBy("candidate-b", beyondInt + 1), created.version());

        assertThat(created.record().leaseTransitions()).isEqualTo(beyondInt);
        assertThat(anotherCandidatesStore().get(NAME))
                .map(lease -> lease.record().leaseTransitions())
                .contains(beyondInt + 1);
        assertThat(updated.record().leaseTransitions()).isEqualTo(beyondInt + 1);
    }

    @Test
    void aReleasesSuccessorRoundTripsAndTheNextWriteWithoutOneClearsIt() {
        VersionedLease held = store().create(NAME, heldByFor("candidate-a", 3, "BillingService"));
        LeaseRecord release = new LeaseRecord(
                "",
                Duration.ofSeconds(1),
                held.record().acquireTime(),
                held.record().renewTime(),
                3L,
                "BillingService",
                "candidate-b");

        VersionedLease released = store().update(NAME, release, held.version());
        VersionedLease seen = anotherCandidatesStore().get(NAME).orElseThrow();
        // On top of the release, as a store that keeps the objects it wrote writes it.
        VersionedLease taken = store().update(NAME, heldByFor("candidate-b", 4, "BillingService"), released.version());

        assertThat(released.record()).isEqualTo(release);
        assertThat(seen).isEqualTo(released);
        assertThat(taken.record().successor()).isNull();
        assertThat(anotherCandidatesStore().get(NAME).orElseThrow().record().successor())
                .isNull();
    }

    protected static LeaseRecord heldByFor(String holder, long transitions, String application) {
        LeaseRecord record = heldBy(holder, transitions);
        return new LeaseRecord(
                record.holderIdentity(),
                record.leaseDuration(),
                record.acquireTime(),
                record.renewTime(),
                record.leaseTransitions(),
                application);
    }

    @Test
    void createTwiceConflicts() {
        VersionedLease first = store().create(NAME, HELD_BY_A);

        assertThatThrownBy(() -> anotherCandidatesStore().create(NAME, heldBy("candidate-b", 4)))
                .isInstanceOf(LeaseConflictException.class)
                .extracting(e -> ((LeaseStoreException) e).kind())
                .isEqualTo(LeaseStoreException.Kind.CONFLICT);
        assertThat(store().get(NAME)).contains(first);
    }

    @Test
    void updateWithCurrentVersionSucceedsAndChangesVersion() {
        VersionedLease created = store().create(NAME, HELD_BY_A);
        LeaseRecord renewed = heldBy("candidate-a", 3);

        VersionedLease updated = store().update(NAME, renewed, created.version());

        assertThat(updated.record()).isEqualTo(renewed);
        assertThat(updated.version()).isNotEqualTo(created.version());
        assertThat(store().get(NAME)).contains(updated);
        assertThat(anotherCandidatesStore().get(NAME)).contains(updated);
    }

    @Test
    void everyUpdateGivesANewVersion() {
        VersionedLease lease = store().create(NAME, heldBy("candidate-a", 0));
        List<String> versions = new ArrayList<>(List.of(lease.version()));

        for (int i = 1; i <= 5; i++) {
            lease = store().update(NAME, heldBy("candidate-a", i), lease.version());
            versions.add(lease.version());
        }

        assertThat(versions).doesNotHaveDuplicates();
        assertThat(store().get(NAME)).contains(lease);
    }

    @Test
    void updateWithStaleVersionConflicts() {
        VersionedLease created = store().create(NAME, HELD_BY_A);
        VersionedLease renewed = store().update(NAME, heldBy("candidate-a", 3), created.version());

        assertThatThrownBy(() -> anotherCandidatesStore().update(NAME, heldBy("candidate-b", 4), created.version()))
                .isInstanceOf(LeaseConflictException.class);
        assertThat(store().get(NAME)).contains(renewed);
    }

    @Test
    void updateOfMissingLeaseConflicts() {
        VersionedLease other = store().create("other", HELD_BY_A);

        assertThatThrownBy(() -> store().update(NAME, HELD_BY_A, other.version()))
                .isInstanceOf(LeaseConflictException.class);
        assertThat(store().get(NAME)).isEmpty();
    }

    @Test
    void leasesAreIndependentByName() {
        VersionedLease billing = store().create(NAME, heldBy("candidate-a", 1));
        VersionedLease reports = store().create("reports", heldBy("candidate-b", 7));

        VersionedLease renewed = store().update(NAME, heldBy("candidate-a", 2), billing.version());

        assertThat(store().get("reports")).contains(reports);
        assertThat(store().get(NAME)).contains(renewed);
        assertThat(store().get("absent")).isEmpty();
    }

    @Test
    void concurrentCreatesHaveExactlyOneWinner() throws Exception {
        List<Outcome> outcomes = race(candidate -> anotherCandidatesStore().create(NAME, heldBy(candidate, 1)));

        List<VersionedLease> winners = winners(outcomes);
        assertThat(winners).hasSize(1);
        assertThat(outcomes)
                .filteredOn(outcome -> outcome.failure() != null)
                .allSatisfy(outcome -> assertThat(outcome.failure()).isInstanceOf(LeaseConflictException.class))
                .hasSize(CANDIDATES - 1);
        assertThat(store().get(NAME)).contains(winners.get(0));
    }

    @Test
    void concurrentUpdatesWithSameVersionHaveExactlyOneWinner() throws Exception {
        VersionedLease expired = store().create(NAME, HELD_BY_A);

        List<Outcome> outcomes =
                race(candidate -> anotherCandidatesStore().update(NAME, heldBy(candidate, 4), expired.version()));

        List<VersionedLease> winners = winners(outcomes);
        assertThat(winners).hasSize(1);
        assertThat(outcomes)
                .filteredOn(outcome -> outcome.failure() != null)
                .allSatisfy(outcome -> assertThat(outcome.failure()).isInstanceOf(LeaseConflictException.class))
                .hasSize(CANDIDATES - 1);
        assertThat(store().get(NAME)).contains(winners.get(0));
    }

    @Test
    void watchDeliversChanges() {
        RecordingWatcher watcher = new RecordingWatcher();
        Optional<LeaseWatch> watch = store().watch(NAME, watcher);
        assumeTrue(watch.isPresent(), "this store does not watch");
        try {
            VersionedLease created = anotherCandidatesStore().create(NAME, HELD_BY_A);
            watcher.await().untilAsserted(() -> assertThat(watcher.changes).contains(Optional.of(created)));

            VersionedLease renewed = anotherCandidatesStore().update(NAME, heldBy("candidate-a", 3), created.version());
            watcher.await()
                    .untilAsserted(() -> assertThat(watcher.changes)
                            .containsSubsequence(Optional.of(created), Optional.of(renewed)));
            assertThat(watcher.closes).isEmpty();
        } finally {
            watch.get().close();
        }
    }

    @Test
    void watchSeesOnlyItsOwnLease() {
        RecordingWatcher watcher = new RecordingWatcher();
        Optional<LeaseWatch> watch = store().watch(NAME, watcher);
        assumeTrue(watch.isPresent(), "this store does not watch");
        try {
            anotherCandidatesStore().create("reports", heldBy("candidate-b", 1));
            VersionedLease billing = anotherCandidatesStore().create(NAME, HELD_BY_A);

            watcher.await().untilAsserted(() -> assertThat(watcher.changes).contains(Optional.of(billing)));
            // Changes arrive in order, so anything about "reports" would have come before billing's creation.
            assertThat(watcher.changes).containsOnly(Optional.of(billing));
        } finally {
            watch.get().close();
        }
    }

    @Test
    void describeNamesTheLease() {
        assertThat(store().describe(NAME)).contains(NAME);
    }

    // --- helpers

    /** A call's result or failure. */
    protected record Outcome(VersionedLease lease, Throwable failure) {}

    /** Runs {@link #CANDIDATES} calls, one per thread, released together, and returns how each ended. */
    protected static List<Outcome> race(Function<String, VersionedLease> call) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(CANDIDATES);
        try {
            CountDownLatch ready = new CountDownLatch(CANDIDATES);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Outcome>> futures = new ArrayList<>();
            for (int i = 0; i < CANDIDATES; i++) {
                String candidate = "candidate-" + i;
                futures.add(threads.submit(() -> {
                    ready.countDown();
                    go.await();
                    try {
                        return new Outcome(call.apply(candidate), null);
                    } catch (RuntimeException e) {
                        return new Outcome(null, e);
                    }
                }));
            }
            assertThat(ready.await(10, TimeUnit.SECONDS)).isTrue();
            go.countDown();
            List<Outcome> outcomes = new ArrayList<>();
            for (Future<Outcome> future : futures) {
                outcomes.add(future.get(10, TimeUnit.SECONDS));
            }
            return outcomes;
        } finally {
            threads.shutdownNow();
        }
    }

    private static List<VersionedLease> winners(List<Outcome> outcomes) {
        List<VersionedLease> winners = outcomes.stream()
                .filter(outcome -> outcome.failure() == null)
                .map(Outcome::lease)
                .toList();
        assertThat(new HashSet<>(winners)).hasSameSizeAs(winners);
        return winners;
    }

    /** Keeps what a watch reported. */
    protected static final class RecordingWatcher implements LeaseWatcher {
        public final List<Optional<VersionedLease>> changes = new CopyOnWriteArrayList<>();
        public final List<Exception> closes = new CopyOnWriteArrayList<>();

        @Override
        public void onChange(Optional<VersionedLease> lease) {
            changes.add(lease);
        }

        @Override
        public void onClose(Exception cause) {
            closes.add(cause);
        }

        /** Waits for changes, giving up at once if the watch closes. */
        public ConditionFactory await() {
            return Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .failFast("the watch closed", () -> assertThat(closes).isEmpty());
        }
    }
}
