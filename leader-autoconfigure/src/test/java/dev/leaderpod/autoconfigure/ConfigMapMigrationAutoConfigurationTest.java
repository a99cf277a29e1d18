package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * {@code leader.migration.config-map} (docs/design.md, "Migration from the ConfigMap leader"): off by default, built from
 * spring-cloud-kubernetes' own {@code spring.cloud.kubernetes.leader.*} properties, and refused with the property to fix
 * when it cannot work.
 */
class ConfigMapMigrationAutoConfigurationTest {

    @TempDir
    Path leases;

    // An API server nobody listens on: the elector's and the migration's calls fail fast, which these tests ignore.
    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(LeaderElectionAutoConfiguration.class))
            .withBean(KubernetesClient.class, UnreachableKubernetes::client)
            .withPropertyValues(
                    "spring.application.name=billing", "leader.store=kubernetes", "POD_NAME=billing-7d9f-x2x4q");

    @Test
    void isOffByDefault() {
        contextRunner.run(context -> assertThat(context).doesNotHaveBean(ElectionMigration.class));
    }

    @Test
    void isOnWithTheRoleOfTheOldPods() {
        contextRunner
                .withPropertyValues("leader.migration.config-map=true", "spring.cloud.kubernetes.leader.role=billing")
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(ElectionMigration.class);
                });
    }

    @Test
    void withoutTheRoleStartUpFailsNamingIt() {
        contextRunner
                .withPropertyValues("leader.migration.config-map=true")
                .run(context -> assertThat(context)
                        .getFailure()
                        .rootCause()
                        .isInstanceOf(LeaderConfigurationException.class)
                        .hasMessageContaining("spring.cloud.kubernetes.leader.role")
                        .hasMessageContaining("the role the old version's pods elect"));
    }

    @Test
    void withoutThePodNameStartUpFailsNamingPodName() {
        contextRunner
                .withPropertyValues(
                        "leader.migration.config-map=true",
                        "spring.cloud.kubernetes.leader.role=billing",
                        "POD_NAME=",
                        "HOSTNAME=")
                .run(context -> assertThat(context)
                        .getFailure()
                        .rootCause()
                        .isInstanceOf(LeaderConfigurationException.class)
                        .hasMessageContaining("leader.migration.config-map")
                        .hasMessageContaining("POD_NAME"));
    }

    @Test
    void withSpringCloudKubernetesOwnElectionOnStartUpFails() {
        contextRunner
                .withPropertyValues(
                        "leader.migration.config-map=true",
                        "spring.cloud.kubernetes.leader.role=billing",
                        "spring.cloud.kubernetes.leader.enabled=true")
                .run(context -> assertThat(context)
                        .getFailure()
                        .rootCause()
                        .isInstanceOf(LeaderConfigurationException.class)
                        .hasMessageContaining("spring.cloud.kubernetes.leader.enabled"));
    }

    @Test
    void onTheLocalStoreStartUpFailsNamingTheProperty() {
        contextRunner
                .withPropertyValues(
                        "leader.store=local",
                        "leader.local.directory=" + leases,
                        "leader.migration.config-map=true",
                        "spring.cloud.kubernetes.leader.role=billing")
                .run(context -> assertThat(context)
                        .getFailure()
                        .rootCause()
                        .isInstanceOf(LeaderConfigurationException.class)
                        .hasMessageContaining("leader.migration.config-map")
                        .hasMessageContaining("needs the Kubernetes store"));
    }
}
