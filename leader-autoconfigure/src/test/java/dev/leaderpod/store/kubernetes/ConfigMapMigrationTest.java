package dev.leaderpod.store.kubernetes;

import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.Candidacy;
import dev.leaderpod.core.ForwardingLeaseStore;
import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.VersionedLease;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The migration from spring-cloud-kubernetes' ConfigMap leader (docs/design.md, "Migration from the ConfigMap leader")
 * on the fabric8 mock API server: when a candidate stands, what the write that starts a term reads and writes, and its
 * races with the old pods. The old pods' records are written here as their code writes them (key
 * {@code leader.id.<role>} = pod name); {@code it.ConfigMapMigrationRollingUpgradeTest} runs their real code.
 */
class ConfigMapMigrationTest extends MigrationGround {

    private final AtomicInteger standingChanges = new AtomicInteger();

    ConfigMapMigrationTest() {
        super("migration-test");
    }

    @Override
    KubernetesMockServer server() {
        return PreconditionCrudDispatcher.server(new PreconditionCrudDispatcher());
    }

    @BeforeEach
    void newPod() {
        pod("new-1");
    }

    @Test
    void aCandidateDoesNotStandWhileTheConfigMapNamesAnOldLeaderWhosePodExists() {
        pod("old-1");
        oldPodWrites("old-1");
        ConfigMapMigration migration = started("new-1", "new-1-abcde");
        Candidacy candidacy = migration.candidacy(Candidacy.EAGER);

        await().atMost(Duration.ofSeconds(10))
                .until(() -> migration.blocker().isPresent()
                        && migration.blocker().get().contains("names old-1"));
        assertThat(candidacy.standing()).isFalse();

        client.pods().withName("old-1").delete(); // the old leader's process has ended
        await().atMost(Duration.ofSeconds(10)).until(candidacy::standing);
        assertThat(standingChanges.get()).isPositive();
    }

    @Test
    void theWriteThatStartsATermClaimsTheConfigMapForThisPodKeepingOtherKeys() {
        client.configMaps()
                .resource(new ConfigMapBuilder()
                        .withNewMetadata()
                        .withName("leaders")
                        .endMetadata()
                        .addToData("leader.id.reports", "old-9")
                        .build())
                .create();
        ConfigMapMigration migration = started("new-1", "new-1-abcde");
        seenFreeForARetryPeriod(migration);
        LeaseStore store = migration.store(leases);

        store.create(LEASE, held("new-1-abcde"));

        ConfigMap configMap = configMap();
        assertThat(configMap.getData())
                .containsEntry(KEY, "new-1")
                .containsEntry("leaderpod.dev.holder.billing", "new-1/new-1-abcde")
                .containsEntry("leader.id.reports", "old-9");
    }

    @Test
    void aMissingConfigMapIsCreatedAsTheOldPodsCreateIt() {
        ConfigMapMigration migration = started("new-1", "new-1-abcde");
        seenFreeForARetryPeriod(migration);

        migration.store(leases).create(LEASE, held("new-1-abcde"));

        ConfigMap configMap = configMap();
        assertThat(configMap.getData()).containsEntry(KEY, "new-1");
        assertThat(configMap.getMetadata().getLabels())
                .containsEntry("provider", "spring-cloud-kubernetes")
                .containsEntry("kind", "leaders");
    }

    @Test
    void aTermDoesNotStartWhileALiveOldLeaderIsNamedAndTheLeaseIsNotWritten() {
        pod("old-1");
        oldPodWrites("old-1");
        ConfigMapMigration migration = started("new-1", "new-1-abcde");

        assertThatThrownBy(() -> migration.store(leases).create(LEASE, held("new-1-abcde")))
                .isInstanceOf(LeaseConflictException.class)
                .hasMessageContaining("names old-1");

        assertThat(leases.get(LEASE)).isEmpty();
        assertThat(configMap().getData()).containsEntry(KEY, "old-1");
    }

    @Test
    void anOldPodThatClaimsTheConfigMapBetweenTheReadAndTheClaimWinsAndNoTermStarts() {
        pod("old-2");
        ConfigMapMigration migration = started("new-1", "new-1-abcde");
        seenFreeForARetryPeriod(migration);
        // The Lease write runs between the migration's read of the ConfigMap and its claim: an old pod acquires then.
        LeaseStore racing = new ForwardingLeaseStore(leases) {
            @Override
            public VersionedLease create(String name, LeaseRecord record) {
                VersionedLease created = super.create(name, record);
                oldPodWrites("old-2");
                return created;
            }
        };

        assertThatThrownBy(() -> migration.store(racing).create(LEASE, held("new-1-abcde")))
                .isInstanceOf(LeaseConflictException.class)
                .hasMessageContaining("names old-2");

        assertThat(configMap().getData()).containsEntry(KEY, "old-2").doesNotContainKey("leaderpod.dev.holder.billing");
        assertThat(migration.candidacy(Candidacy.EAGER).standing()).isFalse();
    }

    @Test
    void anEntryAnotherNewCandidateWroteIsLeftToTheLease() {
        pod("new-2");
        client.configMaps()
                .resource(new ConfigMapBuilder()
                        .withNewMetadata()
                        .withName("leaders")
                        .endMetadata()
                        .addToData(KEY, "new-2")
                        .addToData("leaderpod.dev.holder.billing", "new-2/new-2-xyz")
                        .build())
                .create();
        ConfigMapMigration migration = started("new-1", "new-1-abcde");

        await().atMost(Duration.ofSeconds(10)).until(() -> migration.blocker().isEmpty());
        migration.store(leases).create(LEASE, held("new-1-abcde")); // the Lease said it may: it takes the record over

        assertThat(configMap().getData())
                .containsEntry(KEY, "new-1")
                .containsEntry("leaderpod.dev.holder.billing", "new-1/new-1-abcde");
    }

    @Test
    void anOldPodNamedWithOurKeyLeftBehindIsStillAnOldLeader() {
        // An old pod overwrote the leader key of an entry one of ours wrote: our key names another pod.
        pod("old-1");
        client.configMaps()
                .resource(new ConfigMapBuilder()
                        .withNewMetadata()
                        .withName("leaders")
                        .endMetadata()
                        .addToData(KEY, "old-1")
                        .addToData("leaderpod.dev.holder.billing", "new-2/new-2-xyz")
                        .build())
                .create();
        ConfigMapMigration migration = started("new-1", "new-1-abcde");

        await().atMost(Duration.ofSeconds(10))
                .until(() -> migration
                        .blocker()
                        .filter(why -> why.contains("names old-1"))
                        .isPresent());
    }

    @Test
    void afterAnOldLeaderRemovedItsNameNewCandidatesWaitForItsPodToEnd() {
        pod("old-1");
        oldPodWrites("old-1");
        ConfigMapMigration migration = started("new-1", "new-1-abcde");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> migration.blocker().isPresent()
                        && migration.blocker().get().contains("names old-1"));

        // The old code's revoke: the name goes first, its own revocation comes after.
        ConfigMap configMap = configMap();
        configMap.getData().remove(KEY);
        client.configMaps().resource(configMap).update();

        await().atMost(Duration.ofSeconds(10))
                .until(() -> migration.blocker().isPresent()
                        && migration.blocker().get().contains("removed its name"));
        assertThatThrownBy(() -> migration.store(leases).create(LEASE, held("new-1-abcde")))
                .isInstanceOf(LeaseConflictException.class);

        client.pods().withName("old-1").delete();
        await().atMost(Duration.ofSeconds(10)).until(() -> migration.blocker().isEmpty());
    }

    @Test
    void theWaitForAnOldLeaderThatRemovedItsNameEndsAfterTheGraceEvenIfItsPodStays() {
        pod("old-1");
        oldPodWrites("old-1");
        ConfigMapMigration migration = started("new-1", "new-1-abcde");
        await().atMost(Duration.ofSeconds(10)).until(() -> migration.blocker().isPresent());
        ConfigMap configMap = configMap();
        configMap.getData().remove(KEY);
        client.configMaps().resource(configMap).update();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> migration
                        .blocker()
                        .filter(why -> why.contains("removed its name"))
                        .isPresent());

        now.addAndGet(RETRY.toNanos()); // the grace, a retry period, has passed on the migration's clock

        await().atMost(Duration.ofSeconds(10)).until(() -> migration.blocker().isEmpty());
    }

    @Test
    void aCandidateWhosePodDoesNotExistNeverStandsAndSaysWhy() {
        ConfigMapMigration migration = started("not-a-pod", "not-a-pod-abcde");

        await().atMost(Duration.ofSeconds(10))
                .until(() -> migration
                        .blocker()
                        .filter(why -> why.contains("pod not-a-pod does not exist") && why.contains("POD_NAME"))
                        .isPresent());
        assertThatThrownBy(() -> migration.store(leases).create(LEASE, held("not-a-pod-abcde")))
                .isInstanceOf(LeaseConflictException.class);
        assertThat(leases.get(LEASE)).isEmpty();
    }

    @Test
    void aLeaderWhoseConfigMapEntryAnOldPodTookStopsStanding() {
        ConfigMapMigration migration = started("new-1", "new-1-abcde");
        seenFreeForARetryPeriod(migration);
        migration.store(leases).create(LEASE, held("new-1-abcde"));
        await().atMost(Duration.ofSeconds(10)).until(() -> migration.blocker().isEmpty());
        int before = standingChanges.get();

        pod("old-1");
        oldPodWrites("old-1"); // the old pods saw this pod not Ready, and one took over

        await().atMost(Duration.ofSeconds(10)).until(() -> migration.blocker().isPresent());
        assertThat(standingChanges.get()).isGreaterThan(before);
        assertThat(migration.candidacy(Candidacy.EAGER).standing()).isFalse();
    }

    @Test
    void aRenewReadsTheRecordAgainSoALeaderWhoseEntryAnOldPodTookStopsStandingEvenWithoutTheWatch() {
        // Not started: no watch, no periodic read; only the writes read the record.
        ConfigMapMigration migration = new ConfigMapMigration(
                new ConfigMapLeaders(client, RECORD, NAMESPACE, Duration.ofSeconds(5)),
                "new-1",
                "new-1-abcde",
                runtime,
                RETRY,
                Duration.ofSeconds(1),
                Duration.ofSeconds(5),
                now::get);
        toClose.add(migration);
        LeaseStore store = migration.store(leases);
        LeaseRecord term = held("new-1-abcde");
        assertThatThrownBy(() -> store.create(LEASE, term)) // the record names nobody: left alone a retry period
                .isInstanceOf(LeaseConflictException.class)
                .hasMessageContaining("names no leader");
        now.addAndGet(RETRY.toNanos());
        VersionedLease created = store.create(LEASE, term);
        assertThat(migration.blocker()).isEmpty();
        pod("old-1");
        oldPodWrites("old-1");

        store.update(LEASE, term, created.version()); // a renew of the same term

        assertThat(migration.blocker()).get(as(STRING)).contains("names old-1");
    }

    @Test
    void releasesAndOtherCandidatesWritesPassThroughUnchecked() {
        pod("old-1");
        oldPodWrites("old-1");
        ConfigMapMigration migration = started("new-1", "new-1-abcde");

        VersionedLease other = migration.store(leases).create(LEASE, held("someone-else"));
        migration.store(leases).update(LEASE, released(), other.version());

        assertThat(configMap().getData()).containsEntry(KEY, "old-1");
    }

    // --- fixtures

    private ConfigMapMigration started(String pod, String identity) {
        return started(pod, identity, Duration.ofSeconds(5), standingChanges::incrementAndGet);
    }

    /**
     * Waits until the migration has judged the free record, then moves its clock a retry period on: a record that
     * names nobody is left alone that long (an old leader that removed its name may still be stopping).
     */
    private void seenFreeForARetryPeriod(ConfigMapMigration migration) {
        await().atMost(Duration.ofSeconds(10))
                .until(() -> migration
                        .blocker()
                        .filter(why -> why.contains("names no leader"))
                        .isPresent());
        now.addAndGet(RETRY.toNanos());
        await().atMost(Duration.ofSeconds(10)).until(() -> migration.blocker().isEmpty());
    }

    private static LeaseRecord released() {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        return new LeaseRecord("", Duration.ofSeconds(1), now, now, 1L);
    }

    private void pod(String name) {
        pod(name, true);
    }
}
