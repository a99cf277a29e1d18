package dev.leaderpod.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.Candidacy;
import dev.leaderpod.core.ElectionRuntime;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.RevocationReason;
import dev.leaderpod.core.VersionedLease;
import dev.leaderpod.store.kubernetes.ConfigMapLeaderRecord;
import dev.leaderpod.store.kubernetes.ConfigMapMigration;
import dev.leaderpod.store.kubernetes.KubernetesLeaseStore;
import dev.leaderpod.store.kubernetes.OldPodsWorld;
import dev.leaderpod.store.kubernetes.PreconditionCrudDispatcher;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * Attacks on {@code leader.migration.config-map=true} where the old pods' reaction is what makes the harm: the real
 * spring-cloud-kubernetes-fabric8-leader 3.3.0 code ({@link OldConfigMapPod}) for the old pods, the migration and the
 * elector for the new ones, on the fabric8 mock API server in CRUD mode. {@code
 * store.kubernetes.ConfigMapMigrationAttackTest} has the attacks that need no old code.
 *
 * <p>Each test failed on the code as first written and holds since its fix.
 */
class ConfigMapMigrationAttackITTest {

    private static final String NAMESPACE = "test";
    private static final String LEASE = "billing";
    private static final String ROLE = "billing-jobs";
    private static final String CONFIG_MAP = "billing-leaders";
    private static final String KEY = "leader.id." + ROLE;
    private static final String HOLDER_KEY = "leaderpod.dev.holder." + ROLE;
    private static final ConfigMapLeaderRecord RECORD =
            new ConfigMapLeaderRecord(NAMESPACE, CONFIG_MAP, ROLE, "leader.id.", true);
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final ConfigMapMigrationRollingUpgradeTest.Timeline timeline =
            new ConfigMapMigrationRollingUpgradeTest.Timeline();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private KubernetesMockServer server;
    private KubernetesClient admin;
    private KubernetesClient client;
    private KubernetesLeaseStore leases;
    private ElectionRuntime runtime;

    @BeforeEach
    void start() {
        server = PreconditionCrudDispatcher.server(new PreconditionCrudDispatcher());
        toClose.add(server::destroy);
        admin = server.createClient();
        toClose.add(admin);
        client = server.createClient();
        toClose.add(client);
        leases = new KubernetesLeaseStore(client, NAMESPACE, Duration.ofSeconds(5));
        toClose.add(leases);
        runtime = ElectionRuntime.create("migration-attack-it");
        toClose.add(runtime);
    }

    @AfterEach
    void stop(TestInfo test) throws Exception {
        System.out.printf("[migration attack] %s%n%s", test.getDisplayName(), timeline.report());
        for (int i = toClose.size() - 1; i >= 0; i--) {
            try {
                toClose.get(i).close();
            } catch (Exception | AssertionError e) {
                System.out.printf("Teardown failed: %s%n", e);
            }
        }
    }

    /**
     * A StatefulSet reuses pod names. The new leader {@code app-2} wrote the record (its name and our key naming it),
     * then died without releasing (killed, out of memory, its stop timed out). A rollback recreates Pod {@code app-2}
     * from the old template: the old code reads its own name in the record while its Pod is Ready and is granted
     * leadership without writing anything. The new candidates still take the entry for one of ours (our key names the
     * same pod name) and take the Lease and the record once the Lease expires: two leaders until the old pod's watch
     * tells it (and if its watch is broken, until its update period, 60 s).
     */
    @Test
    void anOldPodRecreatedUnderTheNameOfADeadNewLeaderIsNotTakenForOneOfOurs() {
        createPod("app-1", true);
        createPod("app-2", true);
        ConfigMapMigration newApp2 = migration("app-2", "app-2-aaaaa");
        newApp2.start(() -> {}); // the record names nobody: it stands once it has seen that for a retry period
        await().atMost(WAIT).until(() -> newApp2.blocker().isEmpty());
        newApp2.store(leases).create(LEASE, held("app-2-aaaaa")); // the new app-2 leads: the record names it
        assertThat(admin.configMaps().withName(CONFIG_MAP).get().getData())
                .containsEntry(KEY, "app-2")
                .containsEntry(HOLDER_KEY, "app-2/app-2-aaaaa");
        newApp2.close(); // killed: no release, the Lease expires in its own time

        step("Pod app-2 recreated from the old template (a StatefulSet rollback)");
        admin.pods().withName("app-2").delete();
        await().atMost(WAIT).until(() -> admin.pods().withName("app-2").get() == null);
        createPod("app-2", true);
        OldConfigMapPod oldApp2 = startOld("app-2");
        await("the old app-2 leads: it found its own name").atMost(WAIT).until(oldApp2::isLeader);

        ConfigMapMigration newApp1 = migration("app-1", "app-1-bbbbb");
        newApp1.start(() -> {});
        await().atMost(WAIT)
                .until(() -> newApp1.blocker()
                        .map(why -> !why.contains("has not been read yet"))
                        .orElse(true));

        Optional<String> blocker = newApp1.blocker();
        // Once the dead app-2's Lease has expired, app-1's elector takes it: the write that starts its term.
        boolean oldLeadsBefore = oldApp2.isLeader();
        VersionedLease dead = leases.get(LEASE).orElseThrow();
        Throwable refused =
                catchThrowable(() -> newApp1.store(leases).update(LEASE, held("app-1-bbbbb"), dead.version()));

        assertThat(oldLeadsBefore).isTrue();
        SoftAssertions.assertSoftly(softly -> {
            softly.assertThat(blocker)
                    .as("app-1 stands while the old pod app-2 leads")
                    .isPresent();
            softly.assertThat(refused)
                    .as("app-1's term started (Lease and record written) while the old app-2 led")
                    .isInstanceOf(LeaseConflictException.class);
        });
    }

    /**
     * The old pods follow the pod the record names only while it is Ready. A new candidate that stands before the
     * kubelet marks its Pod Ready (readiness probe not passed yet; or {@code leader.follow-readiness=false}) takes a
     * released Lease and claims the record; every old pod that sees the claim takes the record from it at once (scl's
     * controller: the leader's Pod is not Ready, so acquire) and is granted, while the new candidate's term starts.
     */
    @Test
    void aNewCandidateWhosePodIsNotReadyYetMakesTheOldPodsTakeOverTheMomentItClaims() {
        createPod("new-0", true);
        admin.configMaps()
                .resource(new ConfigMapBuilder()
                        .withNewMetadata()
                        .withName(CONFIG_MAP)
                        .endMetadata()
                        .addToData(KEY, "new-0")
                        .addToData(HOLDER_KEY, "new-0/new-0-xyz")
                        .build())
                .create(); // new-0 led, then released the Lease (it is stopping; its Pod is still Ready)
        new OldPodsWorld(admin, KEY).releasedLease(LEASE);
        createPod("old-1", true);
        OldConfigMapPod old1 = startOld("old-1");
        await("old-1 follows new-0").atMost(WAIT).until(() -> "new-0".equals(old1.follows()));

        step("new-1 starts: its application stands, its Pod is not Ready yet");
        createPod("new-1", false);
        newCandidate("new-1", "new-1-abcde");

        await("old-1 never takes the record because of new-1")
                .during(Duration.ofSeconds(3))
                .atMost(WAIT)
                .until(() -> !old1.isLeader());
        assertThat(timeline.violations())
                .as("two leaders at once%n%s", timeline.report())
                .isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Fixtures

    private ConfigMapMigration migration(String pod, String identity) {
        ConfigMapMigration migration = new ConfigMapMigration(
                client,
                RECORD,
                NAMESPACE,
                pod,
                identity,
                runtime,
                Duration.ofMillis(500),
                Duration.ofSeconds(2),
                Duration.ofSeconds(2));
        toClose.add(migration);
        return migration;
    }

    /** A new pod's default election: an elector over the migration, its grants and revocations on the timeline. */
    private LeaseElector newCandidate(String pod, String identity) {
        ElectionSettings settings = new ElectionSettings(
                LEASE,
                identity,
                Duration.ofSeconds(2),
                Duration.ofMillis(1500),
                Duration.ofMillis(500),
                Duration.ofMillis(500));
        ConfigMapMigration migration = migration(pod, identity);
        LeaseElector elector = LeaseElector.builder(settings, migration.store(leases))
                .runtime(runtime)
                .candidacy(migration.candidacy(Candidacy.EAGER))
                .listener(new LeadershipListener() {
                    @Override
                    public void onStartedLeading(LeadershipTerm term) {
                        timeline.record(pod, true);
                    }

                    @Override
                    public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
                        timeline.record(pod, false);
                    }
                })
                .build();
        migration.start(elector::standingChanged);
        elector.start();
        toClose.add(() -> elector.stop(Duration.ofSeconds(2)));
        return elector;
    }

    private OldConfigMapPod startOld(String name) {
        OldConfigMapPod pod = new OldConfigMapPod(server, name, ROLE, CONFIG_MAP, timeline);
        toClose.add(pod::stop);
        pod.start();
        return pod;
    }

    private void createPod(String name, boolean ready) {
        new OldPodsWorld(admin, KEY).pod(name, ready);
        assertThat(admin.pods().withName(name).isReady()).isEqualTo(ready);
    }

    private void step(String label) {
        timeline.step(label);
        System.out.printf("[migration attack] %s%n", label);
    }

    private static LeaseRecord held(String identity) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        return new LeaseRecord(identity, Duration.ofSeconds(15), now, now, 1L);
    }
}
