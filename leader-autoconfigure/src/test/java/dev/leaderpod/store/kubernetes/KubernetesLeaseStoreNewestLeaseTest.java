package dev.leaderpod.store.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore.LeaseWatcher;
import dev.leaderpod.core.VersionedLease;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The store writes on the newest Lease it has seen, so what others added to the Lease survives our writes even
 * when an older object reaches the store after a newer one.
 */
class KubernetesLeaseStoreNewestLeaseTest {

    private static final String NAME = "billing";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final OneLeaseApi api = new OneLeaseApi();
    private RawApiServer server;
    private KubernetesLeaseStore store;

    @BeforeEach
    void start() throws Exception {
        server = closeLater(new RawApiServer(api));
        KubernetesClient client = closeLater(new KubernetesClientBuilder()
                .withConfig(new ConfigBuilder(Config.empty())
                        .withMasterUrl(server.url())
                        .build())
                .build());
        store = closeLater(new KubernetesLeaseStore(client, "team-a", TIMEOUT));
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closeLater(T closeable) {
        toClose.add(closeable);
        return closeable;
    }

    @Test
    void whatOthersAddedSurvivesOurRenewsWhenAStaleWatchEventArrivesLate() throws Exception {
        store.create(NAME, heldBy(1));
        String creationEvent = event("ADDED", api.asJson());
        api.edit(KubernetesLeaseStoreNewestLeaseTest::addThirdPartyMetadata);
        RecordingWatcher watcher = new RecordingWatcher();
        closeLater(store.watch(NAME, watcher).orElseThrow());
        await().atMost(TIMEOUT).until(() -> server.openWebSockets() >= 1);
        VersionedLease seen = store.get(NAME).orElseThrow();
        VersionedLease renewed = store.update(NAME, heldBy(2), seen.version());

        // The event of the creation, delayed in the network, arrives after our renew's result.
        server.sendToWebSockets(creationEvent);
        await().atMost(TIMEOUT).until(() -> !watcher.changes.isEmpty() || !watcher.closes.isEmpty());
        assertThat(watcher.closes).isEmpty();
        store.update(NAME, heldBy(3), renewed.version());

        assertThirdPartyMetadataKept(api.lease());
        assertThat(api.lease().getMetadata().getResourceVersion()).isEqualTo("4");
    }

    @Test
    void whatOthersAddedSurvivesOurRenewsWhenAStaleDeletionArrivesLate() throws Exception {
        store.create(NAME, heldBy(1));
        String deletionEvent = event("DELETED", api.asJson()); // as if of an earlier Lease of that name
        api.edit(KubernetesLeaseStoreNewestLeaseTest::addThirdPartyMetadata);
        RecordingWatcher watcher = new RecordingWatcher();
        closeLater(store.watch(NAME, watcher).orElseThrow());
        await().atMost(TIMEOUT).until(() -> server.openWebSockets() >= 1);
        VersionedLease seen = store.get(NAME).orElseThrow();

        server.sendToWebSockets(deletionEvent);
        await().atMost(TIMEOUT).until(() -> !watcher.changes.isEmpty() || !watcher.closes.isEmpty());
        assertThat(watcher.changes).containsExactly(Optional.empty());
        store.update(NAME, heldBy(2), seen.version());

        assertThirdPartyMetadataKept(api.lease());
    }

    private static void addThirdPartyMetadata(GenericKubernetesResource lease) {
        lease.setMetadata(new ObjectMetaBuilder(lease.getMetadata())
                .addToLabels("app", "billing")
                .addToAnnotations("owner", "team-a")
                .addToOwnerReferences(new OwnerReferenceBuilder()
                        .withApiVersion("apps/v1")
                        .withKind("Deployment")
                        .withName("billing")
                        .withUid("1234")
                        .build())
                .build());
    }

    private static void assertThirdPartyMetadataKept(GenericKubernetesResource lease) {
        assertThat(lease.getMetadata().getLabels()).containsEntry("app", "billing");
        assertThat(lease.getMetadata().getAnnotations()).containsEntry("owner", "team-a");
        assertThat(lease.getMetadata().getOwnerReferences())
                .singleElement()
                .extracting("name")
                .isEqualTo("billing");
    }

    private static LeaseRecord heldBy(long transitions) {
        return new LeaseRecord(
                "candidate-a",
                Duration.ofSeconds(15),
                Instant.parse("2024-05-01T10:15:30Z"),
                Instant.parse("2024-05-01T10:15:30Z").plusSeconds(transitions),
                transitions);
    }

    private static String event(String type, String objectJson) {
        return "{\"type\": \"" + type + "\", \"object\": " + objectJson + "}";
    }

    /** Keeps what a watch reported. */
    static final class RecordingWatcher implements LeaseWatcher {
        final List<Optional<VersionedLease>> changes = new CopyOnWriteArrayList<>();
        final List<Exception> closes = new CopyOnWriteArrayList<>();

        @Override
        public void onChange(Optional<VersionedLease> lease) {
            changes.add(lease);
        }

        @Override
        public void onClose(Exception cause) {
            closes.add(cause);
        }
    }
}
