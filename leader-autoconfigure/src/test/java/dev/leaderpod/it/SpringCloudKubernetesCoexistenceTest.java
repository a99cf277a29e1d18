package dev.leaderpod.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.store.kubernetes.KubernetesLeaseStore;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.time.Duration;
import java.util.HashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.cloud.kubernetes.commons.leader.LeaderInitiator;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * docs/design.md, "Coexistence with spring-cloud-kubernetes": with spring-cloud-kubernetes-fabric8-leader on the class path and the app on Kubernetes, exactly one
 * election runs — ours — unless the user explicitly turns spring-cloud-kubernetes' ConfigMap election on.
 */
class SpringCloudKubernetesCoexistenceTest {

    private KubernetesMockServer server;

    @BeforeEach
    void startServer() {
        server = new KubernetesMockServer(
                new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init();
    }

    @AfterEach
    void stopServer() {
        server.destroy();
    }

    @Test
    void onlyTheLeaseElectionRunsByDefault() {
        try (ConfigurableApplicationContext context = run()) {
            assertThat(context.getBeansOfType(LeaderInitiator.class)).isEmpty();
            assertThat(context.getBean(LeaseStore.class)).isInstanceOf(KubernetesLeaseStore.class);
            LeaseElector elector = context.getBean(LeaseElector.class);
            await().atMost(Duration.ofSeconds(10)).until(elector::isLeader);
        }
        // Released on close, before spring-cloud-kubernetes closed the client on the same event.
        Lease lease = server.createClient()
                .leases()
                .inNamespace("test")
                .withName("billing")
                .get();
        assertThat(lease.getSpec().getHolderIdentity()).isEmpty();
        assertThat(lease.getSpec().getLeaseDurationSeconds()).isEqualTo(1);
    }

    @Test
    void configMapElectionRunsOnlyWhenTheUserTurnsItOn() {
        try (ConfigurableApplicationContext context = run("spring.cloud.kubernetes.leader.enabled=true")) {
            assertThat(context.getBeansOfType(LeaderInitiator.class)).hasSize(1);
        }
        System.setProperty("spring.cloud.kubernetes.leader.enabled", "true");
        try (ConfigurableApplicationContext context = run()) {
            assertThat(context.getBeansOfType(LeaderInitiator.class)).hasSize(1);
        } finally {
            System.clearProperty("spring.cloud.kubernetes.leader.enabled");
        }
    }

    private ConfigurableApplicationContext run(String... extra) {
        return new SpringApplicationBuilder(App.class)
                .web(WebApplicationType.NONE)
                .properties(
                        "spring.main.cloud-platform=kubernetes",
                        "spring.application.name=billing",
                        "leader.namespace=test",
                        // short timings: the first election waits a lease duration for the absent Lease
                        "leader.lease-duration=3s",
                        "leader.renew-deadline=2s",
                        "leader.retry-period=1s",
                        "spring.main.banner-mode=off",
                        "debug=true")
                .properties(extra)
                // a client per context: spring-cloud-kubernetes closes it when the context closes
                .initializers(ctx -> ctx.getBeanFactory().registerSingleton("kubernetesClient", server.createClient()))
                .run();
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {}
}
