package dev.leaderpod.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.Presence;
import dev.leaderpod.core.PresenceStore;
import dev.leaderpod.core.PresenceStore.PresenceWatcher;
import dev.leaderpod.core.VersionedLease;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.Test;

/**
 * What every {@link PresenceStore} must do (docs/design.md, "Presence"), run against each store by a subclass, as
 * {@link LeaseStoreContractTest} is for leases. A subclass gives fresh, empty storage per test, with the presence of
 * the candidates of lease {@value #LEASE}, the presence of another lease's candidates and the election leases all on
 * it.
 */
public abstract class PresenceStoreContractTest {

    protected static final String LEASE = "billing";
    protected static final String OTHER_LEASE = "shipping";

    /** The presence of the candidates of {@value #LEASE}: the same instance throughout one test. */
    protected abstract PresenceStore store();

    /** Another candidate's store of the same group: another instance where candidates have their own, else the same. */
    protected PresenceStore anotherCandidatesStore() {
        return store();
    }

    /** The presence of the candidates of {@value #OTHER_LEASE}, on the same storage. */
    protected abstract PresenceStore anotherGroupsStore();

    /** The election leases, on the same storage. */
    protected abstract LeaseStore leaseStore();

    protected static Presence presence(String identity) {
        return Presence.of(identity, Set.of(LEASE), Map.of());
    }

    // --- announce

    @Test
    void announceCreatesTheAnnouncementWithAVersion() {
        Presence announced = store().announce(presence("candidate-a"));

        assertThat(announced.version()).isNotBlank();
        assertThat(announced.atVersion(null)).isEqualTo(presence("candidate-a"));
        assertThat(store().list()).containsExactly(announced);
        assertThat(anotherCandidatesStore().list()).containsExactly(announced);
    }

    @Test
    void announceAgainReplacesItWithANewVersionEachTime() {
        List<String> versions = new ArrayList<>();
        Presence last = null;
        for (int i = 0; i < 5; i++) {
            last = store().announce(Presence.of("candidate-a", Set.of(LEASE), Map.of("round", "r" + i)));
            versions.add(last.version());
        }

        assertThat(versions).doesNotHaveDuplicates();
        assertThat(anotherCandidatesStore().list()).containsExactly(last);
    }

    @Test
    void electionsAndMetadataRoundTrip() {
        Presence full = Presence.of(
                "candidate-a",
                Set.of(LEASE, LEASE + "-reports", LEASE + "-invoices.eu"),
                Map.of("version", "1.4.2", "ready", "true", "Note_1.x", " a = b, c: #1 \\ é\n\t日本 "));
        Presence bare = Presence.of("candidate-b", Set.of(), Map.of());

        Presence announcedFull = store().announce(full);
        Presence announcedBare = anotherCandidatesStore().announce(bare);

        assertThat(announcedFull.atVersion(null)).isEqualTo(full);
        assertThat(announcedBare.atVersion(null)).isEqualTo(bare);
        assertThat(anotherCandidatesStore().list()).containsExactlyInAnyOrder(announcedFull, announcedBare);
    }

    @Test
    void identitiesOfAnyCharactersRoundTrip() {
        List<Presence> announced = new ArrayList<>();
        for (String identity :
                List.of("Worker-1", "worker-1", "..", ".hidden", "a/b\\c:d", "é 日本 #1", "x".repeat(253))) {
            announced.add(store().announce(presence(identity)));
        }

        assertThat(anotherCandidatesStore().list()).containsExactlyInAnyOrderElementsOf(announced);
        for (Presence each : announced) {
            anotherCandidatesStore().remove(each.identity(), each.version());
        }
        assertThat(store().list()).isEmpty();
    }

    @Test
    void announcementsThatNotEveryStoreCanKeepAreRefusedAndNothingIsWritten() {
        assertThatThrownBy(
                        () -> store().announce(Presence.of("candidate-a", Set.of(LEASE), Map.of("app version", "1"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'app version'");
        assertThatThrownBy(() -> store().announce(Presence.of("candidate-a", Set.of("a,b"), Map.of())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'a,b'");
        assertThatThrownBy(() -> store().announce(Presence.of("candidate-a", Set.of(" billing"), Map.of())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("' billing'");
        assertThatThrownBy(() -> store().announce(presence("")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("identity");

        assertThat(store().list()).isEmpty();
    }

    // --- list

    @Test
    void listReturnsEveryCandidateOfTheGroupAndNoneOfAnother() {
        Presence a = store().announce(presence("candidate-a"));
        Presence b = anotherCandidatesStore().announce(presence("candidate-b"));
        Presence elsewhere = anotherGroupsStore().announce(Presence.of("candidate-a", Set.of(OTHER_LEASE), Map.of()));

        assertThat(store().list()).containsExactlyInAnyOrder(a, b);
        assertThat(anotherGroupsStore().list()).containsExactly(elsewhere);
    }

    @Test
    void listIsEmptyBeforeAnyAnnouncement() {
        assertThat(store().list()).isEmpty();
    }

    // --- remove

    @Test
    void removeAtTheCurrentVersionRemoves() {
        Presence a = store().announce(presence("candidate-a"));
        Presence b = store().announce(presence("candidate-b"));

        anotherCandidatesStore().remove("candidate-a", a.version());

        assertThat(store().list()).containsExactly(b);
    }

    @Test
    void removeAtAStaleVersionConflictsAndKeepsTheAnnouncement() {
        Presence first = store().announce(presence("candidate-a"));
        Presence renewed = store().announce(presence("candidate-a"));

        assertThatThrownBy(() -> anotherCandidatesStore().remove("candidate-a", first.version()))
                .isInstanceOf(LeaseConflictException.class)
                .extracting(e -> ((LeaseStoreException) e).kind())
                .isEqualTo(LeaseStoreException.Kind.CONFLICT);
        assertThat(store().list()).containsExactly(renewed);
    }

    @Test
    void removeOfAMissingAnnouncementDoesNothing() {
        Presence other = store().announce(presence("candidate-b"));

        anotherCandidatesStore().remove("candidate-a", other.version());
        anotherCandidatesStore().remove("candidate-a", "1");

        assertThat(store().list()).containsExactly(other);
    }

    @Test
    void removeTouchesNoOtherGroup() {
        Presence elsewhere = anotherGroupsStore().announce(presence("candidate-a"));

        store().remove("candidate-a", elsewhere.version());

        assertThat(anotherGroupsStore().list()).containsExactly(elsewhere);
    }

    @Test
    void anAnnouncementRemovedBySomeoneElseIsMadeAgainByTheNextAnnounce() {
        Presence before = store().announce(presence("candidate-a"));
        anotherCandidatesStore().remove("candidate-a", before.version());

        Presence again = store().announce(presence("candidate-a"));

        assertThat(anotherCandidatesStore().list()).containsExactly(again);
        assertThat(again.version()).isNotEqualTo(before.version());
        // A remover still holding the removed announcement's version cannot remove the new one.
        assertThatThrownBy(() -> anotherCandidatesStore().remove("candidate-a", before.version()))
                .isInstanceOf(LeaseConflictException.class);
        assertThat(store().list()).containsExactly(again);
    }

    // --- apart from the leases

    @Test
    void presenceNeverTouchesTheElectionLeasesNorListsThem() {
        LeaseRecord held = new LeaseRecord(
                "candidate-a",
                Duration.ofSeconds(15),
                Instant.parse("2024-05-01T10:15:30.123456Z"),
                Instant.parse("2024-05-01T10:15:32.654321Z"),
                3L,
                "BillingService");
        VersionedLease billing = leaseStore().create(LEASE, held);
        VersionedLease reports = leaseStore().create(LEASE + "-reports", held);

        Presence a = store().announce(presence("candidate-a"));
        Presence b = store().announce(presence("candidate-b"));
        store().remove("candidate-b", b.version());
        store().remove("candidate-c", a.version());

        assertThat(store().list()).containsExactly(a);
        assertThat(leaseStore().get(LEASE)).contains(billing);
        assertThat(leaseStore().get(LEASE + "-reports")).contains(reports);
        assertThat(leaseStore().update(LEASE, held, billing.version()).record()).isEqualTo(held);
        assertThat(store().list()).containsExactly(a);
    }

    // --- watch

    @Test
    void watchDeliversChangedAndRemovedAnnouncements() {
        RecordingWatcher watcher = new RecordingWatcher();
        Optional<LeaseWatch> watch = store().watch(watcher);
        assumeTrue(watch.isPresent(), "this store does not watch");
        try {
            Presence announced = anotherCandidatesStore().announce(presence("candidate-a"));
            watcher.await().untilAsserted(() -> assertThat(watcher.events).contains(announced));

            Presence renewed = anotherCandidatesStore()
                    .announce(Presence.of("candidate-a", Set.of(LEASE), Map.of("ready", "true")));
            watcher.await().untilAsserted(() -> assertThat(watcher.events).containsSubsequence(announced, renewed));

            anotherCandidatesStore().remove("candidate-a", renewed.version());
            watcher.await()
                    .untilAsserted(() ->
                            assertThat(watcher.events).containsSubsequence(announced, renewed, "removed candidate-a"));
            assertThat(watcher.closes).isEmpty();
        } finally {
            watch.get().close();
        }
    }

    @Test
    void watchSeesOnlyItsOwnGroup() {
        RecordingWatcher watcher = new RecordingWatcher();
        Optional<LeaseWatch> watch = store().watch(watcher);
        assumeTrue(watch.isPresent(), "this store does not watch");
        try {
            Presence elsewhere = anotherGroupsStore().announce(presence("candidate-b"));
            anotherGroupsStore().remove("candidate-b", elsewhere.version());
            Presence here = anotherCandidatesStore().announce(presence("candidate-a"));

            watcher.await().untilAsserted(() -> assertThat(watcher.events).contains(here));
            // Changes arrive in order, so anything of the other group would have come first.
            assertThat(watcher.events).containsExactly(here);
        } finally {
            watch.get().close();
        }
    }

    @Test
    void describeNamesTheLease() {
        assertThat(store().describe()).contains(LEASE);
    }

    /** Keeps what a watch reported: each announcement, and {@code "removed <identity>"}, in order. */
    protected static final class RecordingWatcher implements PresenceWatcher {
        public final List<Object> events = new CopyOnWriteArrayList<>();
        public final List<Exception> closes = new CopyOnWriteArrayList<>();

        @Override
        public void changed(Presence presence) {
            events.add(presence);
        }

        @Override
        public void removed(String identity) {
            events.add("removed " + identity);
        }

        @Override
        public void onClose(Exception cause) {
            closes.add(cause);
        }

        /** Waits for events, giving up at once if the watch closes. */
        public ConditionFactory await() {
            return Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .failFast("the watch closed", () -> assertThat(closes).isEmpty());
        }
    }
}
