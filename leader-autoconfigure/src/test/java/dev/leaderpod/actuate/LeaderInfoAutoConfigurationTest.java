package dev.leaderpod.actuate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.actuate.LeaderEndpoint.LeaderDescriptor;
import dev.leaderpod.autoconfigure.LeaderElectionAutoConfiguration;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeaseStore;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.info.Info;
import org.springframework.boot.actuate.info.InfoContributor;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

class LeaderInfoAutoConfigurationTest {

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(
                    AutoConfigurations.of(LeaderElectionAutoConfiguration.class, LeaderInfoAutoConfiguration.class))
            .withPropertyValues("spring.application.name=billing", "leader.identity=pod-a")
            .withBean(LeaseStore.class, InMemoryLeaseStore::new);

    @Test
    void contributesTheEndpointSummaryUnderLeader() {
        contextRunner.run(context -> {
            InfoContributor contributor = context.getBean("leaderElectionInfoContributor", InfoContributor.class);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> summary(contributor).leader());
            LeaderDescriptor summary = summary(contributor);
            assertThat(summary.lease()).isEqualTo("billing");
            assertThat(summary.identity()).isEqualTo("pod-a");
            assertThat(summary.holder()).isEqualTo("pod-a");
            assertThat(summary.leaseTransitions()).isZero();
        });
    }

    @Test
    void isOffWhenDisabled() {
        contextRunner
                .withPropertyValues("management.info.leader.enabled=false")
                .run(context -> assertThat(context).doesNotHaveBean(LeaderInfoContributor.class));
    }

    @Test
    void showsTheOnlyCandidateLeadingWhenTheElectionIsDisabled() {
        contextRunner.withPropertyValues("leader.enabled=false").run(context -> {
            InfoContributor contributor = context.getBean("leaderElectionInfoContributor", InfoContributor.class);
            assertThat(summary(contributor).leader()).isTrue();
            assertThat(summary(contributor).holder()).isEqualTo("pod-a");
        });
    }

    @Test
    void isOffWhenInfoDefaultsAreDisabled() {
        contextRunner
                .withPropertyValues("management.info.defaults.enabled=false")
                .run(context -> assertThat(context).doesNotHaveBean(LeaderInfoContributor.class));
    }

    @Test
    void isOffWithoutActuator() {
        contextRunner
                .withClassLoader(new FilteredClassLoader("org.springframework.boot.actuate"))
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(LeaderInfoContributor.class));
    }

    @Test
    void backsOffWhenUserDefinesTheirOwnLeaderInfoContributor() {
        InfoContributor own = builder -> builder.withDetail("leader", "mine");
        contextRunner
                .withBean("leaderElectionInfoContributor", InfoContributor.class, () -> own)
                .run(context -> assertThat(context).doesNotHaveBean(LeaderInfoContributor.class));
    }

    private static LeaderDescriptor summary(InfoContributor contributor) {
        Info.Builder builder = new Info.Builder();
        contributor.contribute(builder);
        return (LeaderDescriptor) builder.build().get("leader");
    }
}
