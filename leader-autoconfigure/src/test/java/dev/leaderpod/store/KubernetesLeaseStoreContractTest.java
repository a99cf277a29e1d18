package dev.leaderpod.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.VersionedLease;
import dev.leaderpod.store.kubernetes.KubernetesLeaseStore;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Kubernetes store meets the contract against the fabric8 mock API server in CRUD mode, each candidate with
 * its own store and HTTP connection; then what only this store does: one request per call, labels kept, errors
 * translated, time bounded.
 */
class KubernetesLeaseStoreContractTest extends LeaseStoreContractTest {

    private static final String NAMESPACE = "team-a";
    private static final String LEASES_PATH = "/apis/coordination.k8s.io/v1/namespaces/" + NAMESPACE + "/leases";
    // Generous, so that a loaded machine does not fail the contract; the timeout tests set their own.
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    private static final ResourceDefinitionContext LEASES = new ResourceDefinitionContext.Builder()
            .withGroup("coordination.k8s.io")
            .withVersion("v1")
            .withKind("Lease")
            .withPlural("leases")
            .withNamespaced(true)
            .build();

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private KubernetesMockServer server;
    private KubernetesClient client;
    private KubernetesLeaseStore store;

    @BeforeEach
    void startCrudServer() {
        // The mixed dispatcher answers expectations first and keeps everything else as a CRUD store.
        Map<ServerRequest, Queue<ServerResponse>> expectations = new HashMap<>();
        server = new KubernetesMockServer(
                new Context(), new MockWebServer(), expectations, new KubernetesMixedDispatcher(expectations), false);
        server.init();
        client = closeLater(server.createClient());
        store = newStore(client, REQUEST_TIMEOUT);
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
        return newStore(client, REQUEST_TIMEOUT);
    }

    private KubernetesLeaseStore newStore(KubernetesClient client, Duration requestTimeout) {
        return closeLater(new KubernetesLeaseStore(client, NAMESPACE, requestTimeout));
    }

    private <T extends AutoCloseable> T closeLater(T closeable) {
        toClose.add(closeable);
        return closeable;
    }

    private Lease leaseOnServer() {
        return client.leases().inNamespace(NAMESPACE).withName(NAME).get();
    }

    // --- one request per call (docs/design.md, "One write per renew")

    @Test
    void getCreateAndUpdateAreOneRequestEach() {
        int start = server.getRequestCount();
        store.get(NAME);
        int afterGet = server.getRequestCount();
        VersionedLease created = store.create(NAME, HELD_BY_A);
        int afterCreate = server.getRequestCount();
        store.update(NAME, heldBy("candidate-a", 3), created.version());
        int afterUpdate = server.getRequestCount();

        assertThat(List.of(afterGet - start, afterCreate - afterGet, afterUpdate - afterCreate))
                .containsExactly(1, 1, 1);
    }

    @Test
    void updateIsOnePutCarryingTheExpectedResourceVersion() throws Exception {
        // Expectations, not CRUD: the CRUD dispatcher consumes the request body before it is recorded.
        KubernetesMockServer expecting = expectationServer();
        expecting
                .expect()
                .put()
                .withPath(LEASES_PATH + "/" + NAME)
                .andReturn(200, """
                        {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                         "metadata": {"name": "%s", "namespace": "%s", "resourceVersion": "43"},
                         "spec": {"holderIdentity": "candidate-a"}}
                        """.formatted(NAME, NAMESPACE))
                .once();
        KubernetesLeaseStore updating = newStore(closeLater(expecting.createClient()), REQUEST_TIMEOUT);

        VersionedLease updated = updating.update(NAME, HELD_BY_A, "42");

        assertThat(updated.version()).isEqualTo("43");
        assertThat(expecting.getRequestCount()).isEqualTo(1);
        RecordedRequest put = expecting.takeRequest(1, TimeUnit.SECONDS);
        assertThat(put.getMethod()).isEqualTo("PUT");
        assertThat(put.getUtf8Body()).contains("\"resourceVersion\":\"42\"", "\"holderIdentity\":\"candidate-a\"");
    }

    @Test
    void staleUpdateIsOneRequestAndNotRetried() {
        VersionedLease created = store.create(NAME, HELD_BY_A);
        store.update(NAME, heldBy("candidate-a", 3), created.version());

        int before = server.getRequestCount();

        assertThatThrownBy(() -> store.update(NAME, heldBy("candidate-b", 4), created.version()))
                .isInstanceOf(LeaseConflictException.class);
        assertThat(server.getRequestCount() - before).isEqualTo(1);
    }

    @Test
    void updateOfDeletedLeaseConflicts() {
        VersionedLease created = store.create(NAME, HELD_BY_A);
        client.leases().inNamespace(NAMESPACE).withName(NAME).delete();

        assertThatThrownBy(() -> store.update(NAME, HELD_BY_A, created.version()))
                .isInstanceOf(LeaseConflictException.class)
                .hasMessageContaining("no longer exists");
    }

    // --- Lease <-> record

    @Test
    void writesTheLeaseAsKubernetesExpectsIt() {
        store.create(
                NAME,
                new LeaseRecord(
                        "candidate-a",
                        Duration.ofMillis(1500),
                        Instant.parse("2024-05-01T10:15:30.123456789Z"),
                        Instant.parse("2024-05-01T10:15:32Z"),
                        7L));

        Lease lease = leaseOnServer();
        assertThat(lease.getSpec().getHolderIdentity()).isEqualTo("candidate-a");
        assertThat(lease.getSpec().getLeaseDurationSeconds()).as("rounded up").isEqualTo(2);
        assertThat(lease.getSpec().getAcquireTime().toInstant()).isEqualTo("2024-05-01T10:15:30.123456Z");
        assertThat(lease.getSpec().getRenewTime().toInstant()).isEqualTo("2024-05-01T10:15:32Z");
        assertThat(lease.getSpec().getLeaseTransitions()).isEqualTo(7);
    }

    @Test
    void readsLeasesWrittenByOthersLeniently() {
        // As a hand-made or foreign Lease may look: times without microseconds, one unreadable.
        GenericKubernetesResource foreign =
                client.getKubernetesSerialization().unmarshal("""
                        {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                         "metadata": {"name": "%s"},
                         "spec": {"holderIdentity": "someone-else", "leaseDurationSeconds": 30,
                                  "acquireTime": "2024-05-01T12:15:30+02:00", "renewTime": "yesterday"}}
                        """.formatted(NAME), GenericKubernetesResource.class);
        client.genericKubernetesResources(LEASES)
                .inNamespace(NAMESPACE)
                .resource(foreign)
                .create();

        assertThat(store.get(NAME).orElseThrow().record())
                .isEqualTo(new LeaseRecord(
                        "someone-else", Duration.ofSeconds(30), Instant.parse("2024-05-01T10:15:30Z"), null, null));
    }

    // --- application and fencing token: annotations beside the spec

    private static final String APPLICATION = "leaderpod.dev/application";
    private static final String FENCING_TOKEN = "leaderpod.dev/fencing-token";

    private void editOnServer(UnaryOperator<LeaseBuilder> edit) {
        client.leases()
                .inNamespace(NAMESPACE)
                .withName(NAME)
                .edit(lease -> edit.apply(new LeaseBuilder(lease)).build());
    }

    @Test
    void aFencingTokenBeyondInt32IsKeptWholeInAnAnnotationAndCappedInTheSpec() {
        store.create(NAME, heldBy("candidate-a", Integer.MAX_VALUE + 5L));

        Lease lease = leaseOnServer();
        assertThat(lease.getSpec().getLeaseTransitions()).isEqualTo(Integer.MAX_VALUE);
        assertThat(lease.getMetadata().getAnnotations()).containsEntry(FENCING_TOKEN, "2147483652");
    }

    @Test
    void resettingLeaseTransitionsByHandDoesNotLowerTheFencingToken() {
        store.create(NAME, heldBy("candidate-a", 7));

        editOnServer(lease -> lease.editSpec().withLeaseTransitions(0).endSpec());

        assertThat(store.get(NAME).orElseThrow().record().leaseTransitions()).isEqualTo(7L);
        assertThat(anotherCandidatesStore().get(NAME).orElseThrow().record().leaseTransitions())
                .isEqualTo(7L);
    }

    @Test
    void anUnreadableFencingTokenAnnotationIsIgnoredInFavourOfTheSpec() {
        store.create(NAME, heldBy("candidate-a", 7));

        editOnServer(lease -> lease.editMetadata()
                .addToAnnotations(FENCING_TOKEN, "seven")
                .endMetadata()
                .editSpec()
                .withLeaseTransitions(5)
                .endSpec());

        assertThat(store.get(NAME).orElseThrow().record().leaseTransitions()).isEqualTo(5L);
    }

    @Test
    void aLeaseWithoutOurAnnotationsReadsAsItsSpecSays() {
        client.leases()
                .inNamespace(NAMESPACE)
                .resource(new LeaseBuilder()
                        .withNewMetadata()
                        .withName(NAME)
                        .endMetadata()
                        .withNewSpec()
                        .withHolderIdentity("client-go-candidate")
                        .withLeaseTransitions(4)
                        .endSpec()
                        .build())
                .create();

        LeaseRecord record = store.get(NAME).orElseThrow().record();

        assertThat(record.leaseTransitions()).isEqualTo(4L);
        assertThat(record.application()).isNull();
    }

    @Test
    void theApplicationIsAnAnnotationAndWritingNoneRemovesOnlyOurs() {
        store.create(NAME, heldByFor("candidate-a", 1, "BillingService"));
        assertThat(leaseOnServer().getMetadata().getAnnotations()).containsEntry(APPLICATION, "BillingService");
        editOnServer(lease ->
                lease.editMetadata().addToAnnotations("owner", "team-a").endMetadata());
        VersionedLease seen = store.get(NAME).orElseThrow();
        assertThat(seen.record().application()).isEqualTo("BillingService");

        VersionedLease updated = store.update(NAME, heldBy("candidate-b", 2), seen.version());

        assertThat(updated.record().application()).isNull();
        assertThat(leaseOnServer().getMetadata().getAnnotations())
                .doesNotContainKey(APPLICATION)
                .containsEntry("owner", "team-a")
                .containsEntry(FENCING_TOKEN, "2");
    }

    @Test
    void labelsAnnotationsOwnerReferencesAndUnknownSpecFieldsSurviveAnUpdate() {
        store.create(NAME, HELD_BY_A);
        client.leases()
                .inNamespace(NAMESPACE)
                .withName(NAME)
                .edit(lease -> new LeaseBuilder(lease)
                        .editMetadata()
                        .addToLabels("app", "billing")
                        .addToAnnotations("owner", "team-a")
                        .addToOwnerReferences(new OwnerReferenceBuilder()
                                .withApiVersion("apps/v1")
                                .withKind("Deployment")
                                .withName("billing")
                                .withUid("1234")
                                .build())
                        .endMetadata()
                        .editSpec()
                        .withStrategy("OldestEmulationVersion")
                        .endSpec()
                        .build());
        VersionedLease seen = store.get(NAME).orElseThrow();

        store.update(NAME, heldBy("candidate-b", 4), seen.version());

        Lease lease = leaseOnServer();
        assertThat(lease.getSpec().getHolderIdentity()).isEqualTo("candidate-b");
        assertThat(lease.getMetadata().getLabels()).containsEntry("app", "billing");
        assertThat(lease.getMetadata().getAnnotations()).containsEntry("owner", "team-a");
        assertThat(lease.getMetadata().getOwnerReferences())
                .singleElement()
                .extracting("name")
                .isEqualTo("billing");
        assertThat(lease.getSpec().getStrategy()).isEqualTo("OldestEmulationVersion");
    }

    // --- watch

    @Test
    void watchReportsDeletion() {
        VersionedLease created = store.create(NAME, HELD_BY_A);
        RecordingWatcher watcher = new RecordingWatcher();
        LeaseWatch watch = store.watch(NAME, watcher).orElseThrow();
        try {
            client.leases().inNamespace(NAMESPACE).withName(NAME).delete();

            watcher.await().untilAsserted(() -> assertThat(watcher.changes).endsWith(Optional.empty()));
            assertThat(watcher.changes).first().isEqualTo(Optional.of(created));
        } finally {
            watch.close();
        }
    }

    @Test
    void watchThatBreaksIsReportedClosed() {
        RecordingWatcher watcher = new RecordingWatcher();
        store.watch(NAME, watcher).orElseThrow();

        server.destroy();

        await().atMost(Duration.ofSeconds(10)).until(() -> !watcher.closes.isEmpty());
        assertThat(watcher.closes).singleElement().isInstanceOf(LeaseStoreException.class);
    }

    // --- errors, on a server that answers only what it is told to

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
    @ValueSource(strings = {"get", "create", "update"})
    void forbiddenNamesTheDeniedVerbAndTheRbacRule(String verb) {
        KubernetesMockServer forbidding = expectationServer();
        String denied = status(403, "Forbidden", "leases is forbidden: User cannot " + verb + " resource leases");
        forbidding
                .expect()
                .get()
                .withPath(LEASES_PATH + "/" + NAME)
                .andReturn(403, denied)
                .always();
        forbidding.expect().post().withPath(LEASES_PATH).andReturn(403, denied).always();
        forbidding
                .expect()
                .put()
                .withPath(LEASES_PATH + "/" + NAME)
                .andReturn(403, denied)
                .always();
        KubernetesLeaseStore forbidden = newStore(closeLater(forbidding.createClient()), REQUEST_TIMEOUT);

        LeaseStoreException failure = catchThrowableOfType(LeaseStoreException.class, () -> call(forbidden, verb));

        assertThat(failure.kind()).isEqualTo(Kind.FORBIDDEN);
        assertThat(failure.getMessage())
                .contains("Kubernetes Lease team-a/" + NAME)
                .contains("denied verb \"" + verb + "\"")
                .contains("Role rule needed in namespace team-a: apiGroups: [\"coordination.k8s.io\"],"
                        + " resources: [\"leases\"], verbs: [\"get\", \"create\", \"update\", \"watch\"]");
    }

    private static void call(LeaseStore store, String verb) {
        switch (verb) {
            case "get" -> store.get(NAME);
            case "create" -> store.create(NAME, HELD_BY_A);
            case "update" -> store.update(NAME, HELD_BY_A, "1");
            default -> throw new IllegalArgumentException(verb);
        }
    }

    @Test
    void unauthenticatedIsForbiddenAndSaysSo() {
        KubernetesMockServer refusing = expectationServer();
        refusing.expect()
                .get()
                .withPath(LEASES_PATH + "/" + NAME)
                .andReturn(401, status(401, "Unauthorized", "Unauthorized"))
                .always();
        KubernetesLeaseStore unauthenticated = newStore(closeLater(refusing.createClient()), REQUEST_TIMEOUT);

        assertThatThrownBy(() -> unauthenticated.get(NAME))
                .isInstanceOf(LeaseStoreException.class)
                .hasMessageContaining("credentials were not accepted")
                .hasMessageContaining("Role rule needed")
                .extracting(e -> ((LeaseStoreException) e).kind())
                .isEqualTo(Kind.FORBIDDEN);
    }

    @Test
    void aRefusedCallIsOneRequestCarryingTheApplicationsCredentialsEvenWhereTheClientWouldRetry() throws Exception {
        KubernetesMockServer refusing = expectationServer();
        refusing.expect()
                .get()
                .withPath(LEASES_PATH + "/" + NAME)
                .andReturn(401, status(401, "Unauthorized", "Unauthorized"))
                .always();
        // With a token provider, fabric8 answers a 401 by asking for a new token and sending the request again.
        AtomicInteger tokens = new AtomicInteger();
        KubernetesClient application = closeLater(new KubernetesClientBuilder()
                .withConfig(
                        new ConfigBuilder(closeLater(refusing.createClient()).getConfiguration())
                                .withOauthTokenProvider(() -> "token-" + tokens.incrementAndGet())
                                .build())
                .build());
        assertThatThrownBy(() -> application
                        .leases()
                        .inNamespace(NAMESPACE)
                        .withName(NAME)
                        .get())
                .isInstanceOf(KubernetesClientException.class);
        int requestsOfTheApplication = refusing.getRequestCount();
        assertThat(requestsOfTheApplication)
                .as("the application's own client retries")
                .isEqualTo(2);
        KubernetesLeaseStore store = newStore(application, REQUEST_TIMEOUT);

        assertThatThrownBy(() -> store.get(NAME))
                .isInstanceOf(LeaseStoreException.class)
                .extracting(e -> ((LeaseStoreException) e).kind())
                .isEqualTo(Kind.FORBIDDEN);

        assertThat(refusing.getRequestCount() - requestsOfTheApplication).isEqualTo(1);
        for (int i = 0; i < requestsOfTheApplication; i++) {
            refusing.takeRequest(1, TimeUnit.SECONDS);
        }
        assertThat(refusing.takeRequest(1, TimeUnit.SECONDS).getHeader("Authorization"))
                .isEqualTo("Bearer token-3");
    }

    @Test
    void forbiddenWatchIsReportedAsClosedWithForbidden() {
        KubernetesMockServer forbidding = expectationServer();
        forbidding
                .expect()
                .get()
                .withPath(
                        LEASES_PATH + "?allowWatchBookmarks=true&fieldSelector=metadata.name%3D" + NAME + "&watch=true")
                .andReturn(403, status(403, "Forbidden", "leases is forbidden: User cannot watch resource leases"))
                .always();
        KubernetesLeaseStore forbidden = newStore(closeLater(forbidding.createClient()), REQUEST_TIMEOUT);
        RecordingWatcher watcher = new RecordingWatcher();

        forbidden.watch(NAME, watcher).orElseThrow().close();

        assertThat(watcher.closes).singleElement().satisfies(cause -> {
            assertThat(((LeaseStoreException) cause).kind()).isEqualTo(Kind.FORBIDDEN);
            assertThat(cause.getMessage()).contains("denied verb \"watch\"", "Role rule needed");
        });
    }

    @Test
    void serverErrorIsReportedOnceWithoutRetrying() {
        KubernetesMockServer failing = expectationServer();
        failing.expect()
                .get()
                .withPath(LEASES_PATH + "/" + NAME)
                .andReturn(503, status(503, "ServiceUnavailable", "etcd is down"))
                .always();
        // fabric8's default would retry a 5xx ten times with back-off; the store must not.
        KubernetesClient retrying = closeLater(new KubernetesClientBuilder()
                .withConfig(new ConfigBuilder(closeLater(failing.createClient()).getConfiguration())
                        .withRequestRetryBackoffLimit(10)
                        .build())
                .build());
        KubernetesLeaseStore failingStore = newStore(retrying, REQUEST_TIMEOUT);

        assertThatThrownBy(() -> failingStore.get(NAME))
                .isInstanceOf(LeaseStoreException.class)
                .hasMessageContaining("503")
                .hasMessageContaining("etcd is down")
                .extracting(e -> ((LeaseStoreException) e).kind())
                .isEqualTo(Kind.SERVER_ERROR);
        assertThat(failing.getRequestCount()).isEqualTo(1);
    }

    @Test
    void unreachableServerIsUnavailableAtOnce() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        KubernetesLeaseStore unreachable = newStore(clientFor("http://localhost:" + closedPort), Duration.ofSeconds(5));

        long start = System.nanoTime();
        LeaseStoreException failure = catchThrowableOfType(LeaseStoreException.class, () -> unreachable.get(NAME));

        assertThat(failure.kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(failure.getMessage()).contains("cannot reach the API server at http://localhost:" + closedPort);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void hungServerTimesOutWithinTheRequestTimeout() throws Exception {
        // Accepts connections (the OS backlog does) and never answers.
        try (ServerSocket silent = new ServerSocket(0)) {
            Duration requestTimeout = Duration.ofMillis(300);
            KubernetesLeaseStore hung =
                    newStore(clientFor("http://localhost:" + silent.getLocalPort()), requestTimeout);

            for (Function<LeaseStore, Object> call : List.<Function<LeaseStore, Object>>of(
                    s -> s.get(NAME), s -> s.create(NAME, HELD_BY_A), s -> s.update(NAME, HELD_BY_A, "1"))) {
                long start = System.nanoTime();
                LeaseStoreException failure = catchThrowableOfType(LeaseStoreException.class, () -> call.apply(hung));
                Duration took = Duration.ofNanos(System.nanoTime() - start);

                assertThat(failure.kind()).isEqualTo(Kind.TIMEOUT);
                assertThat(failure.getMessage()).contains("did not complete within 300 ms");
                assertThat(took).isBetween(requestTimeout.minusMillis(50), requestTimeout.plusSeconds(1));
            }
        }
    }

    @Test
    void watchOnHungServerIsReportedAsTimeoutWithinTheRequestTimeout() throws Exception {
        try (ServerSocket silent = new ServerSocket(0)) {
            Duration requestTimeout = Duration.ofMillis(300);
            KubernetesLeaseStore hung =
                    newStore(clientFor("http://localhost:" + silent.getLocalPort()), requestTimeout);
            RecordingWatcher watcher = new RecordingWatcher();

            long start = System.nanoTime();
            hung.watch(NAME, watcher).orElseThrow().close();
            Duration took = Duration.ofNanos(System.nanoTime() - start);

            assertThat(took).isBetween(requestTimeout.minusMillis(50), requestTimeout.plusSeconds(2));
            assertThat(watcher.closes).singleElement().satisfies(cause -> {
                assertThat(((LeaseStoreException) cause).kind()).isEqualTo(Kind.TIMEOUT);
                assertThat(cause.getMessage()).contains("watch did not start within 300 ms");
            });
        }
    }

    // A user's client with fabric8's defaults, among them 10 retries with back-off.
    private KubernetesClient clientFor(String masterUrl) {
        Config config =
                new ConfigBuilder(Config.empty()).withMasterUrl(masterUrl).build();
        assertThat(config.getRequestRetryBackoffLimit()).isEqualTo(10);
        return closeLater(new KubernetesClientBuilder().withConfig(config).build());
    }

    // --- construction and ownership

    @Test
    void closingTheStoreLeavesTheCallersClientOpen() {
        store.create(NAME, HELD_BY_A);

        store.close();

        assertThat(leaseOnServer()).isNotNull();
        assertThatThrownBy(() -> store.get(NAME)).isInstanceOf(LeaseStoreException.class);
    }

    @Test
    void rejectsInvalidArgumentsNamingThem() {
        assertThatThrownBy(() -> new KubernetesLeaseStore(client, " ", REQUEST_TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("namespace");
        assertThatThrownBy(() -> new KubernetesLeaseStore(client, NAMESPACE, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("requestTimeout");
    }

    @Test
    void describesTheLeaseByNamespaceAndName() {
        assertThat(store.describe(NAME)).isEqualTo("Kubernetes Lease team-a/" + NAME);
    }
}
