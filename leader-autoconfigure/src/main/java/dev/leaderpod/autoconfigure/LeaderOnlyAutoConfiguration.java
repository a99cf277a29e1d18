package dev.leaderpod.autoconfigure;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.annotation.LeaderOnlyObserver;
import dev.leaderpod.core.Leadership;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.leaderonly.LeaderOnlyAdvisor;
import dev.leaderpod.leaderonly.LeaderOnlyBeanPostProcessor;
import dev.leaderpod.leaderonly.LeaderOnlyInterceptor;
import dev.leaderpod.leaderonly.LeaderOnlyLeadershipListener;
import java.util.Optional;
import org.aopalliance.intercept.MethodInterceptor;
import org.springframework.aop.config.AopConfigUtils;
import org.springframework.aop.support.AbstractPointcutAdvisor;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.ImportBeanDefinitionRegistrar;
import org.springframework.context.annotation.Role;
import org.springframework.core.type.AnnotationMetadata;

/**
 * {@link LeaderOnly}: the advisor that gates calls, the start-up checks, and the leadership listener that starts
 * and stops gated lifecycle beans and drains running calls when a term ends; their code is in
 * {@code dev.leaderpod.leaderonly}.
 *
 * <p>Registers an auto-proxy creator if the context has none (as {@code @EnableTransactionManagement} does), so
 * that {@code @LeaderOnly} never silently stops working when {@code spring.aop.auto=false}: a method that should run
 * on one replica would otherwise run on all of them.
 */
@AutoConfiguration(after = LeaderElectionAutoConfiguration.class)
@ConditionalOnClass({AbstractPointcutAdvisor.class, MethodInterceptor.class})
@ConditionalOnBean(LeaseElector.class)
@EnableConfigurationProperties(LeaderProperties.class)
@Import(LeaderOnlyAutoConfiguration.AutoProxyCreatorRegistrar.class)
public class LeaderOnlyAutoConfiguration {

    /** The elections are looked up by each method's first call, so the advisor does not make them early beans. */
    @Bean
    @ConditionalOnMissingBean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    static LeaderOnlyAdvisor leaderOnlyAdvisor(
            ObjectProvider<LeaderElections> elections,
            ObjectProvider<LeaseElector> elector,
            ObjectProvider<LeaderOnlyObserver> observers) {
        return new LeaderOnlyAdvisor(new LeaderOnlyInterceptor(
                name -> election(name, elections, elector),
                () -> observers.orderedStream().toList()));
    }

    /** Declares the elections annotations name once all singletons exist, so they run from the context's start. */
    @Bean
    @ConditionalOnMissingBean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    static LeaderOnlyBeanPostProcessor leaderOnlyBeanPostProcessor(
            ObjectProvider<LeaderElections> elections, ObjectProvider<LeaseElector> elector) {
        return new LeaderOnlyBeanPostProcessor(name -> election(name, elections, elector));
    }

    /** One listener for every election: a term starts and stops the lifecycle beans of its own election. */
    @Bean
    @ConditionalOnMissingBean
    LeaderOnlyLeadershipListener leaderOnlyLeadershipListener(
            LeaderOnlyAdvisor advisor,
            LeaderOnlyBeanPostProcessor beans,
            ObjectProvider<LeaderElections> elections,
            LeaderProperties properties) {
        return new LeaderOnlyLeadershipListener(
                advisor.calls(),
                term -> beans.lifecycleBeans(Optional.ofNullable(elections.getIfAvailable())
                        .map(all -> all.nameOfLease(term.leaseName()))
                        .orElse(LeaderElections.DEFAULT)),
                properties.getDrainTimeout());
    }

    /** The same listener for the named elections, which do not call the listener beans. */
    @Bean
    @ConditionalOnMissingBean(name = "leaderOnlyLeadershipListenerFactory")
    ElectionListenerFactory leaderOnlyLeadershipListenerFactory(ObjectProvider<LeaderOnlyLeadershipListener> listener) {
        return (name, elector) -> listener.getObject();
    }

    /**
     * The election {@code name} ({@code ""}: the default one), made known to the elections. An application that builds
     * its own elector without {@link LeaderElectionAutoConfiguration} has the default election only.
     */
    private static Leadership election(
            String name, ObjectProvider<LeaderElections> elections, ObjectProvider<LeaseElector> elector) {
        LeaderElections all = elections.getIfAvailable();
        if (all != null) {
            return all.declare(name);
        }
        if (name.equals(LeaderElections.DEFAULT)) {
            return elector.getObject();
        }
        throw new IllegalArgumentException(
                "must be empty here: named elections need LeaderElectionAutoConfiguration, which builds"
                        + " them, and this application builds its own elector without it");
    }

    /** Registers the infrastructure auto-proxy creator unless a more capable one is registered. */
    static class AutoProxyCreatorRegistrar implements ImportBeanDefinitionRegistrar {

        @Override
        public void registerBeanDefinitions(AnnotationMetadata metadata, BeanDefinitionRegistry registry) {
            AopConfigUtils.registerAutoProxyCreatorIfNecessary(registry);
        }
    }
}
