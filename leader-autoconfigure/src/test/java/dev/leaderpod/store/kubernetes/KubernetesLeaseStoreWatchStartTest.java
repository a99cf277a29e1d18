package dev.leaderpod.store.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.store.kubernetes.KubernetesLeaseStoreNewestLeaseTest.RecordingWatcher;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A watch that cannot start is reported through {@code onClose} within the request timeout, with the kind that says
 * why, and failing again and again costs no thread and no client: the elector retries with back-off, so this is
 * what a Role without {@code watch} costs for as long as the application runs.
 */
class KubernetesLeaseStoreWatchStartTest {

    private static final String NAME = "billing";
    // Short where the bound is the point, so the test is fast; generous where the server answers at once, so that a
    // slow moment of a loaded machine is not taken for a hung server.
    private static final Duration SHORT_BOUND = Duration.ofMillis(300);
    private static final Duration LONG_BOUND = Duration.ofSeconds(2);
    private static final Duration MARGIN = Duration.ofSeconds(3);

    /** Why the watch cannot start. */
    enum Failure {
        /** The Role lacks {@code watch}: 403 to the WebSocket upgrade. */
        FORBIDDEN(Kind.FORBIDDEN),
        /** 404 to the upgrade, as from an API server without coordination.k8s.io/v1. */
        NOT_FOUND(Kind.OTHER),
        /** Nothing listens on the port. */
        REFUSED(Kind.UNAVAILABLE),
        /** The server closes the connection on receiving the upgrade request. */
        CLOSED(Kind.UNAVAILABLE),
        /** The server accepts the connection, reads the upgrade request and never answers. */
        SILENT(Kind.TIMEOUT);

        final Kind kind;

        Failure(Kind kind) {
            this.kind = kind;
        }
    }

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private RawApiServer server;

    @BeforeAll
    static void loadTheCodePathsOnce() throws Exception {
        // The first WebSocket handshake of a JVM loads many classes; not what these tests time.
        try (RawApiServer forbidding = new RawApiServer(RawApiServerHandlers.failing(403, "Forbidden", "no"));
                KubernetesClient client = new KubernetesClientBuilder()
                        .withConfig(new ConfigBuilder(Config.empty())
                                .withMasterUrl(forbidding.url())
                                .build())
                        .build();
                KubernetesLeaseStore store = new KubernetesLeaseStore(client, "team-a", Duration.ofSeconds(10))) {
            store.watch(NAME, new RecordingWatcher());
        }
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

    private KubernetesLeaseStore storeFailingWith(Failure failure) throws Exception {
        String url;
        if (failure == Failure.REFUSED) {
            try (ServerSocket closed = new ServerSocket(0)) {
                url = "http://127.0.0.1:" + closed.getLocalPort();
            }
        } else {
            server = closeLater(new RawApiServer(
                    switch (failure) {
                        case FORBIDDEN ->
                            RawApiServerHandlers.failing(
                                    403, "Forbidden", "leases is forbidden: User cannot watch resource leases");
                        case NOT_FOUND -> RawApiServerHandlers.failing(404, "NotFound", "the server could not find it");
                        case CLOSED -> (request, connection) -> connection.close();
                        default -> RawApiServerHandlers.silent(MARGIN.toMillis() * 3);
                    }));
            url = server.url();
        }
        KubernetesClient client = closeLater(new KubernetesClientBuilder()
                .withConfig(new ConfigBuilder(Config.empty()).withMasterUrl(url).build())
                .build());
        return closeLater(new KubernetesLeaseStore(client, "team-a", bound(failure)));
    }

    @ParameterizedTest
    @EnumSource(Failure.class)
    void aWatchThatCannotStartIsReportedClosedWithinTheBound(Failure failure) throws Exception {
        KubernetesLeaseStore store = storeFailingWith(failure);
        RecordingWatcher watcher = new RecordingWatcher();

        LeaseWatch watch = assertTimeoutPreemptively(
                bound(failure).plus(MARGIN), () -> store.watch(NAME, watcher).orElseThrow());

        assertThat(watcher.closes).singleElement().satisfies(cause -> assertReports(failure, cause));
        watch.close(); // a no-op, and no second report
        assertThat(watcher.closes).hasSize(1);
        assertThat(watcher.changes).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(
            value = Failure.class,
            names = {"FORBIDDEN", "REFUSED", "CLOSED", "SILENT"})
    void failingWatchStartsInARowLeakNoThreads(Failure failure) throws Exception {
        KubernetesLeaseStore store = storeFailingWith(failure);
        // The client's event loops start with the first connections; after a few attempts all that will exist do.
        for (int i = 0; i < 8; i++) {
            store.watch(NAME, new RecordingWatcher());
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long liveBefore = liveThreadsNotOfTheFake();
        long startedBefore = threads.getTotalStartedThreadCount();
        int connectionsBefore = server == null ? 0 : server.connections();

        for (int i = 0; i < 20; i++) {
            RecordingWatcher watcher = new RecordingWatcher();
            long start = System.nanoTime();
            store.watch(NAME, watcher);
            Duration took = Duration.ofNanos(System.nanoTime() - start);

            assertThat(took).isLessThan(bound(failure).plus(MARGIN));
            assertThat(watcher.closes).singleElement().satisfies(cause -> assertReports(failure, cause));
        }

        // Counted before anything else here starts a thread (Awaitility does); the fake starts one per connection.
        long startedByTheStore = threads.getTotalStartedThreadCount()
                - startedBefore
                - ((server == null ? 0 : server.connections()) - connectionsBefore);
        assertThat(startedByTheStore)
                .as("threads started for 20 failing watch starts")
                .isLessThanOrEqualTo(2);
        // Polled on this thread: Awaitility's own polling thread would count as one more.
        await().atMost(MARGIN).pollInSameThread().until(() -> liveThreadsNotOfTheFake() <= liveBefore);
        if (server != null) {
            // Every connection let go, the abandoned handshakes included.
            await().atMost(MARGIN).until(() -> server.openConnections() == 0);
        }
    }

    private static Duration bound(Failure failure) {
        return failure == Failure.SILENT ? SHORT_BOUND : LONG_BOUND;
    }

    private static void assertReports(Failure failure, Exception cause) {
        assertThat(cause).isInstanceOf(LeaseStoreException.class);
        assertThat(((LeaseStoreException) cause).kind()).as(cause.toString()).isEqualTo(failure.kind);
        assertThat(cause.getMessage()).startsWith("Kubernetes Lease team-a/billing: watch");
        switch (failure) {
            case FORBIDDEN ->
                assertThat(cause.getMessage())
                        .contains("HTTP 403", "denied verb \"watch\"")
                        .contains("Role rule needed in namespace team-a: " + KubernetesLeaseStore.RBAC_RULE);
            case NOT_FOUND -> assertThat(cause.getMessage()).contains("HTTP 404");
            case REFUSED, CLOSED -> assertThat(cause.getMessage()).contains("cannot reach the API server");
            case SILENT -> assertThat(cause.getMessage()).contains("watch did not start within 300 ms");
        }
    }

    private static long liveThreadsNotOfTheFake() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !t.getName().startsWith(RawApiServer.THREAD_PREFIX))
                .count();
    }
}
