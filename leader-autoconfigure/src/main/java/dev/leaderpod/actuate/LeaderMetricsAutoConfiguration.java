package dev.leaderpod.actuate;

import dev.leaderpod.autoconfigure.ElectionListenerFactory;
import dev.leaderpod.autoconfigure.LeaderElectionAutoConfiguration;
import dev.leaderpod.autoconfigure.LeaderElections;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.leaderonly.LeaderOnlyAdvisor;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Micrometer meters of the election ({@code leader.election.*}) and of skipped {@code @LeaderOnly} calls
 * ({@code leader.only.skipped}), when Micrometer is present and a {@link MeterRegistry} bean exists.
 */
@AutoConfiguration(
        after = LeaderElectionAutoConfiguration.class,
        afterName = {
            "org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration",
            "org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration"
        })
@ConditionalOnClass(MeterRegistry.class)
@ConditionalOnBean({MeterRegistry.class, LeaseElector.class})
public class LeaderMetricsAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean(name = "leaderElectionMetrics")
    LeaderElectionMetrics leaderElectionMetrics(LeaseElector leaseElector, MeterRegistry meterRegistry) {
        return new LeaderElectionMetrics(leaseElector, meterRegistry);
    }

    /** The same meters for each named election, tagged with its own lease. */
    @Bean
    @ConditionalOnMissingBean(name = "leaderElectionMetricsFactory")
    ElectionListenerFactory leaderElectionMetricsFactory(ObjectProvider<MeterRegistry> meterRegistry) {
        return (name, elector) -> new LeaderElectionMetrics(elector, meterRegistry.getObject());
    }

    @Bean
    @ConditionalOnMissingBean(name = "leaderOnlyMetrics")
    LeaderOnlyMetrics leaderOnlyMetrics(
            ObjectProvider<MeterRegistry> meterRegistry,
            ObjectProvider<LeaderElections> elections,
            ObjectProvider<LeaseElector> leaseElector) {
        return new LeaderOnlyMetrics(meterRegistry::getObject, (type, method) -> {
            LeaderElections all = elections.getIfAvailable();
            return all != null
                    ? all.election(LeaderOnlyAdvisor.electionOf(method, type)).leaseName()
                    : leaseElector.getObject().leaseName();
        });
    }
}
