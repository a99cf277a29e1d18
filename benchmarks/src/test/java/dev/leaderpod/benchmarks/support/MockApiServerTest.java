package dev.leaderpod.benchmarks.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.mockwebserver.http.MockResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class MockApiServerTest {

    @Test
    void countsRequestsByVerbAndWatchEventsPerNamespace() {
        try (MockApiServer server = new MockApiServer();
                KubernetesClient client = server.adminClient("counted")) {
            AtomicInteger received = new AtomicInteger();
            Watch watch = client.configMaps().withName("c").watch(new Watcher<>() {
                @Override
                public void eventReceived(Action action, ConfigMap resource) {
                    received.incrementAndGet();
                }

                @Override
                public void onClose(WatcherException cause) {}
            });
            ConfigMap map = new ConfigMapBuilder()
                    .withNewMetadata()
                    .withName("c")
                    .endMetadata()
                    .addToData("k", "1")
                    .build();
            client.configMaps().resource(map).create();
            client.configMaps().withName("c").get();
            client.configMaps()
                    .withName("c")
                    .edit(c -> new ConfigMapBuilder(c).addToData("k", "2").build());
            client.configMaps().list();
            await().atMost(Duration.ofSeconds(5)).until(() -> received.get() == 2);
            watch.close();

            MockApiServer.Counts counts = server.counts("counted");
            assertThat(counts.byVerb())
                    .containsEntry("POST", 1L)
                    .containsEntry("WATCH", 1L)
                    .containsEntry("LIST", 1L);
            assertThat(counts.byVerb().get("GET")).isGreaterThanOrEqualTo(1L);
            assertThat(counts.byVerb()).containsKey("PATCH"); // edit() patches
            assertThat(counts.watchEvents()).isEqualTo(2);
            assertThat(server.counts("other").total()).isZero();
        }
    }

    @Test
    void countsPresenceLeasesApartAndEachCandidateOnItsOwnButNotTheObserver() {
        try (MockApiServer server = new MockApiServer();
                KubernetesClient candidate = MockApiServer.client(server.url(), "split", "replica-1", null, null);
                KubernetesClient observer = server.observerClient("split")) {
            Watch watch = candidate.leases().withName("app-job").watch(new Watcher<>() {
                @Override
                public void eventReceived(Action action, Lease resource) {}

                @Override
                public void onClose(WatcherException cause) {}
            });
            candidate.leases().resource(lease("app-job")).create();
            Lease presence = lease("app-candidate-0123456789");
            presence.getMetadata().setLabels(java.util.Map.of("leaderpod.dev/presence-of", "app"));
            candidate.leases().resource(presence).create();
            observer.leases().withName("app-job").get();
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> server.counts("split").watchEvents() == 1);

            MockApiServer.Counts counts = server.counts("split");
            assertThat(counts.byVerbAndResource())
                    .containsEntry("POST leases", 1L)
                    .containsEntry("POST leases (presence)", 1L)
                    .containsEntry("WATCH leases", 1L)
                    .doesNotContainKey("GET leases");
            assertThat(counts.watchEventsByResource()).containsEntry("leases", 1L);
            assertThat(server.candidateCounts("replica-1").requests()).isEqualTo(3);
            assertThat(server.candidateCounts("replica-1").watchRequests()).isEqualTo(1);
            assertThat(server.candidateCounts("replica-1").openWatches()).isEqualTo(1);
            watch.close();
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> server.candidateCounts("replica-1").openWatches() == 0);
        }
    }

    private static Lease lease(String name) {
        return new LeaseBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withNewSpec()
                .withHolderIdentity("someone")
                .endSpec()
                .build();
    }

    @Test
    void answersWithInjectedFaultsWithoutTouchingTheStore() {
        try (MockApiServer server = new MockApiServer();
                KubernetesClient client = server.adminClient("faulty")) {
            server.injectFaults(request -> Optional.of(new MockResponse().setResponseCode(500)));
            try {
                client.configMaps().withName("x").get();
            } catch (KubernetesClientException e) {
                assertThat(e.getCode()).isEqualTo(500);
            }
            server.injectFaults(null);
            assertThat(client.configMaps().withName("x").get()).isNull();
        }
    }
}
