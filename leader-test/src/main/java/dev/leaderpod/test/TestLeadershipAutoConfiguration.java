package dev.leaderpod.test;

import dev.leaderpod.autoconfigure.LeaderConfigurationException;
import dev.leaderpod.autoconfigure.LeaderElectionAutoConfiguration;
import dev.leaderpod.autoconfigure.LeaderElections;
import dev.leaderpod.autoconfigure.LeaderProperties;
import dev.leaderpod.core.ElectionClock;
import dev.leaderpod.core.ElectionRuntime;
import dev.leaderpod.core.InMemoryLeaseStore;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;

/**
 * The elections of a test: on an in-memory lease, a clock that stands still and executors that run only when
 * {@link TestLeadership} runs them. Ordered before {@link LeaderElectionAutoConfiguration}, whose electors then take
 * this {@link ElectionClock}, this {@link ElectionRuntime} and this lease store instead of making their own: no
 * Kubernetes or local store, no presence (so no spreading), no {@code leader-*} thread.
 *
 * <p>Not in the application's auto-configurations: every {@code @SpringBootTest} context gets it (a context
 * customizer of the kit adds it), a test slice or a plain Spring test with {@link AutoConfigureLeaderElection}, and an
 * {@code ApplicationContextRunner} with {@code AutoConfigurations.of(TestLeadershipAutoConfiguration.class,
 * LeaderElectionAutoConfiguration.class, LeaderOnlyAutoConfiguration.class)}. An application started with {@code SpringApplication.run} in a test JVM is
 * left alone. Off with {@code leader.test.enabled=false}, and with {@code leader.enabled=false} (the only candidate
 * leads on a lease of its own from the start: nothing to grant).
 */
@AutoConfiguration(before = LeaderElectionAutoConfiguration.class)
@ConditionalOnBooleanProperty(name = "leader.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "leader.test.enabled", matchIfMissing = true)
@EnableConfigurationProperties(LeaderProperties.class)
public class TestLeadershipAutoConfiguration {

    /** The phase of the starter's elections' lifecycle ({@code LeaderElectionLifecycle.PHASE}). */
    static final int ELECTIONS_PHASE = SmartLifecycle.DEFAULT_PHASE - 512;

    @Bean
    DrivenRuntime leaderTestRuntimeDriver(LeaderProperties properties) {
        Duration drain = properties.getDrainTimeout() == null ? Duration.ZERO : properties.getDrainTimeout();
        return new DrivenRuntime(Instant.now().truncatedTo(ChronoUnit.SECONDS), drain.plusSeconds(30));
    }

    /** Time stands still: no term ends on its own and no lease expires. */
    @Bean
    @Primary
    ElectionClock leaderTestClock(DrivenRuntime driver) {
        return driver.clock();
    }

    /** No thread: the tasks run when {@link TestLeadership} runs them. */
    @Bean
    @Primary
    ElectionRuntime leaderTestRuntime(DrivenRuntime driver) {
        return driver.runtime();
    }

    /**
     * Every lease is held by {@link TestLeadership#OTHER_CANDIDATE} before an elector reads it. Primary, so that a
     * {@code LeaseStore} bean of the application is not used: tests never elect on a shared store.
     */
    @Bean
    @Primary
    InMemoryLeaseStore leaderTestLeaseStore(DrivenRuntime driver, LeaderProperties properties) {
        return new TestLeaseStore(properties.getLeaseDuration(), driver.wallTime());
    }

    @Bean
    TestLeadership testLeadership(
            DrivenRuntime driver,
            InMemoryLeaseStore leaderTestLeaseStore,
            ObjectProvider<LeaderElections> elections,
            LeaderProperties properties) {
        if (!properties.isWatch()) {
            throw new LeaderConfigurationException(
                    "leader.watch",
                    false,
                    "must be true with the test kit (leader-test): with a clock that stands still, a follower that"
                            + " does not watch never sees a lease handed to it",
                    "Set leader.watch=true in the test's properties, or leader.test.enabled=false to leave the"
                            + " elections of this test to the real store.");
        }
        return new TestLeadership(driver, leaderTestLeaseStore, elections::getObject);
    }

    /** Runs the elections' first tasks once they started, so that every elector follows the other candidate. */
    @Bean
    SmartLifecycle leaderTestElectionsStarted(TestLeadership leadership) {
        return new ElectionsStarted(leadership);
    }

    /** Right after the elections start. */
    static final class ElectionsStarted implements SmartLifecycle {

        private final TestLeadership leadership;
        private volatile boolean running;

        ElectionsStarted(TestLeadership leadership) {
            this.leadership = leadership;
        }

        @Override
        public void start() {
            running = true;
            leadership.runPending();
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
            return ELECTIONS_PHASE + 1;
        }
    }
}
