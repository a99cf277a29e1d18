package dev.leaderpod.autoconfigure;

import dev.leaderpod.core.Candidacy;
import dev.leaderpod.core.ElectionClock;
import dev.leaderpod.core.ElectionMonitor;
import dev.leaderpod.core.ElectionRuntime;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.ElectionSettings.InvalidSettingException;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.Presence;
import dev.leaderpod.core.PresenceStore;
import dev.leaderpod.events.LeaderEventPublishingListener;
import dev.leaderpod.spread.ElectionSpreader;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;
import org.springframework.integration.leader.event.DefaultLeaderEventPublisher;
import org.springframework.integration.leader.event.LeaderEventPublisher;

/**
 * Leader election over a lease: picks the store ({@link ConditionalOnLeaseStore}), builds the elector from {@code leader.*} properties, joins the
 * election when the context starts and leaves it gracefully when it closes; the same for each named election
 * ({@link LeaderElections}). With {@code leader.enabled=false} this instance is the only candidate
 * ({@link SoleCandidateConfiguration}).
 */
@AutoConfiguration(afterName = "org.springframework.cloud.kubernetes.fabric8.Fabric8AutoConfiguration")
@EnableConfigurationProperties(LeaderProperties.class)
@Import({KubernetesLeaseStoreConfiguration.class, LocalLeaseStoreConfiguration.class, SoleCandidateConfiguration.class})
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
            ObjectProvider<ElectionSpreader> spreader,
            ObjectProvider<ElectionClock> clock,
            ObjectProvider<LeaderReadiness> readiness,
            ObjectProvider<ElectionMigration> migrations,
            Environment environment) {
        ElectionMigration migration = migrations.getIfAvailable();
        if (properties.getMigration().isConfigMap() && migration == null) {
            throw new LeaderConfigurationException(
                    "leader.migration.config-map",
                    true,
                    "needs the Kubernetes store (the ConfigMap it respects is on Kubernetes), and this application"
                            + " elects on " + leaseStore.describe(settings.leaseName()),
                    "Remove leader.migration.config-map, or elect on Kubernetes (leader.store=kubernetes).");
        }
        Candidacy candidacy = candidacy(spreader, readiness);
        LeaseElector elector = LeaseElector.builder(
                        settings, migration == null ? leaseStore : migration.store(leaseStore))
                .runtime(runtime)
                .clock(clock(clock))
                .candidacy(migration == null ? candidacy : migration.candidacy(candidacy))
                .listener(new CompositeLeadershipListener(listeners))
                .monitor(new CompositeElectionMonitor(monitors))
                .watch(properties.isWatch())
                .application(environment.getProperty("spring.application.name"), properties.isAllowOtherApplications())
                .build();
        if (migration != null) {
            migration.start(elector);
        }
        return elector;
    }

    /**
     * Every election: the default one and the named ones ({@code leader.elections.*}, {@code @LeaderOnly("name")}),
     * which share the default one's store, identity and threads.
     */
    @Bean
    @ConditionalOnMissingBean
    LeaderElections leaderElections(
            LeaseElector leaseElector,
            ElectionSettings settings,
            LeaderProperties properties,
            ElectionRuntime runtime,
            LeaseStore leaseStore,
            ObjectProvider<ElectionListenerFactory> listenerFactories,
            ObjectProvider<ElectionSpreader> spreader,
            ObjectProvider<ElectionClock> clock,
            ObjectProvider<LeaderReadiness> readiness,
            Environment environment) {
        NamedElections named = new NamedElections(
                settings,
                properties,
                leaseStore,
                runtime,
                listenerFactories,
                environment.getProperty("spring.application.name"),
                candidacy(spreader, readiness),
                clock(clock));
        // Drain, then one release attempt that may need a conflict re-read: two requests.
        return new LeaderElections(
                leaseElector,
                named,
                properties.getElections().keySet(),
                elector -> properties
                        .getDrainTimeout()
                        .plus(elector.settings().requestTimeout().multipliedBy(2)),
                spreader.getIfAvailable());
    }

    /**
     * Spreads the elections over the live candidates when this instance takes part in two or more (docs/design.md,
     * "Spreading elections"); needs a store that keeps presence.
     */
    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBean(PresenceStore.class)
    @ConditionalOnProperty(prefix = "leader.spread", name = "enabled", matchIfMissing = true)
    ElectionSpreader leaderElectionSpreader(
            LeaderProperties properties,
            ElectionSettings settings,
            ElectionRuntime runtime,
            PresenceStore presenceStore,
            ObjectProvider<LeaderElections> elections,
            ObjectProvider<ElectionClock> clock,
            ObjectProvider<LeaderReadiness> readiness) {
        Duration interval = properties.getSpread().getPresenceInterval();
        if (interval == null || interval.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new LeaderConfigurationException(
                    "leader.spread.presence-interval", String.valueOf(interval), "must be at least 1s");
        }
        Map<String, String> metadata = Map.copyOf(properties.getSpread().getMetadata());
        try {
            Presence.of(settings.identity(), Set.of(), metadata).requireStorable();
        } catch (IllegalArgumentException e) {
            throw new LeaderConfigurationException("leader.spread.metadata", metadata.toString(), e.getMessage());
        }
        return new ElectionSpreader(
                settings.identity(),
                presenceStore,
                runtime,
                clock(clock),
                interval,
                settings.retryPeriod(),
                () -> elections.getObject().electors().values(),
                withReadiness(metadata, readiness.getIfAvailable()));
    }

    /**
     * The clock of every election: an {@link ElectionClock} bean if there is one (a test kit's, whose time moves only
     * when the test says), else the system clock. The seam for tests; an application has no reason to define one.
     */
    private static ElectionClock clock(ObjectProvider<ElectionClock> clock) {
        return clock.getIfAvailable(ElectionClock::system);
    }

    /**
     * Leadership follows readiness (docs/design.md, "Leadership follows readiness"), unless
     * {@code leader.follow-readiness=false}, and never for the only candidate ({@code leader.enabled=false}), which
     * leads from the context's start.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnProperty(prefix = "leader", name = "follow-readiness", matchIfMissing = true)
    static class FollowReadinessConfiguration {

        @Bean
        @ConditionalOnProperty(prefix = "leader", name = "enabled", matchIfMissing = true)
        LeaderReadiness leaderReadiness(
                ObjectProvider<ApplicationAvailability> availability,
                ObjectProvider<LeaderElections> elections,
                ObjectProvider<ElectionSpreader> spreader) {
            return new LeaderReadiness(availability.getIfAvailable(), elections, spreader);
        }
    }

    /** What this candidate says about itself: the configured metadata, and its readiness if leadership follows it. */
    private static Supplier<Map<String, String>> withReadiness(
            Map<String, String> metadata, LeaderReadiness readiness) {
        return readiness == null ? () -> metadata : readiness.withReadiness(metadata);
    }

    private static Candidacy candidacy(
            ObjectProvider<ElectionSpreader> spreader, ObjectProvider<LeaderReadiness> readiness) {
        ElectionSpreader available = spreader.getIfAvailable();
        Candidacy candidacy = available == null ? Candidacy.EAGER : available.candidacy();
        LeaderReadiness following = readiness.getIfAvailable();
        return following == null ? candidacy : following.following(candidacy);
    }

    @Bean
    @ConditionalOnMissingBean
    LeaderElectionLifecycle leaderElectionLifecycle(LeaderElections elections) {
        return new LeaderElectionLifecycle(elections);
    }

    /** Validates the properties into settings; a broken rule stops start-up naming the property. */
    static ElectionSettings electionSettings(LeaderProperties properties, Environment environment) {
        String leaseName = LeaseNames.resolve(properties, environment);
        String identity =
                properties.getIdentity() == null || properties.getIdentity().isBlank()
                        ? CandidateIdentity.generate(System.getenv())
                        : properties.getIdentity();
        if (properties.getDrainTimeout() == null || properties.getDrainTimeout().isNegative()) {
            throw new LeaderConfigurationException(
                    "leader.drain-timeout",
                    properties.getDrainTimeout(),
                    "must be zero or positive",
                    "Set leader.drain-timeout to how long the end of a term may wait for leader-only work to finish,"
                            + " such as 10s (the default); 0s does not wait.");
        }
        return validated(
                "leader.",
                leaseName,
                identity,
                properties.getLeaseDuration(),
                properties.getRenewDeadline(),
                properties.getRetryPeriod(),
                properties.getRequestTimeout());
    }

    /**
     * The settings of the named election {@code name}: the default election's identity, the lease
     * {@code <lease-name>-<name>}, and the timings of {@code leader.elections.<name>.*}, each defaulting to the
     * default election's property. A broken rule names the election's own property, where it can be fixed.
     */
    static ElectionSettings namedElectionSettings(
            String name, ElectionSettings defaults, LeaderProperties properties, LeaderProperties.Election election) {
        String leaseName = LeaderElections.leaseName(defaults.leaseName(), name);
        return validated(
                "leader.elections." + name + ".",
                leaseName,
                defaults.identity(),
                orElse(election.getLeaseDuration(), properties.getLeaseDuration()),
                orElse(election.getRenewDeadline(), properties.getRenewDeadline()),
                orElse(election.getRetryPeriod(), properties.getRetryPeriod()),
                orElse(election.getRequestTimeout(), properties.getRequestTimeout()));
    }

    private static ElectionSettings validated(
            String prefix,
            String leaseName,
            String identity,
            Duration leaseDuration,
            Duration renewDeadline,
            Duration retryPeriod,
            Duration requestTimeout) {
        try {
            return new ElectionSettings(leaseName, identity, leaseDuration, renewDeadline, retryPeriod, requestTimeout);
        } catch (InvalidSettingException e) {
            throw RefusedSettings.refused(prefix, e, leaseDuration, renewDeadline);
        } catch (NullPointerException e) {
            throw RefusedSettings.missing(prefix, e.getMessage());
        }
    }

    private static Duration orElse(Duration own, Duration inherited) {
        return own != null ? own : inherited;
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
            return new LeaderEventPublishingListener(
                    publisher(publishers, applicationEventPublisher), elector::getObject);
        }

        /** The events of the named elections: role = the election's name, so {@code @Role("<name>")} follows it. */
        @Bean
        @ConditionalOnMissingBean(name = "leaderEventPublishingListenerFactory")
        ElectionListenerFactory leaderEventPublishingListenerFactory(
                ObjectProvider<LeaderEventPublisher> publishers, ApplicationEventPublisher applicationEventPublisher) {
            return (name, elector) -> new LeaderEventPublishingListener(
                    publisher(publishers, applicationEventPublisher), () -> elector, name);
        }

        private static LeaderEventPublisher publisher(
                ObjectProvider<LeaderEventPublisher> publishers, ApplicationEventPublisher applicationEventPublisher) {
            return publishers.getIfAvailable(() -> new DefaultLeaderEventPublisher(applicationEventPublisher));
        }
    }
}
