package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.store.kubernetes.LeaseEventRecorder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** When the Kubernetes Events of leadership transitions are recorded, and for which elections. */
class KubernetesEventsAutoConfigurationTest {

    @TempDir
    Path leases;

    // An API server nobody listens on: the elector's calls fail fast, which these tests do not care about.
    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    LeaderElectionAutoConfiguration.class, KubernetesEventsAutoConfiguration.class))
            .withBean(KubernetesClient.class, UnreachableKubernetes::client)
            .withPropertyValues("spring.application.name=billing", "leader.store=kubernetes");

    @Test
    void isOnByDefaultOnTheKubernetesStoreForTheDefaultAndEveryNamedElection() {
        contextRunner
                .withPropertyValues("leader.elections.reports.enabled=true")
                .run(context -> {
                    assertThat(context).hasSingleBean(LeaseEventRecorder.class);
                    assertThat(context.getBean("leaderLeaseEventsListener", LeadershipListener.class)
                                    .toString())
                            .isEqualTo("Kubernetes Events of Lease client-ns/billing");
                    ElectionListenerFactory factory =
                            context.getBean("leaderLeaseEventsListenerFactory", ElectionListenerFactory.class);
                    LeaderElections elections = context.getBean(LeaderElections.class);
                    assertThat(factory.listenerFor(
                                            "reports", elections.electors().get("reports"))
                                    .toString())
                            .isEqualTo("Kubernetes Events of Lease client-ns/billing-reports");
                });
    }

    @Test
    void usesTheLeasesNamespace() {
        contextRunner
                .withPropertyValues("leader.namespace=team-a")
                .run(context -> assertThat(context.getBean("leaderLeaseEventsListener", LeadershipListener.class)
                                .toString())
                        .isEqualTo("Kubernetes Events of Lease team-a/billing"));
    }

    @Test
    void isOffWhenDisabledByItsProperty() {
        contextRunner
                .withPropertyValues("leader.kubernetes.events.enabled=false")
                .run(context -> assertThat(context)
                        .hasNotFailed()
                        .doesNotHaveBean(LeaseEventRecorder.class)
                        .doesNotHaveBean("leaderLeaseEventsListener"));
    }

    @Test
    void isOffOnTheLocalStore() {
        contextRunner
                .withPropertyValues("leader.store=local", "leader.local.directory=" + leases)
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(LeaseEventRecorder.class));
    }

    @Test
    void isOffWhenTheElectionIsDisabled() {
        contextRunner
                .withPropertyValues("leader.enabled=false")
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(LeaseEventRecorder.class));
    }

    @Test
    void isOffWithoutTheKubernetesClient() {
        contextRunner
                .withClassLoader(new FilteredClassLoader(KubernetesClient.class))
                .withPropertyValues("leader.store=local", "leader.local.directory=" + leases)
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(LeaseEventRecorder.class));
    }
}
