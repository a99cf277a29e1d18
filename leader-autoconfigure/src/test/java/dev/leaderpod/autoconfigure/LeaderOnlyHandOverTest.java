package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.annotation.LeaderOnlyContext;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.leaderonly.InFlightCalls;
import dev.leaderpod.leaderonly.LeaderOnlyAdvisor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.annotation.EnableScheduling;
import org.springframework.scheduling.annotation.Scheduled;

/**
 * Two replicas (application contexts) share one store and run the same {@code @Scheduled @LeaderOnly} job; the
 * leader yields again and again. Every run of the job is recorded as an interval [start, end] of the JVM's
 * monotonic clock: no two intervals of different replicas may overlap, because a hand-over first drains the old
 * leader's running call, then releases the lease, and only then can the other replica's call start.
 */
class LeaderOnlyHandOverTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int HAND_OVERS = 6;

    private final InMemoryLeaseStore store = new InMemoryLeaseStore();
    private final RunLog runs = new RunLog();

    private ApplicationContextRunner replica(String identity) {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(
                        AopAutoConfiguration.class,
                        LeaderElectionAutoConfiguration.class,
                        LeaderOnlyAutoConfiguration.class))
                .withPropertyValues(
                        "spring.application.name=billing",
                        "leader.identity=" + identity,
                        // Short, so that a yielded replica's hold-off (one lease duration) keeps the test short.
                        "leader.lease-duration=1s",
                        "leader.renew-deadline=800ms",
                        "leader.retry-period=500ms")
                .withBean(LeaseStore.class, () -> store)
                .withBean(RunLog.class, () -> runs)
                .withUserConfiguration(Job.class);
    }

    @Test
    void jobRunsOfTwoReplicasNeverOverlapAcrossRepeatedHandOvers() {
        replica("a")
                .run(a -> replica("b").run(b -> {
                    List<LeaseElector> electors = List.of(a.getBean(LeaseElector.class), b.getBean(LeaseElector.class));
                    List<InFlightCalls> calls = List.of(
                            a.getBean(LeaderOnlyAdvisor.class).calls(),
                            b.getBean(LeaderOnlyAdvisor.class).calls());
                    long lastToken = -1;
                    String lastLeader = null;
                    int handOvers = 0;
                    while (handOvers < HAND_OVERS) {
                        LeadershipTerm term = awaitLeaderAfter(electors, lastToken);
                        // Let the job run a few times in this term, then hand over while it is running or about to.
                        await().atMost(WAIT)
                                .pollInterval(Duration.ofMillis(5))
                                .until(() -> runs.count(term.identity(), term.fencingToken()) >= 3);
                        if (lastLeader != null && !lastLeader.equals(term.identity())) {
                            handOvers++;
                        }
                        elector(electors, term.identity()).yieldLeadership();
                        lastToken = term.fencingToken();
                        lastLeader = term.identity();
                    }
                    closeQuietly(a);
                    closeQuietly(b);
                }));

        List<Run> all = runs.all();
        assertThat(all).extracting(Run::replica).contains("a", "b");
        for (Run first : all) {
            for (Run second : all) {
                if (!first.replica().equals(second.replica())) {
                    assertThat(first.endNanos() < second.startNanos() || second.endNanos() < first.startNanos())
                            .as("runs overlap: %s and %s", first, second)
                            .isTrue();
                }
            }
        }
        // A replica runs the job only under its own terms, and terms only grow.
        List<Long> tokens = all.stream().map(Run::fencingToken).toList();
        assertThat(tokens).isSorted();
    }

    private static LeadershipTerm awaitLeaderAfter(List<LeaseElector> electors, long lastToken) {
        List<LeadershipTerm> found = new ArrayList<>();
        await().atMost(WAIT).pollInterval(Duration.ofMillis(5)).until(() -> {
            found.clear();
            for (LeaseElector elector : electors) {
                elector.currentTerm()
                        .filter(term -> term.fencingToken() > lastToken)
                        .ifPresent(found::add);
            }
            return !found.isEmpty();
        });
        return found.get(0);
    }

    private static LeaseElector elector(List<LeaseElector> electors, String identity) {
        return electors.stream()
                .filter(elector -> elector.identity().equals(identity))
                .findFirst()
                .orElseThrow();
    }

    private static void closeQuietly(ApplicationContext context) {
        ((org.springframework.context.ConfigurableApplicationContext) context).close();
    }

    record Run(String replica, long fencingToken, long startNanos, long endNanos) {}

    /** Shared by both replicas. */
    static class RunLog {
        private final List<Run> runs = new CopyOnWriteArrayList<>();

        void add(Run run) {
            runs.add(run);
        }

        long count(String replica, long fencingToken) {
            return runs.stream()
                    .filter(run -> run.replica().equals(replica) && run.fencingToken() == fencingToken)
                    .count();
        }

        List<Run> all() {
            return List.copyOf(runs);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EnableScheduling
    static class Job {
        private final RunLog runs;
        private final String identity;

        Job(RunLog runs, @Value("${leader.identity}") String identity) {
            this.runs = runs;
            this.identity = identity;
        }

        @Scheduled(fixedDelay = 1)
        @LeaderOnly
        public void tick() {
            long start = System.nanoTime();
            // Longer than a hand-over takes, so that a run caught by it would overlap the next leader's if not drained.
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
            Optional<LeadershipTerm> term = LeaderOnlyContext.currentTerm();
            runs.add(new Run(identity, term.orElseThrow().fencingToken(), start, System.nanoTime()));
        }
    }
}
