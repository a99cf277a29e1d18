package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

class LeaderEnvironmentPostProcessorTest {

    private final LeaderEnvironmentPostProcessor postProcessor = new LeaderEnvironmentPostProcessor();

    @Test
    void turnsSpringCloudKubernetesLeaderElectionOffByDefault() {
        MockEnvironment environment = new MockEnvironment();
        postProcessor.postProcessEnvironment(environment, null);
        assertThat(environment.getProperty("spring.cloud.kubernetes.leader.enabled"))
                .isEqualTo("false");
    }

    @Test
    void userSettingWins() {
        MockEnvironment environment =
                new MockEnvironment().withProperty("spring.cloud.kubernetes.leader.enabled", "true");
        postProcessor.postProcessEnvironment(environment, null);
        assertThat(environment.getProperty("spring.cloud.kubernetes.leader.enabled"))
                .isEqualTo("true");
    }

    @Test
    void keepsSpringCloudHealthComponentsAndIntegrationStartUpLinesOutByDefault() {
        MockEnvironment environment = new MockEnvironment();
        postProcessor.postProcessEnvironment(environment, null);
        assertThat(environment.getProperty("spring.cloud.discovery.client.composite-indicator.enabled"))
                .isEqualTo("false");
        assertThat(environment.getProperty("management.health.refresh.enabled")).isEqualTo("false");
        assertThat(environment.getProperty(
                        "logging.level.org.springframework.integration.endpoint.EventDrivenConsumer"))
                .isEqualTo("WARN");
    }

    @Test
    void eachUserSettingWinsAndTheOthersStillApply() {
        MockEnvironment environment = new MockEnvironment().withProperty("management.health.refresh.enabled", "true");
        postProcessor.postProcessEnvironment(environment, null);
        assertThat(environment.getProperty("management.health.refresh.enabled")).isEqualTo("true");
        assertThat(environment.getProperty("spring.cloud.kubernetes.leader.enabled"))
                .isEqualTo("false");
    }
}
