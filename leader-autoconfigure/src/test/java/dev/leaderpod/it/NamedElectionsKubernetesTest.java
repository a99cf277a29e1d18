package dev.leaderpod.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.autoconfigure.LeaderElectionAutoConfiguration;
import dev.leaderpod.autoconfigure.LeaderElections;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
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
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.event.EventListener;
import org.springframework.integration.leader.event.OnGrantedEvent;

/**
 * Two application contexts with a named election against one Kubernetes API (the fabric8 CRUD mock server): a Lease
 * per election, one leader of each, and a prompt hand-over of both when their leader closes.
 */
class NamedElectionsKubernetesTest {

    private static final String NAMESPACE = "team-a";

    private KubernetesMockServer server;
    private final List<Member> members = new ArrayList<>();

    @BeforeEach
    void startServer() {
        server = new KubernetesMockServer(
                new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init();
    }

    @AfterEach
    void stopAll() {
        for (Member member : members) {
            member.context.close();
            member.client.close();
        }
        server.destroy();
    }

    @Test
    void eachElectionHasItsOwnLeaseAndOneLeader() {
        members.add(start("m0"));
        members.add(start("m1"));
        // The Leases do not exist yet: each first election waits one lease duration.
        await().atMost(Duration.ofSeconds(30))
                .until(() -> leadersOf("").size() == 1 && leadersOf("reports").size() == 1);
        await().during(Duration.ofSeconds(1))
                .atMost(Duration.ofSeconds(3))
                .until(() -> grants("jobs") == 1 && grants("reports") == 1);
        assertThat(lease("jobs").getSpec().getHolderIdentity())
                .isEqualTo(leadersOf("").get(0).identity);
        assertThat(lease("jobs-reports").getSpec().getHolderIdentity())
                .isEqualTo(leadersOf("reports").get(0).identity);

        Member leader = leadersOf("").get(0);
        leader.context.close();

        Member other = members.stream().filter(m -> m != leader).findFirst().orElseThrow();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> leadersOf("").equals(List.of(other))
                        && leadersOf("reports").equals(List.of(other)));
        assertThat(lease("jobs").getSpec().getHolderIdentity()).isEqualTo(other.identity);
        assertThat(lease("jobs-reports").getSpec().getHolderIdentity()).isEqualTo(other.identity);
    }

    private Lease lease(String name) {
        return server.createClient()
                .leases()
                .inNamespace(NAMESPACE)
                .withName(name)
                .get();
    }

    private long grants(String role) {
        return members.stream()
                .flatMap(m -> m.grantedRoles.stream())
                .filter(role::equals)
                .count();
    }

    private List<Member> leadersOf(String election) {
        return members.stream()
                .filter(m -> m.context.isActive()
                        && m.context
                                .getBean(LeaderElections.class)
                                .election(election)
                                .isLeader())
                .toList();
    }

    private Member start(String identity) {
        Config config = new ConfigBuilder(Config.empty())
                .withMasterUrl(server.createClient().getConfiguration().getMasterUrl())
                .withNamespace(NAMESPACE)
                .withRequestRetryBackoffLimit(0)
                .build();
        KubernetesClient client =
                new KubernetesClientBuilder().withConfig(config).build();
        Member member = new Member(identity, client);
        member.context = new SpringApplicationBuilder(Member.Config.class)
                .web(WebApplicationType.NONE)
                .properties(
                        "spring.application.name=jobs",
                        "leader.store=kubernetes",
                        "leader.identity=" + identity,
                        "leader.lease-duration=4s",
                        "leader.renew-deadline=2s",
                        "leader.retry-period=500ms",
                        "leader.elections.reports.enabled=true",
                        "leader.spread.enabled=false", // one leader of both here; spreading: SpreadingKubernetesTest
                        "spring.main.banner-mode=off")
                .initializers(context -> {
                    context.getBeanFactory().registerSingleton("kubernetesClient", client);
                    context.getBeanFactory().registerSingleton("member", member);
                })
                .run();
        return member;
    }

    static final class Member {
        final String identity;
        final KubernetesClient client;
        final List<String> grantedRoles = new CopyOnWriteArrayList<>();
        ConfigurableApplicationContext context;

        Member(String identity, KubernetesClient client) {
            this.identity = identity;
            this.client = client;
        }

        @EventListener
        void onGranted(OnGrantedEvent event) {
            grantedRoles.add(event.getRole());
        }

        @SpringBootConfiguration
        @ImportAutoConfiguration(LeaderElectionAutoConfiguration.class)
        static class Config {}
    }
}
