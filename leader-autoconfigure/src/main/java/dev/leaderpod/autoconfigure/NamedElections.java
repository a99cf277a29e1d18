package dev.leaderpod.autoconfigure;

import dev.leaderpod.core.Candidacy;
import dev.leaderpod.core.ElectionClock;
import dev.leaderpod.core.ElectionMonitor;
import dev.leaderpod.core.ElectionRuntime;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.Leadership;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStore;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.annotation.AnnotationAwareOrderComparator;

/**
 * Builds the election of a name (docs/design.md, "Named elections"): an elector of its own on the lease
 * {@code <lease-name>-<name>}, with the timings of {@code leader.elections.<name>.*}, on the application's store,
 * identity, clock and {@link ElectionRuntime} (so the threads at rest do not grow with the number of elections), calling
 * the listeners the {@link ElectionListenerFactory} beans give it. For an election this instance stays out of, a
 * view that never leads.
 */
final class NamedElections implements Function<String, Leadership> {

    private final ElectionSettings defaults;
    private final LeaderProperties properties;
    private final LeaseStore store;
    private final ElectionRuntime runtime;
    private final ObjectProvider<ElectionListenerFactory> listenerFactories;
    private final String application;
    private final Candidacy candidacy;
    private final ElectionClock clock;

    NamedElections(
            ElectionSettings defaults,
            LeaderProperties properties,
            LeaseStore store,
            ElectionRuntime runtime,
            ObjectProvider<ElectionListenerFactory> listenerFactories,
            String application,
            Candidacy candidacy,
            ElectionClock clock) {
        this.defaults = defaults;
        this.properties = properties;
        this.store = store;
        this.runtime = runtime;
        this.listenerFactories = listenerFactories;
        this.application = application;
        this.candidacy = candidacy;
        this.clock = clock;
    }

    /**
     * @throws IllegalArgumentException if no election can have that name
     * @throws LeaderConfigurationException if its {@code leader.elections.<name>.*} timings break a rule
     */
    @Override
    public Leadership apply(String name) {
        String leaseName = LeaderElections.leaseName(defaults.leaseName(), name);
        LeaderProperties.Election election =
                properties.getElections().getOrDefault(name, new LeaderProperties.Election());
        if (!election.isEnabled()) {
            return new NonCandidate(leaseName, defaults.identity());
        }
        ElectionSettings settings =
                LeaderElectionAutoConfiguration.namedElectionSettings(name, defaults, properties, election);
        // The listeners read the elector (gauges, a context's yield), so they are made once it exists, before it
        // starts.
        AtomicReference<List<LeadershipListener>> listeners = new AtomicReference<>(List.of());
        LeaseElector elector = LeaseElector.builder(settings, store)
                .runtime(runtime)
                .clock(clock)
                .candidacy(candidacy)
                .listener(new CompositeLeadershipListener(listeners::get))
                .monitor(new CompositeElectionMonitor(() -> listeners.get().stream()
                        .filter(ElectionMonitor.class::isInstance)
                        .map(ElectionMonitor.class::cast)
                        .toList()))
                .watch(properties.isWatch())
                .application(application, properties.isAllowOtherApplications())
                .build();
        listeners.set(listenerFactories
                .orderedStream()
                .map(factory -> factory.listenerFor(name, elector))
                .filter(Objects::nonNull)
                .sorted(AnnotationAwareOrderComparator.INSTANCE)
                .toList());
        return elector;
    }
}
