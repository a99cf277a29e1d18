package dev.leaderpod.actuate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.annotation.LeaderOnlyObserver;
import dev.leaderpod.autoconfigure.LeaderElectionAutoConfiguration;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeaseStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

class LeaderMetricsAutoConfigurationTest {

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    LeaderElectionAutoConfiguration.class,
                    LeaderMetricsAutoConfiguration.class,
                    MetricsAutoConfiguration.class,
                    SimpleMetricsExportAutoConfiguration.class,
                    CompositeMeterRegistryAutoConfiguration.class))
            .withPropertyValues("spring.application.name=billing")
            .withBean(LeaseStore.class, InMemoryLeaseStore::new);

    @Test
    void metersAreFedByTheElectorOfTheContext() {
        contextRunner.run(context -> {
            assertThat(context).hasSingleBean(LeaderElectionMetrics.class).hasSingleBean(LeaderOnlyMetrics.class);
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> registry.get("leader.election.transitions")
                                    .tag("lease", "billing")
                                    .tag("direction", "granted")
                                    .counter()
                                    .count()
                            == 1);
            assertThat(registry.get("leader.election.leader")
                            .tag("lease", "billing")
                            .gauge()
                            .value())
                    .isEqualTo(1);
        });
    }

    @Test
    void skippedLeaderOnlyCallsAreCountedWithTheLeaseName() {
        contextRunner.run(context -> {
            LeaderOnlyObserver observer = context.getBean("leaderOnlyMetrics", LeaderOnlyObserver.class);
            observer.onSkipped(String.class, String.class.getMethod("isEmpty"));
            assertThat(context.getBean(MeterRegistry.class)
                            .get("leader.only.skipped")
                            .tags("lease", "billing", "class", "java.lang.String", "method", "isEmpty")
                            .counter()
                            .count())
                    .isEqualTo(1);
        });
    }

    @Test
    void isOffWithoutAMeterRegistry() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(
                        LeaderElectionAutoConfiguration.class, LeaderMetricsAutoConfiguration.class))
                .withPropertyValues("spring.application.name=billing")
                .withBean(LeaseStore.class, InMemoryLeaseStore::new)
                .run(context -> assertThat(context)
                        .doesNotHaveBean(LeaderElectionMetrics.class)
                        .doesNotHaveBean(LeaderOnlyMetrics.class));
    }

    @Test
    void isOffWithoutMicrometer() {
        contextRunner
                .withClassLoader(new FilteredClassLoader("io.micrometer"))
                .run(context -> assertThat(context)
                        .hasNotFailed()
                        .doesNotHaveBean(LeaderElectionMetrics.class)
                        .doesNotHaveBean(LeaderOnlyMetrics.class));
    }

    @Test
    void countsTheOnlyCandidateAsLeaderWhenTheElectionIsDisabled() {
        // Truthful: a disabled instance runs leader-only work, so two of them sum to 2 and TwoLeaders fires.
        contextRunner
                .withPropertyValues("leader.enabled=false")
                .run(context -> assertThat(context.getBean(MeterRegistry.class)
                                .get("leader.election.leader")
                                .tag("lease", "billing")
                                .gauge()
                                .value())
                        .isEqualTo(1));
    }

    @Test
    void backsOffWhenUserDefinesTheirOwnMetricsBeans() {
        LeadershipListener own = new LeadershipListener() {};
        LeaderOnlyObserver ownObserver = (type, method) -> {};
        contextRunner
                .withBean("leaderElectionMetrics", LeadershipListener.class, () -> own)
                .withBean("leaderOnlyMetrics", LeaderOnlyObserver.class, () -> ownObserver)
                .run(context -> {
                    assertThat(context)
                            .doesNotHaveBean(LeaderElectionMetrics.class)
                            .doesNotHaveBean(LeaderOnlyMetrics.class);
                    assertThat(context.getBean(MeterRegistry.class)
                                    .find("leader.election.leader")
                                    .gauge())
                            .isNull();
                });
    }
}
