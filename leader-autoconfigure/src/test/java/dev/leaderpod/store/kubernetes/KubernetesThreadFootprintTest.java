package dev.leaderpod.store.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.VersionedLease;
import dev.leaderpod.store.kubernetes.KubernetesLeaseStoreNewestLeaseTest.RecordingWatcher;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.vertx.core.VertxOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the store and the pod labeler cost in threads: nothing of their own. Both talk through an HTTP client derived
 * from the application's, which shares its connection pool and event loops, so an application that runs an election
 * has the threads its Kubernetes client has anyway (the elector's own threads are counted in docs/design.md, "No I/O
 * on the thread that ends terms").
 *
 * <p>Counted on real threads, by the names HTTP client libraries give theirs. One is left out:
 * {@value #FABRIC8_SCHEDULER}..., fabric8's single scheduler for the whole JVM, which bounds every request any fabric8
 * client sends with a timeout (the application's own included) and stops after 10 s without one.
 */
class KubernetesThreadFootprintTest {

    private static final String NAMESPACE = "team-a";
    private static final String NAME = "billing";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    // Vert.x, OkHttp, the JDK's HTTP client, Jetty, and executors such as fabric8's
    // ("KubernetesClientImpl-pool-1-thread-1").
    private static final Pattern CLIENT_THREAD = Pattern.compile(
            "vert\\.?x-.*|OkHttp.*|.*-Dispatcher.*|HttpClient-.*|jetty-.*|qtp.*|.*-pool-\\d+-thread-\\d+");
    private static final String FABRIC8_SCHEDULER = "CachedSingleThreadScheduler-";
    // Vert.x's event loops, created as callers need them, up to this many per Vert.x instance.
    private static final int EVENT_LOOPS = VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE;
    private static final LeadershipTerm TERM = new LeadershipTerm(NAME, "candidate-a", 1, Instant.now());

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final OneLeaseApi api = new OneLeaseApi();
    private RawApiServer server;
    private KubernetesClient application;

    @BeforeEach
    void start() throws Exception {
        server = closeLater(new RawApiServer((request, connection) -> {
            if (request.method().equals("PATCH")) { // the labeler's
                connection.respond(200, "{}");
            } else {
                api.handle(request, connection);
            }
        }));
        application = closeLater(new KubernetesClientBuilder()
                .withConfig(new ConfigBuilder(Config.empty())
                        .withMasterUrl(server.url())
                        .build())
                .build());
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
    void aWatchingStoreARenewingLeaderAndTheLabelerAddNoThreadToTheApplicationsClient() throws Exception {
        // An application uses its client from several threads; Vert.x gives each calling thread an event loop in
        // turn, so after as many callers as it has event loops all of them run.
        for (int i = 0; i < EVENT_LOOPS; i++) {
            onFreshThread(() ->
                    application.pods().inNamespace(NAMESPACE).withName("web-0").get());
        }
        Set<Thread> applicationAlone = clientThreads();

        runAnElectionAtRest();
        Map<String, Long> added = startedSince(applicationAlone);

        report("used from " + EVENT_LOOPS + " threads", applicationAlone, added);
        assertThat(added).isEmpty();
    }

    @Test
    void onAClientTheApplicationHardlyUsesTheyOnlyWakeItsOwnEventLoops() throws Exception {
        application.pods().inNamespace(NAMESPACE).withName("web-0").get();
        Set<Thread> applicationAlone = clientThreads();

        runAnElectionAtRest();
        Map<String, Long> added = startedSince(applicationAlone);

        report("used from 1 thread", applicationAlone, added);
        // Each of the elector's I/O threads gets an event loop of the application's Vert.x in turn: loops it had
        // not needed yet may start, up to its fixed number (the application's call started at least one), and
        // nothing else.
        assertThat(added.keySet()).isSubsetOf("vert.x-eventloop-thread-#");
        assertThat(added.getOrDefault("vert.x-eventloop-thread-#", 0L)).isLessThan(EVENT_LOOPS);
    }

    /*
     * A follower's store with a healthy watch, a leader renewing through it and labelling its pod, every call from a
     * thread of its own as from the elector's I/O threads, which come and go.
     */
    private void runAnElectionAtRest() throws Exception {
        KubernetesLeaseStore store = closeLater(new KubernetesLeaseStore(application, NAMESPACE, TIMEOUT));
        LeaderPodLabeler labeler =
                closeLater(new LeaderPodLabeler(application, NAMESPACE, "web-0", "candidate-a", TIMEOUT));
        VersionedLease lease = onFreshThread(() -> store.create(NAME, heldBy(1)));
        RecordingWatcher watcher = new RecordingWatcher();
        closeLater(onFreshThread(() -> store.watch(NAME, watcher).orElseThrow()));
        await().atMost(TIMEOUT).pollInSameThread().until(() -> server.openWebSockets() == 1);
        onFreshThread(() -> {
            labeler.onStartedLeading(TERM);
            return null;
        });
        for (int renew = 2; renew <= 2 * EVENT_LOOPS + 1; renew++) {
            String version = lease.version();
            int term = renew;
            lease = onFreshThread(() -> store.update(NAME, heldBy(term), version));
            server.sendToWebSockets("{\"type\": \"MODIFIED\", \"object\": " + api.asJson() + "}");
            int delivered = renew - 1;
            await().atMost(TIMEOUT).pollInSameThread().until(() -> watcher.changes.size() == delivered);
        }
        assertThat(watcher.closes).as("the watch stayed healthy").isEmpty();
    }

    private static Set<Thread> clientThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> CLIENT_THREAD.matcher(thread.getName()).matches()
                        && !thread.getName().startsWith(FABRIC8_SCHEDULER))
                .collect(Collectors.toSet());
    }

    // Client threads alive now that were not alive then, by kind. Threads of earlier tests' clients, which may still
    // be stopping, do not count.
    private static Map<String, Long> startedSince(Set<Thread> before) {
        return clientThreads().stream()
                .filter(thread -> !before.contains(thread))
                .collect(Collectors.groupingBy(
                        KubernetesThreadFootprintTest::kind, TreeMap::new, Collectors.counting()));
    }

    private static String kind(Thread thread) {
        return thread.getName().replaceAll("\\d+", "#");
    }

    private static void report(String use, Set<Thread> applicationAlone, Map<String, Long> added) {
        System.out.printf(
                "Client threads alive with the application's client %s (and any earlier tests left): %d %s;"
                        + " a watching store, a renewing leader and the labeler added %d %s%n",
                use,
                applicationAlone.size(),
                applicationAlone.stream()
                        .collect(Collectors.groupingBy(
                                KubernetesThreadFootprintTest::kind, TreeMap::new, Collectors.counting())),
                added.values().stream().mapToLong(Long::longValue).sum(),
                added);
    }

    private static <T> T onFreshThread(Callable<T> call) throws Exception {
        FutureTask<T> task = new FutureTask<>(call);
        Thread caller = new Thread(task, "caller");
        caller.setDaemon(true);
        caller.start();
        return task.get(TIMEOUT.toSeconds() * 3, TimeUnit.SECONDS);
    }

    private static LeaseRecord heldBy(long transitions) {
        Instant acquired = Instant.parse("2024-05-01T10:15:30Z");
        return new LeaseRecord(
                "candidate-a", Duration.ofSeconds(15), acquired, acquired.plusSeconds(transitions), transitions);
    }
}
