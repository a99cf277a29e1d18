package dev.leaderpod.autoconfigure;

import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Turns spring-cloud-kubernetes' own (ConfigMap) leader election off unless the user turns it on, so exactly one
 * election runs per application. Any user setting wins.
 */
class LeaderEnvironmentPostProcessor implements EnvironmentPostProcessor {

    static final String PROPERTY_SOURCE_NAME = "leaderpod-defaults";
    static final String SPRING_CLOUD_KUBERNETES_LEADER_ENABLED = "spring.cloud.kubernetes.leader.enabled";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        // Only when nobody set it, wherever: Boot later moves the application's default properties behind every
        // other source, ours included, so "add last" alone would beat SpringApplication.setDefaultProperties.
        if (!environment.containsProperty(SPRING_CLOUD_KUBERNETES_LEADER_ENABLED)
                && !environment.getPropertySources().contains(PROPERTY_SOURCE_NAME)) {
            environment
                    .getPropertySources()
                    .addLast(new MapPropertySource(
                            PROPERTY_SOURCE_NAME, Map.of(SPRING_CLOUD_KUBERNETES_LEADER_ENABLED, "false")));
        }
    }
}
