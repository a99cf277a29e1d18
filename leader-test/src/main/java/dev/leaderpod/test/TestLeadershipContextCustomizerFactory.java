package dev.leaderpod.test;

import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.test.context.ContextConfigurationAttributes;
import org.springframework.test.context.ContextCustomizer;
import org.springframework.test.context.ContextCustomizerFactory;
import org.springframework.test.context.MergedContextConfiguration;
import org.springframework.test.context.TestContextAnnotationUtils;

/**
 * Adds {@link TestLeadershipAutoConfiguration} to the context of every {@code @SpringBootTest} (of the test class, a
 * superclass, or an enclosing class of a {@code @Nested} one), sorted among the application's auto-configurations,
 * as Spring Boot's own test customizers add what such a test needs. Applications that a test starts with
 * {@code SpringApplication.run} are not Spring test contexts and are left alone.
 */
class TestLeadershipContextCustomizerFactory implements ContextCustomizerFactory {

    @Override
    public ContextCustomizer createContextCustomizer(
            Class<?> testClass, List<ContextConfigurationAttributes> configAttributes) {
        return TestContextAnnotationUtils.hasAnnotation(testClass, SpringBootTest.class)
                ? new TestLeadershipContextCustomizer()
                : null;
    }

    /**
     * Registers a configuration that imports the kit's auto-configuration. Where the kit elects, also resolves
     * {@code leader.store} to {@code local} ahead of every other source: the kit's lease store is the store, and what
     * the starter does only beside a Kubernetes store — Kubernetes Events on the Lease, the pod label — must not reach
     * a cluster from a test, such as one run in a CI pod, where {@code auto} would pick Kubernetes. (The local store
     * backs off before the kit's: it makes no file and no thread.) Equal to each other: contexts are cached.
     */
    static final class TestLeadershipContextCustomizer implements ContextCustomizer {

        /** The property source of the kit, first in the environment. */
        static final String PROPERTY_SOURCE = "leader-test";

        @Override
        public void customizeContext(ConfigurableApplicationContext context, MergedContextConfiguration config) {
            if (context.getBeanFactory() instanceof BeanDefinitionRegistry registry) {
                registry.registerBeanDefinition(
                        TestLeadershipImports.class.getName(), new RootBeanDefinition(TestLeadershipImports.class));
            }
            ConfigurableEnvironment environment = context.getEnvironment();
            if (enabled(environment, "leader.enabled") && enabled(environment, "leader.test.enabled")) {
                environment
                        .getPropertySources()
                        .addFirst(new MapPropertySource(PROPERTY_SOURCE, Map.of("leader.store", "local")));
            }
        }

        private static boolean enabled(ConfigurableEnvironment environment, String property) {
            return environment.getProperty(property, Boolean.class, true);
        }

        @Override
        public boolean equals(Object other) {
            return other != null && other.getClass() == getClass();
        }

        @Override
        public int hashCode() {
            return getClass().hashCode();
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration(TestLeadershipAutoConfiguration.class)
    static class TestLeadershipImports {}
}
