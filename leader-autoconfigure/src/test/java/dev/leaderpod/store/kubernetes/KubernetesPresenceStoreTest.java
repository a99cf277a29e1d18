package dev.leaderpod.store.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.Presence;
import dev.leaderpod.core.PresenceStore.PresenceWatcher;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What only the Kubernetes presence store does, on the fabric8 mock API server: the Leases it writes, how many requests
 * each call takes and what they carry, the races of create and update, long lease names, and its failures, which name
 * the verb and the Role rule.
 */
class KubernetesPresenceStoreTest {

    private static final String NAMESPACE = "team-a";
    private static final String LEASE = "billing";
    private static final String LEASES_PATH = "/apis/coordination.k8s.io/v1/namespaces/" + NAMESPACE + "/leases";
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final PreconditionCrudDispatcher dispatcher = new PreconditionCrudDispatcher();
    private KubernetesMockServer server;
    private KubernetesClient client;
    private KubernetesPresenceStore store;

    @BeforeEach
    void startCrudServer() {
        server = PreconditionCrudDispatcher.server(dispatcher);
        toClose.add(server::destroy);
        client = closeLater(server.createClient());
        store = newStore(LEASE);
    }

    @AfterEach
    void close() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closeLater(T closeable) {
        toClose.add(closeable);
        return closeable;
    }

    private KubernetesPresenceStore newStore(String leaseName) {
        return closeLater(new KubernetesPresenceStore(client, NAMESPACE, leaseName, REQUEST_TIMEOUT));
    }

    private static Presence presence(String identity) {
        return Presence.of(identity, Set.of(LEASE), Map.of("ready", "true"));
    }

    private Lease onServer(String identity) {
        return client.leases()
                .inNamespace(NAMESPACE)
                .withName(PresenceObjects.objectName(LEASE, identity))
                .get();
    }

    // --- the Leases

    @Test
    void eachCandidateIsALeaseOfItsOwnLabelledWithTheGroup() {
        store.announce(presence("worker-1"));

        Lease lease = onServer("worker-1");
        assertThat(lease.getMetadata().getName()).matches("billing-candidate-[0-9a-f]{10}");
        assertThat(lease.getMetadata().getLabels()).containsEntry("leaderpod.dev/presence-of", LEASE);
        assertThat(lease.getMetadata().getAnnotations())
                .containsEntry("leaderpod.dev/elections", LEASE)
                .containsEntry("presence.leaderpod.dev/ready", "true");
        assertThat(lease.getSpec().getHolderIdentity()).isEqualTo("worker-1");
        assertThat(client.leases().inNamespace(NAMESPACE).list().getItems()).hasSize(1);
    }

    @Test
    void everyAnnouncementChangesTheLeaseEvenWithinOneMicrosecond() {
        // The API server keeps the version of a write that changes nothing; the version must change every time.
        Clock stopped = Clock.fixed(Instant.parse("2024-05-01T10:15:42.654321Z"), ZoneOffset.UTC);
        KubernetesPresenceStore stuck =
                closeLater(new KubernetesPresenceStore(client, NAMESPACE, LEASE, REQUEST_TIMEOUT, stopped));

        stuck.announce(presence("worker-1"));
        Instant first = onServer("worker-1").getSpec().getRenewTime().toInstant();
        stuck.announce(presence("worker-1"));
        Instant second = onServer("worker-1").getSpec().getRenewTime().toInstant();

        assertThat(first).isEqualTo("2024-05-01T10:15:42.654321Z");
        assertThat(second).isAfter(first);
    }

    @Test
    void aLongLeaseNameIsLabelledWithAHashAndItsGroupStaysApart() {
        String longName = "billing-" + "x".repeat(80) + "-a";
        String sibling = "billing-" + "x".repeat(80) + "-b";
        Presence mine = newStore(longName).announce(presence("worker-1"));
        Presence theirs = newStore(sibling).announce(presence("worker-1"));

        assertThat(newStore(longName).list()).containsExactly(mine);
        assertThat(newStore(sibling).list()).containsExactly(theirs);
        assertThat(client.leases().inNamespace(NAMESPACE).list().getItems())
                .allSatisfy(lease -> assertThat(lease.getMetadata().getLabels().get("leaderpod.dev/presence-of"))
                        .hasSizeLessThanOrEqualTo(63));
    }

    // --- requests

    @Test
    void anAnnouncementIsOneRequestOnceTheLeaseExists() {
        store.announce(presence("worker-1"));
        int before = server.getRequestCount();

        store.announce(presence("worker-1"));

        assertThat(server.getRequestCount() - before).isEqualTo(1);
    }

    @Test
    void removeIsOneDeleteWithTheVersionAsAPrecondition() {
        Presence announced = store.announce(presence("worker-1"));
        int before = server.getRequestCount();

        store.remove("worker-1", announced.version());

        assertThat(server.getRequestCount() - before).isEqualTo(1);
        assertThat(dispatcher.deleteBodies)
                .singleElement()
                .asString()
                .contains("\"preconditions\":{\"resourceVersion\":\"" + announced.version() + "\"}");
        assertThat(onServer("worker-1")).isNull();
    }

    @Test
    void aStaleRemovalIsAConflictThatSaysTheCandidateIsAlive() {
        Presence first = store.announce(presence("worker-1"));
        store.announce(presence("worker-1"));

        assertThatThrownBy(() -> newStore(LEASE).remove("worker-1", first.version()))
                .isInstanceOf(LeaseConflictException.class)
                .hasMessageContaining("changed since version " + first.version());
    }

    @Test
    void aSecondProcessWithTheSameIdentityReadsTheLeaseOnItsConflictingCreateAndWritesOnTopOfIt() {
        store.announce(presence("worker-1"));
        KubernetesPresenceStore restarted = newStore(LEASE); // knows no version: creates, conflicts, reads, updates
        int before = server.getRequestCount();

        Presence announced = restarted.announce(presence("worker-1"));

        assertThat(server.getRequestCount() - before).isEqualTo(3);
        assertThat(store.list()).containsExactly(announced);
    }

    @Test
    void anAnnouncementEditedByOthersIsReadAgainAndWrittenOnTopOfTheEdit() {
        store.announce(presence("worker-1"));
        client.leases()
                .inNamespace(NAMESPACE)
                .withName(PresenceObjects.objectName(LEASE, "worker-1"))
                .edit(lease -> {
                    lease.getMetadata().getLabels().put("owner", "team-a");
                    return lease;
                });

        Presence announced = store.announce(presence("worker-1"));

        assertThat(store.list()).containsExactly(announced);
        assertThat(onServer("worker-1").getMetadata().getLabels()).containsEntry("owner", "team-a");
    }

    @Test
    void anAnnouncementDeletedByOthersIsCreatedAgainWithTwoRequests() {
        Presence first = store.announce(presence("worker-1"));
        newStore(LEASE).remove("worker-1", first.version());
        int before = server.getRequestCount();

        Presence again = store.announce(presence("worker-1"));

        assertThat(server.getRequestCount() - before)
                .as("404 to the update, then a create")
                .isEqualTo(2);
        assertThat(store.list()).containsExactly(again);
    }

    // --- the watch

    @Test
    void aWatchEndsOnceWithAFailureWhenTheApiServerGoes() {
        RecordingWatcher watcher = new RecordingWatcher();
        store.watch(watcher);
        Presence announced = newStore(LEASE).announce(presence("worker-1"));
        await().atMost(Duration.ofSeconds(10)).until(() -> watcher.changed.contains(announced));

        server.destroy();

        await().atMost(Duration.ofSeconds(10)).until(() -> !watcher.closes.isEmpty());
        assertThat(watcher.closes).singleElement().isInstanceOf(LeaseStoreException.class);
    }

    @Test
    void closingTheStoreEndsItsWatchesQuietlyAndRefusesCallsButLeavesTheClientOpen() {
        RecordingWatcher watcher = new RecordingWatcher();
        store.watch(watcher);
        store.announce(presence("worker-1"));

        store.close();

        assertThatThrownBy(() -> store.list()).isInstanceOf(LeaseStoreException.class);
        assertThat(watcher.closes).isEmpty();
        assertThat(onServer("worker-1")).isNotNull();
    }

    // --- failures, on a server that answers only what it is told to

    private KubernetesMockServer expectationServer() {
        KubernetesMockServer expecting = new KubernetesMockServer(false);
        expecting.init();
        toClose.add(expecting::destroy);
        return expecting;
    }

    private static String status(int code, String reason, String message) {
        return """
                {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": %d, "reason": "%s",
                 "message": "%s"}
                """.formatted(code, reason, message);
    }

    @ParameterizedTest
    @ValueSource(strings = {"list", "watch", "delete", "create"})
    void aRefusalNamesTheDeniedVerbTheNamespaceAndTheRuleToGrant(String verb) {
        KubernetesMockServer forbidding = expectationServer();
        String denied = status(403, "Forbidden", "leases is forbidden: User cannot " + verb + " resource leases");
        forbidding
                .expect()
                .get()
                .withPath(LEASES_PATH + "?labelSelector=leaderpod.dev%2Fpresence-of%3Dbilling")
                .andReturn(403, denied)
                .always();
        forbidding
                .expect()
                .get()
                .withPath(LEASES_PATH
                        + "?allowWatchBookmarks=true&labelSelector=leaderpod.dev%2Fpresence-of%3Dbilling&watch=true")
                .andReturn(403, denied)
                .always();
        forbidding
                .expect()
                .delete()
                .withPath(LEASES_PATH + "/" + PresenceObjects.objectName(LEASE, "worker-1"))
                .andReturn(403, denied)
                .always();
        forbidding.expect().post().withPath(LEASES_PATH).andReturn(403, denied).always();
        KubernetesPresenceStore forbidden = closeLater(
                new KubernetesPresenceStore(closeLater(forbidding.createClient()), NAMESPACE, LEASE, REQUEST_TIMEOUT));

        LeaseStoreException failure = call(forbidden, verb);

        assertThat(failure.kind()).isEqualTo(Kind.FORBIDDEN);
        assertThat(failure.getMessage())
                .contains("denied verb \"" + verb + "\"")
                .contains("Role rule needed in namespace team-a: " + KubernetesPresenceStore.RBAC_RULE);
        assertThat(KubernetesPresenceStore.RBAC_RULE).contains("\"list\"", "\"watch\"", "\"delete\"");
    }

    private static LeaseStoreException call(KubernetesPresenceStore store, String verb) {
        return switch (verb) {
            case "list" -> catchThrowableOfType(LeaseStoreException.class, store::list);
            case "delete" -> catchThrowableOfType(LeaseStoreException.class, () -> store.remove("worker-1", "7"));
            case "create" ->
                catchThrowableOfType(LeaseStoreException.class, () -> store.announce(presence("worker-1")));
            case "watch" -> {
                RecordingWatcher watcher = new RecordingWatcher();
                store.watch(watcher).orElseThrow().close();
                assertThat(watcher.closes).hasSize(1);
                yield (LeaseStoreException) watcher.closes.get(0);
            }
            default -> throw new IllegalArgumentException(verb);
        };
    }

    @Test
    void aHungServerFailsEachCallWithinTheRequestTimeout() throws Exception {
        try (ServerSocket silent = new ServerSocket(0)) {
            Duration requestTimeout = Duration.ofMillis(300);
            KubernetesClient hungClient = closeLater(new KubernetesClientBuilder()
                    .withConfig(new ConfigBuilder(Config.empty())
                            .withMasterUrl("http://localhost:" + silent.getLocalPort())
                            .build())
                    .build());
            KubernetesPresenceStore hung =
                    closeLater(new KubernetesPresenceStore(hungClient, NAMESPACE, LEASE, requestTimeout));

            for (Runnable call : List.<Runnable>of(
                    hung::list, () -> hung.remove("worker-1", "7"), () -> hung.announce(presence("worker-1")))) {
                long start = System.nanoTime();
                LeaseStoreException failure = catchThrowableOfType(LeaseStoreException.class, call::run);
                Duration took = Duration.ofNanos(System.nanoTime() - start);

                assertThat(failure.kind()).isEqualTo(Kind.TIMEOUT);
                assertThat(took).isBetween(requestTimeout.minusMillis(50), requestTimeout.plusSeconds(1));
            }
        }
    }

    @Test
    void rejectsInvalidArgumentsAndDescribesItsLeases() {
        assertThatThrownBy(() -> new KubernetesPresenceStore(client, " ", LEASE, REQUEST_TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("namespace");
        assertThatThrownBy(() -> new KubernetesPresenceStore(client, NAMESPACE, "", REQUEST_TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("leaseName");
        assertThatThrownBy(() -> new KubernetesPresenceStore(client, NAMESPACE, LEASE, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("requestTimeout");
        assertThat(store.describe()).isEqualTo("Kubernetes Leases team-a/billing-candidate-*");
    }

    static final class RecordingWatcher implements PresenceWatcher {
        final List<Presence> changed = new CopyOnWriteArrayList<>();
        final List<String> removed = new CopyOnWriteArrayList<>();
        final List<Exception> closes = new CopyOnWriteArrayList<>();

        @Override
        public void changed(Presence presence) {
            changed.add(presence);
        }

        @Override
        public void removed(String identity) {
            removed.add(identity);
        }

        @Override
        public void onClose(Exception cause) {
            closes.add(cause);
        }
    }
}
