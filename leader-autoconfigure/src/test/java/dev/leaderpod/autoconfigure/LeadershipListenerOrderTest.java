package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.actuate.LeaderMetricsAutoConfiguration;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.events.LeaderEventPublishingListener;
import dev.leaderpod.leaderonly.LeaderOnlyLeadershipListener;
import dev.leaderpod.store.kubernetes.LeaderPodLabeler;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The starter's listeners take the places {@code LeadershipListenerOrder} states, around the application's own. */
class LeadershipListenerOrderTest {

    // An API server nobody listens on: the order of the listeners is all this test looks at.
    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    LeaderElectionAutoConfiguration.class,
                    LeaderOnlyAutoConfiguration.class,
                    LeaderPodLabelAutoConfiguration.class,
                    KubernetesEventsAutoConfiguration.class,
                    LeaderMetricsAutoConfiguration.class))
            .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
            .withBean(KubernetesClient.class, UnreachableKubernetes::client)
            .withPropertyValues(
                    "spring.application.name=billing",
                    "leader.store=kubernetes",
                    "leader.kubernetes.label-pod=true",
                    "POD_NAME=billing-7d9f-x2x4q");

    @Test
    void metricsThenLeaderOnlyThenThePodLabelThenKubernetesEventsThenTheApplicationsListenersThenTheEvents() {
        contextRunner.withUserConfiguration(ApplicationListener.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBeanProvider(LeadershipListener.class).orderedStream())
                    .extracting(listener -> listener.getClass().getSimpleName())
                    .containsExactly(
                            "LeaderElectionMetrics",
                            LeaderOnlyLeadershipListener.class.getSimpleName(),
                            LeaderPodLabeler.class.getSimpleName(),
                            "ElectionHistory", // LeaseEventRecorder's: Kubernetes Events
                            "UnorderedListener",
                            LeaderEventPublishingListener.class.getSimpleName());
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class ApplicationListener {

        @Bean
        LeadershipListener unorderedListener() {
            return new UnorderedListener();
        }
    }

    static class UnorderedListener implements LeadershipListener {}
}
