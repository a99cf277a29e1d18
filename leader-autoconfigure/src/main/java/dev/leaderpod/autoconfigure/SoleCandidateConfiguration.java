package dev.leaderpod.autoconfigure;

import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeaseElector;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;

/**
 * {@code leader.enabled=false}: this instance is the only candidate. Everything else stays as on an instance that
 * elects — the {@code Leadership} / {@code LeaseElector} and {@link LeaderElections} beans, {@code @LeaderOnly},
 * lifecycle beans, listeners, {@code OnGrantedEvent} / {@code OnRevokedEvent}, meters, health and endpoint — but the
 * electors keep their leases in a store of their own, in memory, where no one else competes: each wins its lease
 * at once (a lease that provably never existed is not held back first) and keeps the same term, fencing token 0,
 * until the context stops. The context's start waits for those grants, so that what runs once it has started
 * (schedulers, runners) finds this instance leading.
 *
 * <p>The store is {@link Primary}, so a {@code LeaseStore} bean of the application is not used: disabled never
 * elects on a shared store. No Kubernetes or local store is made ({@link LeaseStoreCondition}), hence no pod label
 * and no Kubernetes event.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(prefix = "leader", name = "enabled", havingValue = "false")
class SoleCandidateConfiguration {

    /** How long the context's start waits for the grants: they take milliseconds. */
    static final Duration START_TIMEOUT = Duration.ofSeconds(10);

    @Bean
    @Primary
    InMemoryLeaseStore leaderSoleCandidateLeaseStore() {
        return new InMemoryLeaseStore();
    }

    @Bean
    SoleCandidateStart leaderSoleCandidateStart(ObjectProvider<LeaderElections> elections) {
        return new SoleCandidateStart(elections);
    }

    /** Started right after the elections: waits until this instance leads every election it is a candidate in. */
    static final class SoleCandidateStart implements SmartLifecycle {

        private static final Logger log = LoggerFactory.getLogger(SoleCandidateStart.class);

        private final ObjectProvider<LeaderElections> elections;
        private volatile boolean running;

        SoleCandidateStart(ObjectProvider<LeaderElections> elections) {
            this.elections = elections;
        }

        @Override
        public void start() {
            running = true;
            LeaderElections all = elections.getIfAvailable();
            if (all == null) {
                return;
            }
            List<LeaseElector> electors = List.copyOf(all.electors().values());
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (!electors.stream().allMatch(LeaseElector::isLeader) && System.nanoTime() - deadline < 0) {
                LockSupport.parkNanos(Duration.ofMillis(1).toNanos());
            }
            List<String> leading = electors.stream()
                    .filter(LeaseElector::isLeader)
                    .map(LeaseElector::leaseName)
                    .toList();
            if (leading.size() == electors.size()) {
                log.info(
                        "leader.enabled=false: {} is the only candidate and leads {} (an in-memory lease, fencing"
                                + " token 0)",
                        electors.get(0).identity(),
                        leading);
            } else {
                log.warn(
                        "leader.enabled=false: {} should lead {} as the only candidate but leads only {} after {};"
                                + " @LeaderOnly calls of the others are skipped until it does",
                        electors.get(0).identity(),
                        electors.stream().map(LeaseElector::leaseName).toList(),
                        leading,
                        START_TIMEOUT);
            }
        }

        @Override
        public void stop() {
            running = false;
        }

        @Override
        public boolean isRunning() {
            return running;
        }

        @Override
        public int getPhase() {
            return LeaderElectionLifecycle.PHASE + 1;
        }
    }
}
