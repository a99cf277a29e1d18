package dev.leaderpod.actuate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.autoconfigure.LeaderElectionAutoConfiguration;
import dev.leaderpod.autoconfigure.LeaderOnlyAutoConfiguration;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The @LeaderOnly interceptor and the skipped-calls meter, wired together by auto-configuration. */
class LeaderOnlySkippedCallsApplicationTest {

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    AopAutoConfiguration.class,
                    MetricsAutoConfiguration.class,
                    SimpleMetricsExportAutoConfiguration.class,
                    CompositeMeterRegistryAutoConfiguration.class,
                    LeaderElectionAutoConfiguration.class,
                    LeaderOnlyAutoConfiguration.class,
                    LeaderMetricsAutoConfiguration.class))
            .withPropertyValues("spring.application.name=reports");

    @Test
    void aFollowersSkippedCallsAreCountedByMethod() {
        InMemoryLeaseStore store = new InMemoryLeaseStore();
        // Somebody else holds the lease for a long time: this instance stays a follower.
        store.create("reports", new LeaseRecord("other", Duration.ofHours(1), Instant.now(), Instant.now(), 4L));
        contextRunner
                .withBean(LeaseStore.class, () -> store)
                .withBean(Reports.class)
                .run(context -> {
                    Reports reports = context.getBean(Reports.class);
                    reports.send();
                    reports.send();

                    assertThat(reports.sent).isZero();
                    assertThat(context.getBean(MeterRegistry.class)
                                    .get("leader.only.skipped")
                                    .tag("lease", "reports")
                                    .tag("method", "send")
                                    .counter()
                                    .count())
                            .isEqualTo(2);
                });
    }

    static class Reports {
        int sent;

        @LeaderOnly
        public void send() {
            sent++;
        }
    }
}
