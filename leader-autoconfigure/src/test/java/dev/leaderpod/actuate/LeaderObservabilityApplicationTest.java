package dev.leaderpod.actuate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.actuate.health.CompositeHealth;
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
 * A whole application with every auto-configuration on this class path (as {@code AutoConfiguration.imports}
 * lists them): metrics, health, endpoint and info all appear and read the same election.
 */
@ExtendWith(OutputCaptureExtension.class)
class LeaderObservabilityApplicationTest {

    @Test
    void everyPieceIsConfiguredFromTheImportsAndShowsTheElection(CapturedOutput output) {
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class)
                .web(WebApplicationType.NONE)
                .properties(
                        "spring.application.name=billing",
                        "leader.identity=pod-a",
                        "spring.main.banner-mode=off",
                        "management.endpoints.web.exposure.include=health,info,leader",
                        "management.endpoint.health.show-details=always")
                .run()) {
            LeaseElector elector = context.getBean(LeaseElector.class);
            await().atMost(Duration.ofSeconds(20)).until(elector::isLeader);

            MeterRegistry registry = context.getBean(MeterRegistry.class);
            assertThat(registry.get("leader.election.leader")
                            .tag("lease", "billing")
                            .gauge()
                            .value())
                    .isEqualTo(1);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> registry.get("leader.election.transitions")
                                    .tags("lease", "billing", "direction", "granted")
                                    .counter()
                                    .count()
                            == 1);

            CompositeHealth health =
                    (CompositeHealth) context.getBean(HealthEndpoint.class).health();
            assertThat(health.getComponents()).containsKey("leader");
            assertThat(health.getComponents().get("leader").getStatus()).isEqualTo(Status.UP);

            assertThat(context.getBean(LeaderEndpoint.class).lease().holder()).isEqualTo("pod-a");
            assertThat(context.getBean(InfoEndpoint.class).info()).containsKey("leader");
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
