package dev.leaderpod.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.autoconfigure.LeaderElectionAutoConfiguration;
import dev.leaderpod.core.LeaseElector;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetSocketAddress;
import java.net.URI;
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
import org.springframework.integration.leader.event.OnRevokedEvent;

/**
 * Three application contexts with the starter against one Kubernetes API (the fabric8 CRUD mock server), each
 * through its own proxy so one can be cut off the network.
 */
class KubernetesElectionIntegrationTest {

    private static final String NAMESPACE = "team-a";

    private KubernetesMockServer server;
    private final List<TcpProxy> proxies = new ArrayList<>();
    private final List<Member> members = new ArrayList<>();

    @BeforeEach
    void startServer() {
        server = new KubernetesMockServer(
                new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init();
    }

    @AfterEach
    void stopAll() throws Exception {
        for (Member member : members) {
            member.context.close();
            member.client.close();
        }
        for (TcpProxy proxy : proxies) {
            proxy.close();
        }
        server.destroy();
    }

    @Test
    void exactlyOneLeaderAndPromptHandOverWhenTheLeaderCloses() throws Exception {
        for (int i = 0; i < 3; i++) {
            members.add(
                    start("m" + i, "leader.lease-duration=15s", "leader.renew-deadline=10s", "leader.retry-period=2s"));
        }
        // The Lease does not exist yet: the first election waits one lease duration (docs/design.md, "Third parties
        // cannot make two leaders").
        await().atMost(Duration.ofSeconds(35)).until(() -> leaders().size() == 1);
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> grants() == 1);

        Member leader = leaders().get(0);
        long closing = System.nanoTime();
        leader.context.close();
        long closed = System.nanoTime();
        await().atMost(Duration.ofSeconds(5)).until(() -> leaders().size() == 1);
        Member next = leaders().get(0);
        long handOverMillis = (next.grantedAtNanos.get(0) - closed) / 1_000_000;
        assertThat(leader.events).containsExactly("granted", "revoked");
        assertThat(handOverMillis).as("hand-over after close, ms").isLessThan(2000); // well under one poll
        System.out.printf(
                "Kubernetes store: close took %d ms, hand-over after close %d ms%n",
                (closed - closing) / 1_000_000, handOverMillis);
        Lease lease = server.createClient()
                .leases()
                .inNamespace(NAMESPACE)
                .withName("jobs")
                .get();
        assertThat(lease.getSpec().getHolderIdentity()).isEqualTo(next.identity);
        assertThat(lease.getSpec().getLeaseTransitions()).isEqualTo(1);
    }

    @Test
    void leaderCutOffFromTheApiRevokesItselfBeforeAFollowerTakesOver() throws Exception {
        for (int i = 0; i < 3; i++) {
            members.add(start(
                    "m" + i, "leader.lease-duration=4s", "leader.renew-deadline=2s", "leader.retry-period=500ms"));
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> leaders().size() == 1);
        Member leader = leaders().get(0);

        long cutAt = System.nanoTime();
        leader.proxy.cut();
        await().atMost(Duration.ofSeconds(15))
                .until(() -> members.stream().anyMatch(m -> m != leader && !m.grantedAtNanos.isEmpty()));
        Member next = members.stream()
                .filter(m -> m != leader && !m.grantedAtNanos.isEmpty())
                .findFirst()
                .orElseThrow();

        assertThat(leader.events).containsExactly("granted", "revoked");
        long revokedAt = leader.revokedAtNanos.get(0);
        long grantedAt = next.grantedAtNanos.get(0);
        assertThat(revokedAt)
                .as("old leader revoked before the new one was granted")
                .isLessThan(grantedAt);
        assertThat((revokedAt - cutAt) / 1_000_000)
                .as("revocation after cut, ms")
                .isLessThanOrEqualTo(2000 + 500);
        assertThat((grantedAt - cutAt) / 1_000_000)
                .as("take-over after cut, ms")
                .isGreaterThanOrEqualTo(4000 - 500) // the follower saw the last renew at most one retry before the cut
                .isLessThan(4000 + 3000);
        assertThat(leader.context.getBean(LeaseElector.class).isLeader()).isFalse();
        System.out.printf(
                "Kubernetes store, leader cut off: revoked after %d ms, follower granted after %d ms%n",
                (revokedAt - cutAt) / 1_000_000, (grantedAt - cutAt) / 1_000_000);
    }

    private long grants() {
        return members.stream().mapToLong(m -> m.grantedAtNanos.size()).sum();
    }

    private List<Member> leaders() {
        return members.stream()
                .filter(m -> m.context.isActive()
                        && m.context.getBean(LeaseElector.class).isLeader())
                .toList();
    }

    private Member start(String identity, String... timings) throws Exception {
        URI api = URI.create(server.createClient().getConfiguration().getMasterUrl());
        TcpProxy proxy = new TcpProxy(new InetSocketAddress("127.0.0.1", api.getPort()));
        proxies.add(proxy);
        Config config = new ConfigBuilder(Config.empty())
                .withMasterUrl(proxy.url())
                .withNamespace(NAMESPACE)
                .withRequestRetryBackoffLimit(0)
                .build();
        KubernetesClient client =
                new KubernetesClientBuilder().withConfig(config).build();
        List<String> properties = new ArrayList<>(List.of(
                "spring.application.name=jobs",
                "leader.store=kubernetes",
                "leader.identity=" + identity,
                "spring.main.banner-mode=off"));
        properties.addAll(List.of(timings));
        Member member = new Member(identity, proxy, client);
        member.context = new SpringApplicationBuilder(Member.Config.class)
                .web(WebApplicationType.NONE)
                .properties(properties.toArray(String[]::new))
                .initializers(context -> {
                    context.getBeanFactory().registerSingleton("kubernetesClient", client);
                    context.getBeanFactory().registerSingleton("member", member);
                })
                .run();
        return member;
    }

    static final class Member {
        final String identity;
        final TcpProxy proxy;
        final KubernetesClient client;
        final List<String> events = new CopyOnWriteArrayList<>();
        final List<Long> grantedAtNanos = new CopyOnWriteArrayList<>();
        final List<Long> revokedAtNanos = new CopyOnWriteArrayList<>();
        ConfigurableApplicationContext context;

        Member(String identity, TcpProxy proxy, KubernetesClient client) {
            this.identity = identity;
            this.proxy = proxy;
            this.client = client;
        }

        @EventListener
        void onGranted(OnGrantedEvent event) {
            grantedAtNanos.add(System.nanoTime());
            events.add("granted");
        }

        @EventListener
        void onRevoked(OnRevokedEvent event) {
            revokedAtNanos.add(System.nanoTime());
            events.add("revoked");
        }

        @SpringBootConfiguration
        @ImportAutoConfiguration(LeaderElectionAutoConfiguration.class)
        static class Config {}
    }
}
