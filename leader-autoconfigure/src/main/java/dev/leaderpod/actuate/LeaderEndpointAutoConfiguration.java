package dev.leaderpod.actuate;

import dev.leaderpod.autoconfigure.LeaderElectionAutoConfiguration;
import dev.leaderpod.autoconfigure.LeaderElections;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The {@code leader} actuator endpoint, when it is available: its access is not {@code none} and it is exposed
 * (no default exposure includes it).
 */
@AutoConfiguration(after = LeaderElectionAutoConfiguration.class)
@ConditionalOnClass({Endpoint.class, ConditionalOnAvailableEndpoint.class})
public class LeaderEndpointAutoConfiguration {

    /** Nested, so that its conditions are only read once the actuator is known to be present. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnAvailableEndpoint(LeaderEndpoint.class)
    @ConditionalOnBean(LeaderElections.class)
    static class LeaderEndpointConfiguration {

        @Bean
        @ConditionalOnMissingBean
        LeaderEndpoint leaderEndpoint(LeaderElections elections) {
            return new LeaderEndpoint(elections);
        }
    }
}
