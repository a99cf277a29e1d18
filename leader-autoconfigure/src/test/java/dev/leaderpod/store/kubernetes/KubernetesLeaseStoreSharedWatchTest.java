package dev.leaderpod.store.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.VersionedLease;
import dev.leaderpod.store.kubernetes.KubernetesLeaseStoreNewestLeaseTest.RecordingWatcher;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A store that knows its application's election group watches every Lease it is asked to over one WebSocket, selected
 * by the group's label, and hands each event to the watchers of the Lease it names (docs/design.md, "Watch to be fast,
 * poll to be right"). Against {@link RawApiServer}, which counts the WebSocket upgrades and lets the test send events
 * and break connections.
 */
class KubernetesLeaseStoreSharedWatchTest {

    private static final String GROUP = "jobs";
    private static final String SELECTOR = "labelSelector=leaderpod.dev/election-of=jobs";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final int ELECTIONS = 12;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final WatchingApi api = new WatchingApi();
    private RawApiServer server;
    private KubernetesClient client;
    private KubernetesLeaseStore store;

    @BeforeEach
    void start() throws Exception {
        server = closeLater(new RawApiServer(api));
        client = closeLater(new KubernetesClientBuilder()
                .withConfig(new ConfigBuilder(Config.empty())
                        .withMasterUrl(server.url())
                        .build())
                .build());
        store = closeLater(new KubernetesLeaseStore(client, "team-a", GROUP, TIMEOUT));
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

    private static String election(int i) {
        return i == 0 ? GROUP : GROUP + "-" + i;
    }

    private List<RecordingWatcher> watchEveryElection(List<LeaseWatch> watches) {
        List<RecordingWatcher> watchers = new ArrayList<>();
        for (int i = 0; i < ELECTIONS; i++) {
            RecordingWatcher watcher = new RecordingWatcher();
            watchers.add(watcher);
            watches.add(store.watch(election(i), watcher).orElseThrow());
        }
        return watchers;
    }

    @Test
    void watchesOfEveryElectionShareOneWebSocketSelectedByTheGroupsLabel() {
        List<RecordingWatcher> watchers = watchEveryElection(new ArrayList<>());

        await().atMost(TIMEOUT).until(() -> server.openWebSockets() == 1);
        assertThat(api.upgrades)
                .singleElement()
                .satisfies(target -> assertThat(target)
                        .contains(SELECTOR, "allowWatchBookmarks=true", "watch=true")
                        .doesNotContain("fieldSelector"));
        assertThat(server.connections()).isEqualTo(1);
        assertThat(watchers).allSatisfy(watcher -> assertThat(watcher.closes).isEmpty());
    }

    @Test
    void eventsReachTheWatchersOfTheLeaseTheyNameAndNoOther() throws Exception {
        List<RecordingWatcher> watchers = watchEveryElection(new ArrayList<>());
        await().atMost(TIMEOUT).until(() -> server.openWebSockets() == 1);

        server.sendToWebSockets(event("ADDED", election(3), "17", true));
        server.sendToWebSockets(event("ADDED", "not-watched-here", "18", true)); // of the group, watched by nobody
        server.sendToWebSockets("{\"type\": \"BOOKMARK\", \"object\": {\"kind\": \"Lease\", \"apiVersion\":"
                + " \"coordination.k8s.io/v1\", \"metadata\": {\"resourceVersion\": \"19\"}}}");
        server.sendToWebSockets(event("MODIFIED", election(3), "20", true));
        server.sendToWebSockets(event("DELETED", election(7), "21", true));

        await().atMost(TIMEOUT).until(() -> watchers.get(7).changes.size() == 1);
        assertThat(watchers.get(3).changes)
                .extracting(change -> change.map(VersionedLease::version))
                .containsExactly(Optional.of("17"), Optional.of("20"));
        assertThat(watchers.get(3).changes.get(1).orElseThrow().record().holderIdentity())
                .isEqualTo("holder-20");
        assertThat(watchers.get(7).changes).containsExactly(Optional.empty());
        for (int i = 0; i < ELECTIONS; i++) {
            if (i != 3 && i != 7) {
                assertThat(watchers.get(i).changes).as(election(i)).isEmpty();
            }
            assertThat(watchers.get(i).closes).as(election(i)).isEmpty();
        }
        assertThat(store.newest(election(3)).getMetadata().getResourceVersion())
                .as("the store keeps what the watch tells")
                .isEqualTo("20");
    }

    @Test
    void watchesStartedTogetherOpenOneWebSocket() throws Exception {
        ExecutorService starters = Executors.newFixedThreadPool(ELECTIONS);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<LeaseWatch>> started = new ArrayList<>();
            List<RecordingWatcher> watchers = new ArrayList<>();
            for (int i = 0; i < ELECTIONS; i++) {
                String name = election(i);
                RecordingWatcher watcher = new RecordingWatcher();
                watchers.add(watcher);
                started.add(starters.submit(() -> {
                    go.await();
                    return store.watch(name, watcher).orElseThrow();
                }));
            }
            go.countDown();
            for (Future<LeaseWatch> watch : started) {
                watch.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }

            assertThat(api.upgrades).hasSize(1);
            assertThat(watchers)
                    .allSatisfy(watcher -> assertThat(watcher.closes).isEmpty());
        } finally {
            starters.shutdownNow();
        }
    }

    @Test
    void aBrokenWebSocketClosesEveryWatchOnceAndTheirRestartsOpenOneWebSocket() throws Exception {
        List<RecordingWatcher> watchers = watchEveryElection(new ArrayList<>());
        await().atMost(TIMEOUT).until(() -> server.openWebSockets() == 1);

        server.breakWebSockets();

        await().atMost(TIMEOUT).until(() -> watchers.stream().allMatch(watcher -> !watcher.closes.isEmpty()));
        assertThat(watchers)
                .allSatisfy(watcher -> assertThat(watcher.closes)
                        .singleElement()
                        .isInstanceOf(LeaseStoreException.class)
                        .extracting(cause -> cause.getMessage())
                        .asString()
                        .startsWith("Kubernetes Leases team-a labelled leaderpod.dev/election-of=jobs: "));

        // Each elector restarts its watch (together, as after one failure they do): one WebSocket again.
        List<RecordingWatcher> restarted = new ArrayList<>();
        IntStream.range(0, ELECTIONS).parallel().forEach(i -> {
            RecordingWatcher watcher = new RecordingWatcher();
            synchronized (restarted) {
                restarted.add(watcher);
            }
            store.watch(election(i), watcher);
        });
        await().atMost(TIMEOUT).until(() -> server.openWebSockets() == 1);
        assertThat(api.upgrades).hasSize(2);
        assertThat(restarted).allSatisfy(watcher -> assertThat(watcher.closes).isEmpty());
        assertThat(watchers)
                .as("no second report")
                .allSatisfy(watcher -> assertThat(watcher.closes).hasSize(1));
    }

    @Test
    void anErrorEventEndsEveryWatchWithTheStatusItReports() throws Exception {
        List<RecordingWatcher> watchers = watchEveryElection(new ArrayList<>());
        await().atMost(TIMEOUT).until(() -> server.openWebSockets() == 1);

        server.sendToWebSockets("{\"type\": \"ERROR\", \"object\": "
                + RawApiServerHandlers.status(410, "Gone", "too old resource version: 1 (42)") + "}");

        await().atMost(TIMEOUT).until(() -> watchers.stream().allMatch(watcher -> !watcher.closes.isEmpty()));
        assertThat(watchers)
                .allSatisfy(watcher -> assertThat(watcher.closes)
                        .singleElement()
                        .satisfies(cause ->
                                assertThat(cause.getMessage()).contains("HTTP 410", "too old resource version")));
        await().atMost(TIMEOUT).until(() -> api.clientCloses.get() == 1);
    }

    @Test
    void aRefusedStartIsReportedToEveryWatchNamingTheRuleAndNotTriedAgainForASecond() throws Exception {
        api.refuseUpgrades = true;
        KubernetesLeaseStore spaced =
                closeLater(new KubernetesLeaseStore(client, "team-a", GROUP, TIMEOUT, Duration.ofMillis(500)));
        List<RecordingWatcher> watchers = new ArrayList<>();

        for (int i = 0; i < ELECTIONS; i++) {
            RecordingWatcher watcher = new RecordingWatcher();
            watchers.add(watcher);
            spaced.watch(election(i), watcher);
            assertThat(watcher.closes).as("reported before the start returns").hasSize(1);
        }

        assertThat(api.upgrades).as("one attempt for the twelve").hasSize(1);
        assertThat(watchers)
                .allSatisfy(watcher -> assertThat(watcher.closes)
                        .singleElement()
                        .satisfies(cause -> {
                            assertThat(((LeaseStoreException) cause).kind()).isEqualTo(Kind.FORBIDDEN);
                            assertThat(cause.getMessage())
                                    .contains("HTTP 403", "denied verb \"watch\"")
                                    .contains(
                                            "Role rule needed in namespace team-a: " + KubernetesLeaseStore.RBAC_RULE);
                        }));

        Thread.sleep(600);
        RecordingWatcher later = new RecordingWatcher();
        spaced.watch(GROUP, later);
        assertThat(api.upgrades).as("tried again once the spacing passed").hasSize(2);
        assertThat(later.closes)
                .singleElement()
                .satisfies(cause ->
                        assertThat(((LeaseStoreException) cause).kind()).isEqualTo(Kind.FORBIDDEN));
    }

    @Test
    void closingTheLastWatchClosesTheWebSocketAndTheNextWatchOpensAnother() throws Exception {
        List<LeaseWatch> watches = new ArrayList<>();
        List<RecordingWatcher> watchers = watchEveryElection(watches);
        await().atMost(TIMEOUT).until(() -> server.openWebSockets() == 1);

        for (int i = 1; i < ELECTIONS; i++) {
            watches.get(i).close();
        }
        Thread.sleep(200);
        assertThat(api.clientCloses).as("one watch is left").hasValue(0);
        assertThat(server.openWebSockets()).isEqualTo(1);
        server.sendToWebSockets(event("MODIFIED", election(0), "5", true));
        server.sendToWebSockets(event("MODIFIED", election(1), "6", true));
        await().atMost(TIMEOUT).until(() -> watchers.get(0).changes.size() == 1);

        watches.get(0).close();

        await().atMost(TIMEOUT).until(() -> api.clientCloses.get() == 1);
        assertThat(watchers.get(1).changes).as("closed: delivers nothing").isEmpty();
        assertThat(watchers).allSatisfy(watcher -> assertThat(watcher.closes).isEmpty());

        store.watch(GROUP, new RecordingWatcher());
        assertThat(api.upgrades).hasSize(2);
    }

    @Test
    void aChangeMissedOfALabelledLeaseEndsTheSilentWebSocketAndTheNextWatchOpensAnother() throws Exception {
        List<LeaseWatch> watches = new ArrayList<>();
        List<RecordingWatcher> watchers = watchEveryElection(watches);
        await().atMost(TIMEOUT).until(() -> server.openWebSockets() == 1);
        api.leases.put(GROUP, lease(GROUP, "30", true));
        store.get(GROUP); // the elector's read that found the change its watch did not deliver

        watches.get(0).missedChanges();
        watches.get(0).close();
        RecordingWatcher again = new RecordingWatcher();
        store.watch(GROUP, again);

        assertThat(api.upgrades).hasSize(2);
        assertThat(api.upgrades.get(1)).contains(SELECTOR);
        for (int i = 1; i < ELECTIONS; i++) {
            assertThat(watchers.get(i).closes)
                    .as("the other watches on the silent WebSocket are told, to restart and read")
                    .singleElement()
                    .satisfies(cause ->
                            assertThat(((LeaseStoreException) cause).kind()).isEqualTo(Kind.UNAVAILABLE));
        }
        assertThat(watchers.get(0).closes).as("closed by its elector").isEmpty();
        assertThat(again.closes).isEmpty();
        await().atMost(TIMEOUT).until(() -> api.clientCloses.get() == 1 && server.openWebSockets() == 1);
    }

    @Test
    void aChangeMissedOfALeaseWithoutTheLabelKeepsTheWebSocketAndThatLeaseIsWatchedOnItsOwn() throws Exception {
        List<LeaseWatch> watches = new ArrayList<>();
        List<RecordingWatcher> watchers = watchEveryElection(watches);
        await().atMost(TIMEOUT).until(() -> server.openWebSockets() == 1);
        api.leases.put(GROUP, lease(GROUP, "30", false)); // renewed by a version before the label
        store.get(GROUP);

        watches.get(0).missedChanges();
        watches.get(0).close();
        RecordingWatcher again = new RecordingWatcher();
        store.watch(GROUP, again);

        await().atMost(TIMEOUT).until(() -> server.openWebSockets() == 2);
        assertThat(api.upgrades).hasSize(2);
        assertThat(api.upgrades.get(1))
                .contains("fieldSelector=metadata.name=" + GROUP)
                .doesNotContain(SELECTOR);
        assertThat(watchers).allSatisfy(watcher -> assertThat(watcher.closes).isEmpty());
        assertThat(api.clientCloses).hasValue(0);
    }

    @Test
    void aStoreWithoutAGroupWatchesEachLeaseOnAWebSocketOfItsOwnAsBefore() {
        KubernetesLeaseStore ungrouped = closeLater(new KubernetesLeaseStore(client, "team-a", TIMEOUT));

        for (int i = 0; i < 3; i++) {
            ungrouped.watch(election(i), new RecordingWatcher());
        }

        await().atMost(TIMEOUT).until(() -> server.openWebSockets() == 3);
        assertThat(api.upgrades)
                .hasSize(3)
                .allSatisfy(target -> assertThat(target)
                        .contains("fieldSelector=metadata.name=")
                        .doesNotContain("labelSelector"));
    }

    @Test
    void closingTheStoreEndsTheWebSocketTellingNoWatcher() throws Exception {
        List<RecordingWatcher> watchers = watchEveryElection(new ArrayList<>());
        await().atMost(TIMEOUT).until(() -> server.openWebSockets() == 1);

        store.close();

        await().atMost(TIMEOUT).until(() -> api.clientCloses.get() == 1);
        assertThat(watchers).allSatisfy(watcher -> assertThat(watcher.closes).isEmpty());
        RecordingWatcher after = new RecordingWatcher();
        store.watch(GROUP, after);
        assertThat(after.closes).singleElement().isInstanceOf(LeaseStoreException.class);
        assertThat(api.upgrades).hasSize(1);
    }

    // ---------------------------------------------------------------------------------------------------------

    private static String lease(String name, String version, boolean labelled) {
        return """
                {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                 "metadata": {"name": "%s", "namespace": "team-a", "resourceVersion": "%s"%s},
                 "spec": {"holderIdentity": "holder-%s", "leaseDurationSeconds": 15}}
                """.formatted(
                        name,
                        version,
                        labelled ? ", \"labels\": {\"leaderpod.dev/election-of\": \"" + GROUP + "\"}" : "",
                        version);
    }

    private static String event(String type, String name, String version, boolean labelled) {
        return "{\"type\": \"" + type + "\", \"object\": "
                + lease(name, version, labelled).strip() + "}";
    }

    /**
     * Accepts every WebSocket upgrade (or refuses it with 403), records its target and counts the close frames clients
     * send; answers a GET of a Lease with what the test put in {@link #leases}.
     */
    static final class WatchingApi implements RawApiServer.Handler {
        final List<String> upgrades = new CopyOnWriteArrayList<>();
        final AtomicInteger clientCloses = new AtomicInteger();
        final Map<String, String> leases = new ConcurrentHashMap<>();
        volatile boolean refuseUpgrades;

        @Override
        public void handle(RawApiServer.Request request, RawApiServer.Connection connection) throws Exception {
            if (request.isWebSocketUpgrade()) {
                upgrades.add(URLDecoder.decode(request.target(), StandardCharsets.UTF_8));
                if (refuseUpgrades) {
                    connection.respondAndClose(
                            403,
                            RawApiServerHandlers.status(
                                    403, "Forbidden", "leases is forbidden: User cannot watch resource leases"));
                    return;
                }
                connection.acceptWebSocket(request);
                if (connection.awaitClientClose(30_000)) {
                    clientCloses.incrementAndGet();
                }
                return;
            }
            String name = request.target().substring(request.target().lastIndexOf('/') + 1);
            String lease = "GET".equals(request.method()) ? leases.get(name) : null;
            if (lease == null) {
                connection.respond(404, RawApiServerHandlers.status(404, "NotFound", "not found"));
            } else {
                connection.respond(200, lease);
            }
        }
    }
}
