package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.store.kubernetes.LeaderPodLabeler;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

class LeaderPodLabelAutoConfigurationTest {

    @TempDir
    Path leases;

    // An API server nobody listens on: the elector's calls fail fast, which these tests do not care about.
    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(
                    AutoConfigurations.of(LeaderElectionAutoConfiguration.class, LeaderPodLabelAutoConfiguration.class))
            .withBean(KubernetesClient.class, UnreachableKubernetes::client)
            .withPropertyValues(
                    "spring.application.name=billing", "leader.store=kubernetes", "POD_NAME=billing-7d9f-x2x4q");

    @Test
    void isOffByDefault() {
        contextRunner.run(context -> assertThat(context).doesNotHaveBean(LeaderPodLabeler.class));
    }

    @Test
    void labelsThePodNamedByPodNameInTheLeaseNamespace() {
        contextRunner
                .withPropertyValues("leader.kubernetes.label-pod=true", "leader.namespace=team-a")
                .run(context -> assertThat(
                                context.getBean(LeaderPodLabeler.class).pod())
                        .isEqualTo("team-a/billing-7d9f-x2x4q"));
    }

    @Test
    void podNamespaceFromTheDownwardApiWins() {
        contextRunner
                .withPropertyValues(
                        "leader.kubernetes.label-pod=true", "leader.namespace=team-a", "POD_NAMESPACE=team-b")
                .run(context -> assertThat(
                                context.getBean(LeaderPodLabeler.class).pod())
                        .isEqualTo("team-b/billing-7d9f-x2x4q"));
    }

    @Test
    void fallsBackToHostnameAndTheClientNamespace() {
        contextRunner
                .withPropertyValues("leader.kubernetes.label-pod=true", "POD_NAME=", "HOSTNAME=billing-0")
                .run(context -> assertThat(
                                context.getBean(LeaderPodLabeler.class).pod())
                        .isEqualTo("client-ns/billing-0"));
    }

    @Test
    void failsNamingThePropertyWhenThePodNameIsUnknown() {
        contextRunner
                .withPropertyValues("leader.kubernetes.label-pod=true", "POD_NAME=", "HOSTNAME=")
                .run(context -> assertThat(context)
                        .getFailure()
                        .rootCause()
                        .isInstanceOf(LeaderConfigurationException.class)
                        .hasMessageContaining("leader.kubernetes.label-pod")
                        .hasMessageContaining("POD_NAME"));
    }

    @Test
    void doesNothingOnTheLocalStore() {
        contextRunner
                .withPropertyValues(
                        "leader.kubernetes.label-pod=true", "leader.store=local", "leader.local.directory=" + leases)
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(LeaderPodLabeler.class));
    }

    @Test
    void doesNothingWithoutTheKubernetesClient() {
        contextRunner
                .withClassLoader(new FilteredClassLoader(KubernetesClient.class))
                .withPropertyValues(
                        "leader.kubernetes.label-pod=true", "leader.store=local", "leader.local.directory=" + leases)
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(LeaderPodLabeler.class));
    }

    @Test
    void backsOffWhenTheUserDefinesALabeler() {
        contextRunner
                .withPropertyValues("leader.kubernetes.label-pod=true", "leader.namespace=team-a")
                .withBean(
                        "myLabeler",
                        LeaderPodLabeler.class,
                        () -> new LeaderPodLabeler(Config.empty(), "x", "y", "z", java.time.Duration.ofSeconds(1)))
                .run(context -> assertThat(
                                context.getBean(LeaderPodLabeler.class).pod())
                        .isEqualTo("x/y"));
    }
}
