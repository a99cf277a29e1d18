package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.store.kubernetes.KubernetesLeaseStore;
import dev.leaderpod.store.local.FileLeaseStore;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.condition.ConditionEvaluationReport;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** One condition chooses the store, and says why in the condition evaluation report. */
class LeaseStoreConditionTest {

    @TempDir
    Path leases;

    // An API server nobody listens on: the choice of the store is all these tests look at.
    private ApplicationContextRunner contextRunner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(
                        LeaderElectionAutoConfiguration.class, LeaderPodLabelAutoConfiguration.class))
                .withBean(KubernetesClient.class, UnreachableKubernetes::client)
                .withPropertyValues(
                        "spring.application.name=billing",
                        "leader.local.directory=" + leases,
                        "leader.kubernetes.label-pod=true",
                        "POD_NAME=billing-7d9f-x2x4q");
    }

    @Test
    void autoIsTheLocalStoreOutsideKubernetesAndTheReportSaysWhy() {
        contextRunner().run(context -> {
            assertThat(context.getBean(LeaseStore.class)).isInstanceOf(FileLeaseStore.class);
            assertThat(context).doesNotHaveBean("leaderPodLabeler");
            assertThat(report(context.getBeanFactory()))
                    .contains("leader.store auto resolved to LOCAL")
                    .doesNotContain("leader.store auto resolved to KUBERNETES");
        });
    }

    @Test
    void autoIsTheKubernetesStoreOnKubernetesWithThePodLabelerThatNeedsIt() {
        contextRunner()
                .withPropertyValues("spring.main.cloud-platform=kubernetes")
                .run(context -> {
                    assertThat(context.getBean(LeaseStore.class)).isInstanceOf(KubernetesLeaseStore.class);
                    assertThat(context).hasBean("leaderPodLabeler");
                    assertThat(report(context.getBeanFactory())).contains("leader.store auto resolved to KUBERNETES");
                });
    }

    @Test
    void anExplicitStoreWinsOverThePlatform() {
        contextRunner()
                .withPropertyValues("spring.main.cloud-platform=kubernetes", "leader.store=local")
                .run(context -> {
                    assertThat(context.getBean(LeaseStore.class)).isInstanceOf(FileLeaseStore.class);
                    assertThat(context).doesNotHaveBean("leaderPodLabeler");
                    assertThat(report(context.getBeanFactory())).contains("leader.store is LOCAL");
                });
    }

    private static String report(org.springframework.beans.factory.config.ConfigurableListableBeanFactory factory) {
        StringBuilder text = new StringBuilder();
        ConditionEvaluationReport.get(factory)
                .getConditionAndOutcomesBySource()
                .forEach((source, outcomes) -> outcomes.forEach(outcome -> text.append(source)
                        .append(": ")
                        .append(outcome.getOutcome().getMessage())
                        .append('\n')));
        return text.toString();
    }
}
