package dev.leaderpod.autoconfigure;

import dev.leaderpod.autoconfigure.LeaderProperties.StoreType;
import dev.leaderpod.core.ElectionMonitor;
import dev.leaderpod.core.ElectionRuntime;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.ElectionSettings.InvalidSettingException;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.events.LeaderEventPublishingListener;
import dev.leaderpod.store.kubernetes.KubernetesLeaseStore;
import dev.leaderpod.store.local.FileLeaseStore;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.cloud.CloudPlatform;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.integration.leader.event.DefaultLeaderEventPublisher;
import org.springframework.integration.leader.event.LeaderEventPublisher;

/**
 * Leader election over a lease: picks the store, builds the elector from {@code leader.*} properties, joins the
 * election when the context starts and leaves it gracefully when it closes.
 */
@AutoConfiguration(afterName = "org.springframework.cloud.kubernetes.fabric8.Fabric8AutoConfiguration")
@ConditionalOnProperty(prefix = "leader", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(LeaderProperties.class)
public class LeaderElectionAutoConfiguration {

    private static final Logger log = LoggerFactory.getLogger(LeaderElectionAutoConfiguration.class);

    /** The validated settings, built once: the store and the elector share them (and the generated identity). */
    @Bean
    @ConditionalOnMissingBean
    ElectionSettings leaderElectionSettings(LeaderProperties properties, Environment environment) {
        return electionSettings(properties, environment);
    }

    /**
     * The threads every election of this application runs on, one at rest (docs/design.md, "No I/O on the thread that
     * ends terms"), named after the application's lease: {@code leader-election-<lease>}.
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    ElectionRuntime leaderElectionRuntime(ElectionSettings settings) {
        return ElectionRuntime.create(settings.leaseName());
    }

    @Bean
    @ConditionalOnMissingBean
    LeaseElector leaseElector(
            LeaderProperties properties,
            ElectionSettings settings,
            ElectionRuntime runtime,
            LeaseStore leaseStore,
            ObjectProvider<LeadershipListener> listeners,
            ObjectProvider<ElectionMonitor> monitors,
            Environment environment) {
        return LeaseElector.builder(settings, leaseStore)
                .runtime(runtime)
                .listener(new CompositeLeadershipListener(listeners))
                .monitor(new CompositeElectionMonitor(monitors))
                .watch(properties.isWatch())
                .application(environment.getProperty("spring.application.name"), properties.isAllowOtherApplications())
                .build();
    }

    @Bean
    @ConditionalOnMissingBean
    LeaderElectionLifecycle leaderElectionLifecycle(LeaseElector leaseElector, LeaderProperties properties) {
        ElectionSettings settings = leaseElector.settings();
        // Drain, then one release attempt that may need a conflict re-read: two requests.
        Duration stopTimeout =
                properties.getDrainTimeout().plus(settings.requestTimeout().multipliedBy(2));
        return new LeaderElectionLifecycle(leaseElector, stopTimeout);
    }

    /** Validates the properties into settings; a broken rule stops start-up naming the property. */
    static ElectionSettings electionSettings(LeaderProperties properties, Environment environment) {
        String leaseName = properties.getLeaseName();
        if (leaseName == null || leaseName.isBlank()) {
            leaseName = environment.getProperty("spring.application.name");
            if (leaseName == null || leaseName.isBlank()) {
                throw new LeaderConfigurationException(
                        "leader.lease-name",
                        null,
                        "must be set, or spring.application.name must be: it names the lease all replicas share");
            }
        }
        String identity = properties.getIdentity();
        if (identity == null || identity.isBlank()) {
            identity = CandidateIdentity.generate(System.getenv());
        }
        if (properties.getDrainTimeout() == null || properties.getDrainTimeout().isNegative()) {
            throw new LeaderConfigurationException(
                    "leader.drain-timeout", properties.getDrainTimeout(), "must be zero or positive");
        }
        try {
            return new ElectionSettings(
                    leaseName,
                    identity,
                    properties.getLeaseDuration(),
                    properties.getRenewDeadline(),
                    properties.getRetryPeriod(),
                    properties.getRequestTimeout());
        } catch (InvalidSettingException e) {
            throw new LeaderConfigurationException(
                    "leader." + e.setting().key(), e.value(), qualifyPropertyNames(e.rule()));
        } catch (NullPointerException e) {
            throw new LeaderConfigurationException("leader." + e.getMessage(), null, "must be set");
        }
    }

    private static String qualifyPropertyNames(String rule) {
        String qualified = rule;
        for (ElectionSettings.Setting setting : ElectionSettings.Setting.values()) {
            qualified = qualified.replaceAll("(?<![\\w.-])" + setting.key() + "(?![\\w-])", "leader." + setting.key());
        }
        return qualified;
    }

    static StoreType resolveStore(Environment environment) {
        StoreType store =
                Binder.get(environment).bind("leader.store", StoreType.class).orElse(StoreType.AUTO);
        if (store == StoreType.AUTO) {
            return CloudPlatform.getActive(environment) == CloudPlatform.KUBERNETES
                    ? StoreType.KUBERNETES
                    : StoreType.LOCAL;
        }
        return store;
    }

    /** Events for Spring Integration listeners, when Spring Integration is present. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(LeaderEventPublisher.class)
    static class LeaderEventsConfiguration {

        @Bean
        @ConditionalOnMissingBean
        LeaderEventPublishingListener leaderEventPublishingListener(
                ObjectProvider<LeaderEventPublisher> publishers,
                ApplicationEventPublisher applicationEventPublisher,
                ObjectProvider<LeaseElector> elector) {
            LeaderEventPublisher publisher =
                    publishers.getIfAvailable(() -> new DefaultLeaderEventPublisher(applicationEventPublisher));
            return new LeaderEventPublishingListener(publisher, elector::getObject);
        }
    }

    /** The Kubernetes Lease store. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(KubernetesClient.class)
    @Conditional(OnKubernetesStoreCondition.class)
    static class KubernetesStoreConfiguration {

        /** A Kubernetes client this starter created and therefore closes. */
        record OwnedKubernetesClient(KubernetesClient client) implements AutoCloseable {
            @Override
            public void close() {
                client.close();
            }
        }

        /** A client from the standard fabric8 configuration, when neither the user nor spring-cloud-kubernetes has one. */
        @Bean(destroyMethod = "close")
        @ConditionalOnMissingBean({KubernetesClient.class, LeaseStore.class})
        OwnedKubernetesClient leaderKubernetesClient() {
            return new OwnedKubernetesClient(new KubernetesClientBuilder().build());
        }

        @Bean
        @ConditionalOnMissingBean(LeaseStore.class)
        KubernetesLeaseStore kubernetesLeaseStore(
                LeaderProperties properties,
                ElectionSettings settings,
                ObjectProvider<KubernetesClient> clients,
                ObjectProvider<OwnedKubernetesClient> ownedClient) {
            KubernetesClient client =
                    clients.getIfUnique(() -> ownedClient.getObject().client());
            String namespace = properties.getNamespace();
            if (namespace == null || namespace.isBlank()) {
                namespace = client.getNamespace();
            }
            if (namespace == null || namespace.isBlank()) {
                throw new LeaderConfigurationException(
                        "leader.namespace",
                        null,
                        "must be set: no namespace could be found in the pod's service account or the Kubernetes"
                                + " client configuration");
            }
            return new KubernetesLeaseStore(client, namespace, settings.requestTimeout());
        }
    }

    /** leader.store=kubernetes without the Kubernetes client on the class path. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnMissingClass("io.fabric8.kubernetes.client.KubernetesClient")
    @Conditional(OnKubernetesStoreCondition.class)
    static class MissingKubernetesClientConfiguration {

        @Bean
        @ConditionalOnMissingBean(LeaseStore.class)
        LeaseStore kubernetesLeaseStore() {
            throw new LeaderConfigurationException(
                    "leader.store",
                    "kubernetes",
                    "needs io.fabric8:kubernetes-client on the class path (dev.leaderpod:leader-starter brings it)");
        }
    }

    /** The local file store: elects among processes of this machine. */
    @Configuration(proxyBeanMethods = false)
    @Conditional(OnLocalStoreCondition.class)
    static class LocalStoreConfiguration {

        @Bean
        @ConditionalOnMissingBean(LeaseStore.class)
        FileLeaseStore fileLeaseStore(LeaderProperties properties, ElectionSettings settings) {
            if (properties.getStore() == StoreType.AUTO) {
                log.warn(
                        "Leader election uses the local lease store in {}: no Kubernetes was detected, so only"
                                + " processes on this machine take part. Set leader.store=kubernetes to use a"
                                + " Kubernetes Lease, or leader.store=local to silence this warning.",
                        properties.getLocal().getDirectory());
            }
            return new FileLeaseStore(properties.getLocal().getDirectory(), settings.requestTimeout());
        }
    }

    static class OnKubernetesStoreCondition extends SpringBootCondition {
        @Override
        public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
            StoreType store = resolveStore(context.getEnvironment());
            return new ConditionOutcome(store == StoreType.KUBERNETES, "leader store resolved to " + store);
        }
    }

    static class OnLocalStoreCondition extends SpringBootCondition {
        @Override
        public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
            StoreType store = resolveStore(context.getEnvironment());
            return new ConditionOutcome(store == StoreType.LOCAL, "leader store resolved to " + store);
        }
    }
}
