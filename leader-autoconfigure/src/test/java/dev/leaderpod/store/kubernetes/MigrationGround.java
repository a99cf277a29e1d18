package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.ElectionRuntime;
import dev.leaderpod.core.LeaseRecord;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * The ground of the ConfigMap migration's tests ({@code ConfigMapMigrationTest}, {@code ConfigMapMigrationAttackTest}):
 * a mock API server, the old pods' world on it, our Lease store, an election runtime, and migrations of the role
 * {@code billing} started on them, all closed after each test in the reverse order of their creation.
 */
abstract class MigrationGround {

    static final String NAMESPACE = "test";
    static final String LEASE = "billing";
    static final String KEY = "leader.id.billing";
    static final ConfigMapLeaderRecord RECORD =
            new ConfigMapLeaderRecord(NAMESPACE, "leaders", "billing", "leader.id.", true);
    static final Duration RETRY = Duration.ofMillis(200);

    final List<AutoCloseable> toClose = new ArrayList<>();
    /** The migrations' clock (only the wait after an old leader's removal reads it); never advanced unless a test does. */
    final AtomicLong now = new AtomicLong();

    KubernetesClient client;
    OldPodsWorld world;
    KubernetesLeaseStore leases;
    ElectionRuntime runtime;

    private final String runtimeName;

    MigrationGround(String runtimeName) {
        this.runtimeName = runtimeName;
    }

    /** The mock API server this test talks to, initialised. */
    abstract KubernetesMockServer server();

    @BeforeEach
    void startGround() {
        KubernetesMockServer server = server();
        toClose.add(server::destroy);
        client = server.createClient();
        world = new OldPodsWorld(client, KEY);
        toClose.add(client);
        leases = new KubernetesLeaseStore(client, NAMESPACE, Duration.ofSeconds(10));
        toClose.add(leases);
        runtime = ElectionRuntime.create(runtimeName);
        toClose.add(runtime);
    }

    @AfterEach
    void closeGround() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    /** A migration of pod {@code pod} (candidate {@code identity}), started, with a retry period of {@link #RETRY}. */
    ConfigMapMigration started(String pod, String identity, Duration requestTimeout, Runnable standingChanged) {
        ConfigMapMigration migration = new ConfigMapMigration(
                new ConfigMapLeaders(client, RECORD, NAMESPACE, requestTimeout),
                pod,
                identity,
                runtime,
                RETRY,
                Duration.ofSeconds(1),
                requestTimeout,
                now::get);
        toClose.add(migration);
        migration.start(standingChanged);
        return migration;
    }

    void pod(String name, boolean ready) {
        world.pod(name, ready);
    }

    void oldPodWrites(String pod) {
        world.oldPodWrites(pod);
    }

    ConfigMap configMap() {
        return world.configMap();
    }

    static LeaseRecord held(String identity) {
        return OldPodsWorld.held(identity);
    }
}
