package dev.leaderpod.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.ElectionRuntime;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.store.kubernetes.KubernetesLeaseStore;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two replicas of an application with six elections on the Kubernetes mock API, each replica's electors on one
 * {@link KubernetesLeaseStore} as the auto-configuration makes it: each replica holds one watch connection for its six
 * elections; the followers hear the leaders through it (a release is taken within milliseconds, not at a poll); when
 * the connection breaks, the six electors' watches end, and their restarts open one connection again
 * (docs/design.md, "Watch to be fast, poll to be right"). And a follower of a Lease a version before the label still
 * leads, unlabelled: it watches that Lease on its own.
 */
class SharedWatchKubernetesTest {

    private static final String NAMESPACE = "team-a";
    private static final String REPLICA_HEADER = "X-Test-Replica";
    private static final int ELECTIONS = 6;
    private static final Duration RETRY_PERIOD = Duration.ofSeconds(2);

    private KubernetesMockServer server;
    private final List<Replica> replicas = new ArrayList<>();
    private final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();

    @BeforeEach
    void startServer() {
        server = new KubernetesMockServer(
                new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init();
    }

    @AfterEach
    void stopAll() throws Exception {
        for (Replica replica : replicas) {
            replica.close();
        }
        server.destroy();
    }

    @Test
    void eachReplicaWatchesItsElectionsOverOneConnectionAndReopensOneWhenItBreaks() throws Exception {
        Replica a = start("a");
        Replica b = start("b");
        // The Leases do not exist yet: each election waits a lease duration after creating its Lease.
        await().atMost(Duration.ofSeconds(40)).until(() -> everyElectionLedAndEveryElectorWatching(a, b));
        assertThat(watchRequests("a")).as("a's watches").hasSize(1);
        assertThat(watchRequests("b"))
                .singleElement()
                .asString()
                .contains("labelSelector=leaderpod.dev%2Felection-of%3Djobs");

        // The connections of b break: its six watches end, and restart after a retry period, on one new connection.
        b.proxy.breakConnections();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> b.electors.stream()
                        .anyMatch(elector -> !elector.snapshot().watching()));
        await().atMost(RETRY_PERIOD.multipliedBy(5)).until(() -> everyElectionLedAndEveryElectorWatching(a, b));
        Thread.sleep(RETRY_PERIOD.toMillis()); // any straggling restart would come by now
        assertThat(watchRequests("b"))
                .as("b's watches: the first and one after the break")
                .hasSize(2);
        assertThat(watchRequests("a")).hasSize(1);

        // a leaves: its releases reach b through its watch, and b takes each at once rather than at a poll.
        List<Integer> ledByA = IntStream.range(0, ELECTIONS)
                .filter(i -> a.electors.get(i).isLeader())
                .boxed()
                .toList();
        List<Integer> ledByB = IntStream.range(0, ELECTIONS)
                .filter(i -> b.electors.get(i).isLeader())
                .boxed()
                .toList();
        assertThat(ledByA.size() + ledByB.size()).isEqualTo(ELECTIONS);
        long stopped = System.nanoTime();
        a.stop();
        await().atMost(Duration.ofSeconds(5)).until(() -> b.electors.stream().allMatch(LeaseElector::isLeader));
        for (int i : ledByA) {
            assertThat(Duration.ofNanos(b.grantedAtNanos.get(i) - stopped))
                    .as("election %d handed over through the watch", i)
                    .isLessThan(RETRY_PERIOD.multipliedBy(3).dividedBy(4));
        }
        assertThat(watchRequests("b")).hasSize(2);
    }

    private boolean everyElectionLedAndEveryElectorWatching(Replica a, Replica b) {
        for (int i = 0; i < ELECTIONS; i++) {
            boolean aLeads = a.electors.get(i).isLeader();
            boolean bLeads = b.electors.get(i).isLeader();
            if (aLeads == bLeads) {
                return false;
            }
        }
        return a.electors.stream().allMatch(elector -> elector.snapshot().watching())
                && b.electors.stream().allMatch(elector -> elector.snapshot().watching());
    }

    private List<String> watchRequests(String replica) throws InterruptedException {
        RecordedRequest request;
        while ((request = server.takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
            requests.add(request);
        }
        return requests.stream()
                .filter(r -> replica.equals(r.getHeader(REPLICA_HEADER)))
                .map(RecordedRequest::getPath)
                .filter(path -> path.contains("watch=true"))
                .toList();
    }

    @Test
    void aFollowerOfALeaseLastWrittenWithoutTheLabelWatchesItOnItsOwnAndItsNextWriteLabelsIt() throws Exception {
        // A replica of a version before the label: its store knows no group, labels nothing, watches each Lease alone.
        Replica older = start("older", null, 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> older.electors.get(0).isLeader());
        Replica newer = start("newer", "jobs", 1);

        // Its shared watch cannot see the Lease: when the renews it expects do not come, the follower reads, finds the
        // watch missed them, and watches the Lease on its own, leaving the shared connection alone.
        await().atMost(RETRY_PERIOD.multipliedBy(6))
                .until(() -> watchRequests("newer").stream().anyMatch(path -> path.contains("fieldSelector")));
        await().atMost(RETRY_PERIOD.multipliedBy(3))
                .until(() -> newer.electors.get(0).snapshot().watching());
        assertThat(watchRequests("newer"))
                .as("the shared watch, then the Lease's own")
                .hasSize(2);
        assertThat(lease("jobs").getMetadata().getLabels()).isNullOrEmpty();

        long stopped = System.nanoTime();
        older.stop();
        await().atMost(Duration.ofSeconds(5)).until(() -> newer.electors.get(0).isLeader());
        assertThat(Duration.ofNanos(newer.grantedAtNanos.get(0) - stopped))
                .as("the release heard through the Lease's own watch")
                .isLessThan(RETRY_PERIOD.multipliedBy(3).dividedBy(4));
        assertThat(lease("jobs").getMetadata().getLabels())
                .as("labelled by the newer version's first write")
                .containsEntry("leaderpod.dev/election-of", "jobs");
    }

    private io.fabric8.kubernetes.api.model.coordination.v1.Lease lease(String name) {
        try (KubernetesClient client = server.createClient()) {
            return client.leases().inNamespace(NAMESPACE).withName(name).get();
        }
    }

    private Replica start(String name) throws Exception {
        return start(name, "jobs", ELECTIONS);
    }

    private Replica start(String name, String group, int elections) throws Exception {
        URI api = URI.create(server.createClient().getConfiguration().getMasterUrl());
        TcpProxy proxy = new TcpProxy(new InetSocketAddress("127.0.0.1", api.getPort()));
        Config config = new ConfigBuilder(Config.empty())
                .withMasterUrl(proxy.url())
                .withNamespace(NAMESPACE)
                .withRequestRetryBackoffLimit(0)
                .build();
        config.setCustomHeaders(Map.of(REPLICA_HEADER, name));
        KubernetesClient client =
                new KubernetesClientBuilder().withConfig(config).build();
        Replica replica = new Replica(name, proxy, client, group, elections);
        replicas.add(replica);
        replica.start();
        return replica;
    }

    private static final class Replica {
        final TcpProxy proxy;
        final KubernetesClient client;
        final KubernetesLeaseStore store;
        final ElectionRuntime runtime;
        final List<LeaseElector> electors = new ArrayList<>();
        final List<Long> grantedAtNanos = new CopyOnWriteArrayList<>();
        private boolean stopped;

        Replica(String name, TcpProxy proxy, KubernetesClient client, String group, int elections) {
            this.proxy = proxy;
            this.client = client;
            this.store = group == null
                    ? new KubernetesLeaseStore(client, NAMESPACE, Duration.ofSeconds(1))
                    : new KubernetesLeaseStore(client, NAMESPACE, group, Duration.ofSeconds(1));
            this.runtime = ElectionRuntime.create(name);
            for (int i = 0; i < elections; i++) {
                int election = i;
                grantedAtNanos.add(0L);
                ElectionSettings settings = new ElectionSettings(
                        i == 0 ? "jobs" : "jobs-" + i,
                        name,
                        Duration.ofSeconds(6),
                        Duration.ofSeconds(4),
                        RETRY_PERIOD,
                        Duration.ofSeconds(1));
                electors.add(LeaseElector.builder(settings, store)
                        .runtime(runtime)
                        .listener(new LeadershipListener() {
                            @Override
                            public void onStartedLeading(LeadershipTerm term) {
                                grantedAtNanos.set(election, System.nanoTime());
                            }
                        })
                        .build());
            }
        }

        void start() {
            electors.forEach(LeaseElector::start);
        }

        void stop() {
            if (!stopped) {
                stopped = true;
                electors.forEach(elector -> elector.stop(Duration.ofSeconds(5)));
            }
        }

        void close() throws Exception {
            stop();
            store.close();
            runtime.close();
            client.close();
            proxy.close();
        }
    }
}
