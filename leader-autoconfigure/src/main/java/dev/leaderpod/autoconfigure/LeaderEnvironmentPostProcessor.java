package dev.leaderpod.autoconfigure;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Keeps what the user did not ask for out of the application, as low-precedence defaults that any user setting
 * overrides (README, "What the starter adds to your application"):
 *
 * <ul>
 *   <li>spring-cloud-kubernetes' own (ConfigMap) leader election is off, so exactly one election runs per
 *       application;
 *   <li>the {@code discoveryComposite} and {@code refreshScope} health components, which spring-cloud-kubernetes'
 *       dependency set (Spring Cloud Commons and Context) brings, are off;
 *   <li>Spring Integration's start-up lines about its default {@code errorChannel} (two INFO lines per subscriber)
 *       are logged at WARN only.
 * </ul>
 */
class LeaderEnvironmentPostProcessor implements EnvironmentPostProcessor {

    static final String PROPERTY_SOURCE_NAME = "leaderpod-defaults";
    static final String SPRING_CLOUD_KUBERNETES_LEADER_ENABLED = "spring.cloud.kubernetes.leader.enabled";

    /** Each default, applied only where nobody set the property. */
    static final Map<String, Object> DEFAULTS = defaults();

    private static Map<String, Object> defaults() {
        Map<String, Object> defaults = new LinkedHashMap<>();
        defaults.put(SPRING_CLOUD_KUBERNETES_LEADER_ENABLED, "false");
        defaults.put("spring.cloud.discovery.client.composite-indicator.enabled", "false");
        defaults.put("management.health.refresh.enabled", "false");
        defaults.put("logging.level.org.springframework.integration.endpoint.EventDrivenConsumer", "WARN");
        defaults.put("logging.level.org.springframework.integration.channel.PublishSubscribeChannel", "WARN");
        return Map.copyOf(defaults);
    }

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        if (environment.getPropertySources().contains(PROPERTY_SOURCE_NAME)) {
            return;
        }
        // Only what nobody set, wherever: Boot later moves the application's default properties behind every other
        // source, ours included, so "add last" alone would beat SpringApplication.setDefaultProperties.
        Map<String, Object> unset = new LinkedHashMap<>();
        DEFAULTS.forEach((name, value) -> {
            if (!environment.containsProperty(name)) {
                unset.put(name, value);
            }
        });
        if (!unset.isEmpty()) {
            environment.getPropertySources().addLast(new MapPropertySource(PROPERTY_SOURCE_NAME, unset));
        }
    }
}
