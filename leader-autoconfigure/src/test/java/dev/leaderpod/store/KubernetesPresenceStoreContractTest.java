package dev.leaderpod.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.PresenceStore;
import dev.leaderpod.store.kubernetes.KubernetesLeaseStore;
import dev.leaderpod.store.kubernetes.KubernetesPresenceStore;
import dev.leaderpod.store.kubernetes.PreconditionCrudDispatcher;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes store meets the contract against the fabric8 mock API server in CRUD mode (with the API server's
 * delete preconditions, {@link PreconditionCrudDispatcher}), each candidate with its own store, beside a
 * {@link KubernetesLeaseStore} in the same namespace. {@code store.kubernetes.KubernetesPresenceStoreTest} covers
 * what only this store does.
 */
class KubernetesPresenceStoreContractTest extends PresenceStoreContractTest {

    private static final String NAMESPACE = "team-a";
    // Generous, so that a loaded machine does not fail the contract.
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private KubernetesMockServer server;
    private KubernetesClient client;
    private KubernetesPresenceStore store;

    @BeforeEach
    void startCrudServer() {
        server = PreconditionCrudDispatcher.server(new PreconditionCrudDispatcher());
        client = closeLater(server.createClient());
        store = closeLater(new KubernetesPresenceStore(client, NAMESPACE, LEASE, REQUEST_TIMEOUT));
    }

    @AfterEach
    void stopServer() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        server.destroy();
    }

    private <T extends AutoCloseable> T closeLater(T closeable) {
        toClose.add(closeable);
        return closeable;
    }

    @Override
    protected PresenceStore store() {
        return store;
    }

    @Override
    protected PresenceStore anotherCandidatesStore() {
        return closeLater(new KubernetesPresenceStore(client, NAMESPACE, LEASE, REQUEST_TIMEOUT));
    }

    @Override
    protected PresenceStore anotherGroupsStore() {
        return closeLater(new KubernetesPresenceStore(client, NAMESPACE, OTHER_LEASE, REQUEST_TIMEOUT));
    }

    @Override
    protected LeaseStore leaseStore() {
        return closeLater(new KubernetesLeaseStore(client, NAMESPACE, REQUEST_TIMEOUT));
    }

    @Test
    void watches() {
        // The contract's watch cases skip a store that cannot watch; this one must not be skipped.
        assertThat(store.watch(new RecordingWatcher())).hasValueSatisfying(LeaseStore.LeaseWatch::close);
    }
}
