package dev.leaderpod.actuate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.autoconfigure.LeaderElectionAutoConfiguration;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStore;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

class LeaderEndpointAutoConfigurationTest {

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(
                    AutoConfigurations.of(LeaderElectionAutoConfiguration.class, LeaderEndpointAutoConfiguration.class))
            .withPropertyValues("spring.application.name=billing")
            .withBean(LeaseStore.class, InMemoryLeaseStore::new);

    @Test
    void isOffUntilExposed() {
        contextRunner.run(context -> assertThat(context).doesNotHaveBean(LeaderEndpoint.class));
    }

    @Test
    void isOnWhenExposedOverHttp() {
        contextRunner
                .withPropertyValues("management.endpoints.web.exposure.include=health,leader")
                .run(context -> assertThat(context).hasSingleBean(LeaderEndpoint.class));
    }

    @Test
    void isOffWhenAccessIsNone() {
        contextRunner
                .withInitializer(context -> context.getEnvironment()
                        .setConversionService(new ApplicationConversionService())) // as SpringApplication does
                .withPropertyValues(
                        "management.endpoints.web.exposure.include=leader", "management.endpoint.leader.access=none")
                .run(context -> assertThat(context).doesNotHaveBean(LeaderEndpoint.class));
    }

    @Test
    void isOffWithoutActuator() {
        contextRunner
                .withPropertyValues("management.endpoints.web.exposure.include=leader")
                .withClassLoader(new FilteredClassLoader("org.springframework.boot.actuate"))
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(LeaderEndpoint.class));
    }

    @Test
    void showsTheOnlyCandidateLeadingWhenTheElectionIsDisabled() {
        contextRunner
                .withPropertyValues("management.endpoints.web.exposure.include=leader", "leader.enabled=false")
                .run(context -> assertThat(
                                context.getBean(LeaderEndpoint.class).lease().leader())
                        .isTrue());
    }

    @Test
    void backsOffWhenUserDefinesTheirOwnEndpoint() {
        contextRunner
                .withPropertyValues("management.endpoints.web.exposure.include=leader")
                .withUserConfiguration(OwnEndpoint.class)
                .run(context ->
                        assertThat(context).hasSingleBean(LeaderEndpoint.class).hasBean("ownLeaderEndpoint"));
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnEndpoint {
        @Bean
        LeaderEndpoint ownLeaderEndpoint(LeaseElector elector) {
            return new LeaderEndpoint(elector);
        }
    }
}
