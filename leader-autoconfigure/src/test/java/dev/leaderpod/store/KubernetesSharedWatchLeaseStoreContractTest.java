package dev.leaderpod.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.VersionedLease;
import dev.leaderpod.store.kubernetes.KubernetesLeaseStore;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes store as the auto-configuration makes it, knowing the application's election group, meets the
 * contract against the fabric8 mock API server in CRUD mode, its watches sharing one WebSocket selected by the group's
 * label; then the label itself: on every write, added to Leases that lack it, and only by a store with a group.
 */
class KubernetesSharedWatchLeaseStoreContractTest extends LeaseStoreContractTest {

    private static final String NAMESPACE = "team-a";
    private static final String LABEL = "leaderpod.dev/election-of";
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private KubernetesMockServer server;
    private KubernetesClient client;
    private KubernetesLeaseStore store;

    @BeforeEach
    void startCrudServer() {
        Map<ServerRequest, Queue<ServerResponse>> expectations = new HashMap<>();
        server = new KubernetesMockServer(
                new Context(), new MockWebServer(), expectations, new KubernetesMixedDispatcher(expectations), false);
        server.init();
        client = closeLater(server.createClient());
        store = newStore();
    }

    @AfterEach
    void stopServer() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        server.destroy();
    }

    @Override
    protected LeaseStore store() {
        return store;
    }

    @Override
    protected LeaseStore anotherCandidatesStore() {
        return newStore();
    }

    private KubernetesLeaseStore newStore() {
        // The group is the application's default lease: the contract's lease, and its named elections' too.
        return closeLater(new KubernetesLeaseStore(client, NAMESPACE, NAME, REQUEST_TIMEOUT));
    }

    private <T extends AutoCloseable> T closeLater(T closeable) {
        toClose.add(closeable);
        return closeable;
    }

    private Lease leaseOnServer(String name) {
        return client.leases().inNamespace(NAMESPACE).withName(name).get();
    }

    @Test
    void everyWriteLabelsTheLeaseWithTheElectionGroup() {
        VersionedLease created = store.create(NAME, HELD_BY_A);
        store.create(NAME + "-reports", heldBy("candidate-a", 1));

        assertThat(leaseOnServer(NAME).getMetadata().getLabels()).containsEntry(LABEL, NAME);
        assertThat(leaseOnServer(NAME + "-reports").getMetadata().getLabels())
                .as("a named election is in its application's group")
                .containsEntry(LABEL, NAME);

        store.update(NAME, heldBy("candidate-a", 4), created.version());
        assertThat(leaseOnServer(NAME).getMetadata().getLabels()).containsEntry(LABEL, NAME);
    }

    @Test
    void aLeaseWithoutTheLabelIsNotWatchedUntilItsNextWriteLabelsItKeepingItsOtherLabels() throws Exception {
        // As a version before the label left it.
        client.leases()
                .inNamespace(NAMESPACE)
                .resource(new LeaseBuilder()
                        .withNewMetadata()
                        .withName(NAME)
                        .addToLabels("app", "billing")
                        .endMetadata()
                        .withNewSpec()
                        .withHolderIdentity("older-version")
                        .withLeaseDurationSeconds(15)
                        .endSpec()
                        .build())
                .create();
        RecordingWatcher watcher = new RecordingWatcher();
        LeaseWatch watch = anotherCandidatesStore().watch(NAME, watcher).orElseThrow();
        try {
            client.leases()
                    .inNamespace(NAMESPACE)
                    .withName(NAME)
                    .edit(lease -> new LeaseBuilder(lease)
                            .editSpec()
                            .withLeaseTransitions(1)
                            .endSpec()
                            .build());
            VersionedLease seen = store.get(NAME).orElseThrow();

            VersionedLease labelled = store.update(NAME, heldBy("candidate-a", 2), seen.version());

            assertThat(leaseOnServer(NAME).getMetadata().getLabels())
                    .containsEntry(LABEL, NAME)
                    .containsEntry("app", "billing");
            watcher.await().untilAsserted(() -> assertThat(watcher.changes).contains(Optional.of(labelled)));
            assertThat(watcher.changes)
                    .as("the writes before the label are not watched")
                    .containsExactly(Optional.of(labelled));
        } finally {
            watch.close();
        }
    }

    @Test
    void aStoreWithoutAGroupLabelsNothingAndKeepsTheLabelItFinds() {
        KubernetesLeaseStore ungrouped = closeLater(new KubernetesLeaseStore(client, NAMESPACE, REQUEST_TIMEOUT));

        VersionedLease created = ungrouped.create("reports", HELD_BY_A);
        assertThat(leaseOnServer("reports").getMetadata().getLabels()).isNullOrEmpty();

        store.update("reports", heldBy("candidate-b", 4), created.version());
        assertThat(leaseOnServer("reports").getMetadata().getLabels()).containsEntry(LABEL, NAME);

        ungrouped.update(
                "reports",
                heldBy("candidate-c", 5),
                ungrouped.get("reports").orElseThrow().version());
        assertThat(leaseOnServer("reports").getMetadata().getLabels())
                .as("a store without a group writes on top of what it read")
                .containsEntry(LABEL, NAME);
    }

    @Test
    void watchesOfSeveralLeasesOfOneStoreAreOneWatchRequest() throws Exception {
        int before = server.getRequestCount();
        for (int i = 0; i < before; i++) {
            server.takeRequest(1, TimeUnit.SECONDS);
        }
        List<RecordingWatcher> watchers = new ArrayList<>();
        List<LeaseWatch> watches = new ArrayList<>();
        for (String name : List.of(NAME, NAME + "-reports", NAME + "-jobs")) {
            RecordingWatcher watcher = new RecordingWatcher();
            watchers.add(watcher);
            watches.add(store.watch(name, watcher).orElseThrow());
        }
        try {
            VersionedLease reports = anotherCandidatesStore().create(NAME + "-reports", heldBy("candidate-b", 1));
            watchers.get(1)
                    .await()
                    .untilAsserted(() -> assertThat(watchers.get(1).changes).containsExactly(Optional.of(reports)));

            List<String> watchRequests = new ArrayList<>();
            RecordedRequest request;
            while ((request = server.takeRequest(100, TimeUnit.MILLISECONDS)) != null) {
                if (request.getPath().contains("watch=true")) {
                    watchRequests.add(request.getPath());
                }
            }
            assertThat(watchRequests)
                    .singleElement()
                    .asString()
                    .contains("labelSelector=leaderpod.dev%2Felection-of%3D" + NAME);
            assertThat(watchers.get(0).changes).isEmpty();
            assertThat(watchers.get(2).changes).isEmpty();
        } finally {
            watches.forEach(LeaseWatch::close);
        }
    }
}
