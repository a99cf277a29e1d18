package dev.leaderpod.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.autoconfigure.KubernetesEventsAutoConfiguration;
import dev.leaderpod.autoconfigure.LeaderElectionAutoConfiguration;
import dev.leaderpod.autoconfigure.LeaderElections;
import dev.leaderpod.core.LeaseElector;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Two applications with a named election against one Kubernetes API (the fabric8 CRUD mock server): each Lease's
 * history is told by Kubernetes Events on it, as {@code kubectl describe lease} lists them (by the Lease's uid) —
 * the first leader, and the hand-over when it closes.
 */
class KubernetesEventsTest {

    private static final String NAMESPACE = "team-a";

    private KubernetesMockServer server;
    private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();
    private final List<KubernetesClient> clients = new ArrayList<>();

    @BeforeEach
    void startServer() {
        server = new KubernetesMockServer(
                new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init();
    }

    @AfterEach
    void stopAll() {
        contexts.forEach(ConfigurableApplicationContext::close);
        clients.forEach(KubernetesClient::close);
        server.destroy();
    }

    @Test
    void everyElectionsLeaseTellsWhoLeadAndHowLeadershipPassed() {
        ConfigurableApplicationContext first = start("m0");
        // The Leases do not exist yet: the first candidate creates each and leads one lease duration later.
        await().atMost(Duration.ofSeconds(30)).until(() -> leadsAll(first));
        ConfigurableApplicationContext second = start("m1");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> second.getBean(LeaderElections.class).electors().values().stream()
                        .allMatch(elector -> elector.snapshot().watching()));

        first.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> leadsAll(second));

        await().atMost(Duration.ofSeconds(20))
                .until(() -> messagesOn("jobs").size() == 2
                        && messagesOn("jobs-reports").size() == 2);
        assertThat(messagesOn("jobs"))
                .containsExactlyInAnyOrder(
                        "m0 became leader of jobs (fencing token 0), the first leader it has seen",
                        "m1 became leader of jobs (fencing token 1) after m0 released it");
        assertThat(messagesOn("jobs-reports"))
                .containsExactlyInAnyOrder(
                        "m0 became leader of jobs-reports (fencing token 0), the first leader it has seen",
                        "m1 became leader of jobs-reports (fencing token 1) after m0 released it");
        assertThat(events()).allSatisfy(event -> {
            assertThat(event.getReason()).isEqualTo("LeaderElection");
            assertThat(event.getInvolvedObject().getKind()).isEqualTo("Lease");
            assertThat(event.getInvolvedObject().getApiVersion()).isEqualTo("coordination.k8s.io/v1");
        });
    }

    /** The messages of the events on the Lease {@code name}, matched as kubectl describe does: by name and uid. */
    private List<String> messagesOn(String name) {
        String uid = admin().leases()
                .inNamespace(NAMESPACE)
                .withName(name)
                .get()
                .getMetadata()
                .getUid();
        return events().stream()
                .filter(event -> name.equals(event.getInvolvedObject().getName())
                        && uid.equals(event.getInvolvedObject().getUid()))
                .map(Event::getMessage)
                .toList();
    }

    private List<Event> events() {
        return admin().v1().events().inNamespace(NAMESPACE).list().getItems();
    }

    private KubernetesClient admin() {
        KubernetesClient admin = server.createClient();
        clients.add(admin);
        return admin;
    }

    private static boolean leadsAll(ConfigurableApplicationContext context) {
        return context.getBean(LeaderElections.class).electors().values().stream()
                .allMatch(LeaseElector::isLeader);
    }

    private ConfigurableApplicationContext start(String identity) {
        Config config = new ConfigBuilder(Config.empty())
                .withMasterUrl(server.createClient().getConfiguration().getMasterUrl())
                .withNamespace(NAMESPACE)
                .withRequestRetryBackoffLimit(0)
                .build();
        KubernetesClient client =
                new KubernetesClientBuilder().withConfig(config).build();
        clients.add(client);
        ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class)
                .web(WebApplicationType.NONE)
                .properties(
                        "spring.application.name=jobs",
                        "leader.store=kubernetes",
                        "leader.identity=" + identity,
                        "leader.lease-duration=4s",
                        "leader.renew-deadline=2s",
                        "leader.retry-period=500ms",
                        "leader.elections.reports.enabled=true",
                        "leader.spread.enabled=false", // the hand-over on close, not the moves of spreading
                        "spring.main.banner-mode=off")
                .initializers(ctx -> ctx.getBeanFactory().registerSingleton("kubernetesClient", client))
                .run();
        contexts.add(context);
        return context;
    }

    @SpringBootConfiguration
    @ImportAutoConfiguration({LeaderElectionAutoConfiguration.class, KubernetesEventsAutoConfiguration.class})
    static class App {}
}
