package dev.leaderpod.actuate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.autoconfigure.LeaderElectionAutoConfiguration;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeaseStore;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.autoconfigure.availability.AvailabilityHealthContributorAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.availability.AvailabilityProbesAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.health.HealthContributorAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.health.HealthEndpointAutoConfiguration;
import org.springframework.boot.actuate.health.CompositeHealth;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthComponent;
import org.springframework.boot.actuate.health.HealthContributorRegistry;
import org.springframework.boot.actuate.health.HealthEndpoint;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.availability.ApplicationAvailabilityAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

class LeaderHealthAutoConfigurationTest {

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(
                    AutoConfigurations.of(LeaderElectionAutoConfiguration.class, LeaderHealthAutoConfiguration.class))
            .withPropertyValues("spring.application.name=billing")
            .withBean(LeaseStore.class, InMemoryLeaseStore::new);

    /** With the health endpoint and the Kubernetes probe groups. */
    private ApplicationContextRunner withHealthEndpoint() {
        return contextRunner.withConfiguration(AutoConfigurations.of(
                HealthContributorAutoConfiguration.class,
                HealthEndpointAutoConfiguration.class,
                ApplicationAvailabilityAutoConfiguration.class,
                AvailabilityHealthContributorAutoConfiguration.class,
                AvailabilityProbesAutoConfiguration.class));
    }

    @Test
    void registersTheLeaderContributor() {
        withHealthEndpoint().run(context -> {
            assertThat(context).hasSingleBean(LeaderHealthIndicator.class);
            assertThat(context.getBean(HealthContributorRegistry.class).getContributor("leader"))
                    .isInstanceOf(LeaderHealthIndicator.class);
        });
    }

    @Test
    void isInNeitherProbeGroupByDefault() {
        withHealthEndpoint()
                .withPropertyValues("management.endpoint.health.probes.enabled=true")
                .run(context -> {
                    HealthEndpoint health = context.getBean(HealthEndpoint.class);
                    assertThat(components(health.health())).contains("leader");
                    assertThat(components(health.healthForPath("readiness"))).containsExactly("readinessState");
                    assertThat(components(health.healthForPath("liveness"))).containsExactly("livenessState");
                });
    }

    private static Set<String> components(HealthComponent health) {
        return ((CompositeHealth) health).getComponents().keySet();
    }

    @Test
    void isOffWhenDisabled() {
        contextRunner
                .withPropertyValues("management.health.leader.enabled=false")
                .run(context -> assertThat(context).doesNotHaveBean(LeaderHealthIndicator.class));
    }

    @Test
    void isOffWithoutActuator() {
        contextRunner
                .withClassLoader(new FilteredClassLoader("org.springframework.boot.actuate"))
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(LeaderHealthIndicator.class));
    }

    @Test
    void showsTheOnlyCandidateLeadingWhenTheElectionIsDisabled() {
        contextRunner.withPropertyValues("leader.enabled=false").run(context -> {
            Health health = context.getBean(LeaderHealthIndicator.class).health();
            assertThat(health.getStatus()).isEqualTo(Status.UP);
            assertThat(health.getDetails()).containsEntry("role", "leader");
        });
    }

    @Test
    void backsOffWhenUserDefinesTheirOwnLeaderHealthIndicator() {
        HealthIndicator own = () -> Health.unknown().build();
        withHealthEndpoint()
                .withBean("leaderHealthIndicator", HealthIndicator.class, () -> own)
                .run(context -> {
                    assertThat(context).doesNotHaveBean(LeaderHealthIndicator.class);
                    assertThat(context.getBean(HealthContributorRegistry.class).getContributor("leader"))
                            .isSameAs(own);
                });
    }
}
