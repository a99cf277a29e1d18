package dev.leaderpod.actuate;

import dev.leaderpod.autoconfigure.LeaderElectionAutoConfiguration;
import dev.leaderpod.autoconfigure.LeaderElections;
import dev.leaderpod.core.LeaseElector;
import org.springframework.boot.actuate.autoconfigure.info.ConditionalOnEnabledInfoContributor;
import org.springframework.boot.actuate.info.InfoContributor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The {@code leader} info contributor ({@code management.info.leader.enabled}). Its bean is not called
 * {@code leaderInfoContributor}: spring-cloud-kubernetes uses that name for its ConfigMap election's contributor.
 */
@AutoConfiguration(after = LeaderElectionAutoConfiguration.class)
@ConditionalOnClass({InfoContributor.class, ConditionalOnEnabledInfoContributor.class})
public class LeaderInfoAutoConfiguration {

    /** Nested, so that its conditions are only read once the actuator is known to be present. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnEnabledInfoContributor("leader")
    @ConditionalOnBean({LeaseElector.class, LeaderElections.class})
    static class LeaderInfoContributorConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = "leaderElectionInfoContributor")
        LeaderInfoContributor leaderElectionInfoContributor(LeaseElector leaseElector, LeaderElections elections) {
            return new LeaderInfoContributor(leaseElector, () -> LeaseStatus.named(elections));
        }
    }
}
