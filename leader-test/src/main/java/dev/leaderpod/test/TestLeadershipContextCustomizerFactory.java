package dev.leaderpod.test;

import java.util.List;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
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

    /** Registers a configuration that imports the kit's auto-configuration. Equal to each other: contexts are cached. */
    static final class TestLeadershipContextCustomizer implements ContextCustomizer {

        @Override
        public void customizeContext(ConfigurableApplicationContext context, MergedContextConfiguration config) {
            if (context.getBeanFactory() instanceof BeanDefinitionRegistry registry) {
                registry.registerBeanDefinition(
                        TestLeadershipImports.class.getName(), new RootBeanDefinition(TestLeadershipImports.class));
            }
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
