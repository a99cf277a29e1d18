package dev.leaderpod.actuate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.actuate.LeaderEndpoint.LeaderDescriptor;
import dev.leaderpod.autoconfigure.LeaderElections;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeaseStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.actuate.health.CompositeHealth;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthEndpoint;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.actuate.info.InfoEndpoint;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

/**
 * A whole application with a named election: meters tagged with its lease, its entry in the endpoint, the info and
 * the health details; the health status stays the default election's.
 */
@ExtendWith(OutputCaptureExtension.class)
class NamedElectionsObservabilityTest {

    @Test
    void everyElectionThisInstanceRunsInShowsItsOwnLease(CapturedOutput output) {
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class)
                .web(WebApplicationType.NONE)
                .properties(
                        "spring.application.name=billing",
                        "leader.identity=pod-a",
                        "leader.elections.reports.enabled=true",
                        "leader.elections.audit.enabled=false",
                        "spring.main.banner-mode=off",
                        "management.endpoints.web.exposure.include=health,info,leader",
                        "management.endpoint.health.show-details=always")
                .run()) {
            LeaderElections elections = context.getBean(LeaderElections.class);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> elections.election("").isLeader()
                            && elections.election("reports").isLeader());

            MeterRegistry registry = context.getBean(MeterRegistry.class);
            assertThat(registry.get("leader.election.leader")
                            .tag("lease", "billing-reports")
                            .gauge()
                            .value())
                    .isEqualTo(1);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> registry.get("leader.election.transitions")
                                    .tags("lease", "billing-reports", "direction", "granted")
                                    .counter()
                                    .count()
                            == 1);

            LeaderDescriptor lease = context.getBean(LeaderEndpoint.class).lease();
            assertThat(lease.lease()).isEqualTo("billing");
            assertThat(lease.elections()).containsOnlyKeys("reports"); // not a candidate in audit
            LeaderDescriptor reports = lease.elections().get("reports");
            assertThat(reports.lease()).isEqualTo("billing-reports");
            assertThat(reports.leader()).isTrue();
            assertThat(reports.holder()).isEqualTo("pod-a");
            assertThat(reports.term().fencingToken()).isZero();
            assertThat(reports.elections()).isNull();

            assertThat(context.getBean(InfoEndpoint.class).info().get("leader"))
                    .isInstanceOfSatisfying(
                            LeaderDescriptor.class,
                            info -> assertThat(info.elections().get("reports").holder())
                                    .isEqualTo("pod-a"));

            Health health = (Health)
                    ((CompositeHealth) context.getBean(HealthEndpoint.class).health())
                            .getComponents()
                            .get("leader");
            assertThat(health.getStatus()).isEqualTo(Status.UP);
            assertThat(health.getDetails()).containsEntry("role", "leader");
            @SuppressWarnings("unchecked")
            Map<String, Map<String, Object>> named =
                    (Map<String, Map<String, Object>>) health.getDetails().get("elections");
            assertThat(named).containsOnlyKeys("reports");
            assertThat(named.get("reports"))
                    .containsEntry("role", "leader")
                    .containsEntry("holder", "pod-a")
                    .containsEntry("fencingToken", 0L)
                    .containsKey("lastRenewAge");
        }
        assertThat(output).doesNotContain("is not eligible for getting processed by all BeanPostProcessors");
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {
        @Bean
        LeaseStore leaseStore() {
            return new InMemoryLeaseStore();
        }
    }
}
