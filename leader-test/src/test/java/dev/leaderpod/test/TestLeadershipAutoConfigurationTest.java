package dev.leaderpod.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.autoconfigure.LeaderConfigurationException;
import dev.leaderpod.autoconfigure.LeaderElectionAutoConfiguration;
import dev.leaderpod.autoconfigure.LeaderElections;
import dev.leaderpod.autoconfigure.LeaderOnlyAutoConfiguration;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.store.local.FileLeaseStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.event.EventListener;
import org.springframework.integration.leader.event.AbstractLeaderEvent;

/**
 * The kit's auto-configuration in an {@code ApplicationContextRunner}, as a starter's own tests use it: what it
 * replaces, when it stays out, and the start and the close of a context it drives.
 */
class TestLeadershipAutoConfigurationTest {

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    TestLeadershipAutoConfiguration.class,
                    LeaderElectionAutoConfiguration.class,
                    LeaderOnlyAutoConfiguration.class))
            .withPropertyValues("spring.application.name=runner-app", "leader.elections.reports.enabled=true");

    @TempDir
    Path leases;

    @Test
    void onceTheContextStartedNobodyLeadsAndEveryElectorFollowsTheOtherCandidate() {
        contextRunner.run(context -> {
            assertThat(context).hasSingleBean(TestLeadership.class).doesNotHaveBean(FileLeaseStore.class);
            assertThat(context.getBean(LeaseStore.class)).isInstanceOf(TestLeaseStore.class);
            LeaderElections elections = context.getBean(LeaderElections.class);
            assertThat(elections.electors()).containsOnlyKeys("", "reports").allSatisfy((name, elector) -> {
                assertThat(elector.isLeader()).as(name).isFalse();
                assertThat(elector.observedLeader()).as(name).contains(TestLeadership.OTHER_CANDIDATE);
            });
        });
    }

    @Test
    void theKitStartsNoThreadOfTheElections() {
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        contextRunner.run(context -> {
            TestLeadership leadership = context.getBean(TestLeadership.class);
            leadership.grant();
            leadership.grant("reports");
            leadership.revoke();
            leadership.revokeAsync("reports").join();
            assertThat(newElectionThreads(before)).isEmpty();
        });
    }

    /** The same check sees the threads the starter's own runtime starts: it can fail. */
    @Test
    void withTheKitOffTheStarterStartsTheThreadsItWouldInTheApplication() {
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        contextRunner
                .withPropertyValues(
                        "leader.test.enabled=false", "leader.store=local", "leader.local.directory=" + leases)
                .run(context -> {
                    assertThat(context).doesNotHaveBean(TestLeadership.class).hasSingleBean(FileLeaseStore.class);
                    assertThat(newElectionThreads(before)).contains("leader-election-runner-app");
                });
        // Closed, the starter's runtime ends them: they do not linger into the other tests' thread checks.
        await().atMost(Duration.ofSeconds(15))
                .until(() -> newElectionThreads(before).isEmpty());
    }

    @Test
    void withLeaderEnabledFalseTheOnlyCandidateLeadsAndTheKitStaysOut() {
        contextRunner.withPropertyValues("leader.enabled=false").run(context -> {
            assertThat(context).doesNotHaveBean(TestLeadership.class);
            assertThat(context.getBean(LeaseElector.class).isLeader()).isTrue();
        });
    }

    @Test
    void aLeaseStoreOfTheApplicationIsNotUsed() {
        InMemoryLeaseStore own = new InMemoryLeaseStore();
        contextRunner.withBean("ownStore", InMemoryLeaseStore.class, () -> own).run(context -> {
            context.getBean(TestLeadership.class).grant();
            assertThat(own.get("runner-app")).isEmpty();
            assertThat(context.getBean(LeaseStore.class)).isInstanceOf(TestLeaseStore.class);
        });
    }

    @Test
    void leaderWatchFalseIsRefusedNamingThePropertyAndTheWayOut() {
        contextRunner
                .withPropertyValues("leader.watch=false")
                .run(context -> assertThat(context)
                        .getFailure()
                        .rootCause()
                        .isInstanceOfSatisfying(LeaderConfigurationException.class, refused -> {
                            assertThat(refused.getProperty()).isEqualTo("leader.watch");
                            assertThat(refused.getRule()).contains("never sees a lease handed to it");
                            assertThat(refused.getAction()).contains("leader.watch=true", "leader.test.enabled=false");
                        }));
    }

    @Test
    void anElectionThisInstanceStaysOutOfCanBeNeitherGrantedNorRevoked() {
        contextRunner.withPropertyValues("leader.elections.audit.enabled=false").run(context -> {
            TestLeadership leadership = context.getBean(TestLeadership.class);
            assertThatIllegalStateException()
                    .isThrownBy(() -> leadership.grant("audit"))
                    .withMessageContaining("no candidate in the election 'audit'")
                    .withMessageContaining("leader.elections.audit.enabled=false");
            assertThat(leadership.term("audit")).isEmpty();
        });
    }

    /** The close of the context stops the elections as in production: revoked, drained, then the lease released. */
    @Test
    void closingTheContextRevokesAndReleasesTheLeaseOnTheClosingThread() {
        List<String> events = new CopyOnWriteArrayList<>();
        InMemoryLeaseStore[] store = new InMemoryLeaseStore[1];
        contextRunner
                .withBean(EventRecorder.class, () -> new EventRecorder(events))
                .run(context -> {
                    store[0] = context.getBean(InMemoryLeaseStore.class);
                    long token = context.getBean(TestLeadership.class).grant().fencingToken();
                    assertThat(store[0].get("runner-app").orElseThrow().record().isHeld())
                            .isTrue();
                    events.clear();
                    events.add("token " + token);
                });
        LeaseRecord released = store[0].get("runner-app").orElseThrow().record();
        assertThat(released.isHeld()).isFalse();
        assertThat(events).hasSize(2);
        assertThat(events.get(1))
                .isEqualTo("revoked runner-app " + Thread.currentThread().getName());
        assertThat(released.leaseTransitions())
                .isEqualTo(Long.valueOf(events.get(0).substring("token ".length())));
    }

    /** Records the events of the default election, with the thread they were published on. */
    record EventRecorder(List<String> events) {
        @EventListener
        void on(AbstractLeaderEvent event) {
            if (event.getRole().equals("runner-app")) {
                events.add(event.getClass()
                                .getSimpleName()
                                .replace("On", "")
                                .replace("Event", "")
                                .toLowerCase() + " " + event.getRole() + " "
                        + Thread.currentThread().getName());
            }
        }
    }

    private static List<String> newElectionThreads(Set<Thread> before) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> !before.contains(thread))
                .map(Thread::getName)
                .filter(name -> name.startsWith("leader-"))
                .sorted()
                .collect(Collectors.toList());
    }
}
