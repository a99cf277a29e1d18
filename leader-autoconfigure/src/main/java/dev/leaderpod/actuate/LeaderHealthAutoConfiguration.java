package dev.leaderpod.actuate;

import dev.leaderpod.autoconfigure.LeaderElectionAutoConfiguration;
import dev.leaderpod.autoconfigure.LeaderElections;
import dev.leaderpod.core.LeaseElector;
import org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The {@code leader} health contributor ({@code management.health.leader.enabled}). It is in no health group by
 * default: adding it to readiness would take a stuck leader out of service but never helps followers; adding it
 * to liveness lets Kubernetes restart a stuck leader.
 */
@AutoConfiguration(
        after = LeaderElectionAutoConfiguration.class,
        beforeName = "org.springframework.boot.actuate.autoconfigure.health.HealthContributorAutoConfiguration")
@ConditionalOnClass({HealthIndicator.class, ConditionalOnEnabledHealthIndicator.class})
public class LeaderHealthAutoConfiguration {

    /** Nested, so that its conditions are only read once the actuator is known to be present. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnEnabledHealthIndicator("leader")
    @ConditionalOnBean({LeaseElector.class, LeaderElections.class})
    static class LeaderHealthIndicatorConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = {"leaderHealthIndicator", "leaderHealthContributor"})
        LeaderHealthIndicator leaderHealthIndicator(LeaseElector leaseElector, LeaderElections elections) {
            return new LeaderHealthIndicator(leaseElector, () -> LeaseStatus.named(elections));
        }
    }
}
