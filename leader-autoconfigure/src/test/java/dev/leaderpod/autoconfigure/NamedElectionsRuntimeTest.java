package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * What named elections cost: the threads at rest do not grow with their number (they share the application's
 * {@code ElectionRuntime}), and a shutdown drains them all within one {@code leader.drain-timeout}, not one each
 * (docs/design.md, "Named elections").
 */
class NamedElectionsRuntimeTest {

    private final InMemoryLeaseStore store = new InMemoryLeaseStore();

    @Test
    void fiveNamedElectionsAtRestKeepTheRuntimesOneThread() {
        // A name of its own, so that threads of other tests' runtimes are not counted.
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(LeaderElectionAutoConfiguration.class))
                .withPropertyValues(
                        "spring.application.name=threadcount",
                        "leader.elections.e1.enabled=true",
                        "leader.elections.e2.enabled=true",
                        "leader.elections.e3.enabled=true",
                        "leader.elections.e4.enabled=true",
                        "leader.elections.e5.enabled=true")
                .withBean(LeaseStore.class, () -> store)
                .run(context -> {
                    LeaderElections elections = context.getBean(LeaderElections.class);
                    await().atMost(Duration.ofSeconds(20))
                            .until(() -> elections.electors().values().stream().allMatch(LeaseElector::isLeader));
                    assertThat(elections.electors()).hasSize(6);
                    // The event thread delivered the grants and ends after its keep-alive; renewals go on without it.
                    await().atMost(Duration.ofSeconds(20))
                            .until(() -> !starterThreads().contains("leader-events-threadcount"));

                    List<Integer> samples = new ArrayList<>();
                    await().atMost(Duration.ofSeconds(20))
                            .pollInterval(Duration.ofMillis(250))
                            .until(() -> {
                                List<String> threads = starterThreads();
                                samples.add(threads.size());
                                // One election thread, and no runtime of an elector's own.
                                assertThat(threads)
                                        .containsOnlyOnce("leader-election-threadcount")
                                        .allMatch(name -> SHARED_RUNTIME_THREAD
                                                .matcher(name)
                                                .matches());
                                return samples.size() >= 12;
                            });

                    // At rest: the election thread, plus now and then the I/O thread of a renew that is running;
                    // six elections renew every 2 s each.
                    assertThat(samples.stream().sorted().toList().get(samples.size() / 2))
                            .isLessThanOrEqualTo(2);
                    assertThat(samples).allMatch(count -> count <= 5);
                });
    }

    @Test
    void shutdownDrainsEveryElectionWithinOneDrainTimeout() throws Exception {
        Duration drainTimeout = Duration.ofSeconds(2);
        CountDownLatch release = new CountDownLatch(1);
        HungJobs.release = release;
        try {
            new ApplicationContextRunner()
                    .withConfiguration(AutoConfigurations.of(
                            AopAutoConfiguration.class,
                            LeaderElectionAutoConfiguration.class,
                            LeaderOnlyAutoConfiguration.class))
                    .withPropertyValues(
                            "spring.application.name=billing",
                            "leader.lease-duration=60s",
                            "leader.renew-deadline=40s",
                            "leader.retry-period=10s",
                            "leader.drain-timeout=" + drainTimeout.toMillis() + "ms")
                    .withBean(LeaseStore.class, () -> store)
                    .withBean(HungJobs.class)
                    .run(context -> {
                        LeaderElections elections = context.getBean(LeaderElections.class);
                        await().atMost(Duration.ofSeconds(20))
                                .until(() -> elections.names().size() == 4
                                        && elections.names().stream()
                                                .allMatch(name ->
                                                        elections.election(name).isLeader()));
                        HungJobs jobs = context.getBean(HungJobs.class);
                        List<Thread> callers = List.of(
                                caller(jobs::inDefault), caller(jobs::inA), caller(jobs::inB), caller(jobs::inC));
                        await().atMost(Duration.ofSeconds(20)).until(() -> jobs.running() == 4);

                        long start = System.nanoTime();
                        context.close();
                        Duration took = Duration.ofNanos(System.nanoTime() - start);

                        // Drained one after another, four hung elections would take four drain timeouts.
                        assertThat(took).isGreaterThanOrEqualTo(drainTimeout).isLessThan(drainTimeout.multipliedBy(3));
                        assertThat(List.of("billing", "billing-a", "billing-b", "billing-c"))
                                .allSatisfy(lease -> assertThat(store.get(lease)
                                                .orElseThrow()
                                                .record()
                                                .isHeld())
                                        .as("%s released", lease)
                                        .isFalse());
                        release.countDown();
                        for (Thread caller : callers) {
                            caller.join(10_000);
                        }
                    });
        } finally {
            release.countDown();
        }
    }

    private static Thread caller(Runnable call) {
        Thread thread = new Thread(call, "hung-caller");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static final Pattern RUNTIME_THREAD = Pattern.compile("leader-(election|events|io)-threadcount.*");

    /** The application's runtime's threads: {@code leader-io-threadcount-2}, never {@code ...-threadcount-e1}. */
    private static final Pattern SHARED_RUNTIME_THREAD =
            Pattern.compile("leader-(election|events|io)-threadcount(-\\d+)?");

    /** The threads of the runtime of the application 'threadcount', and of any runtime an elector made itself. */
    private static List<String> starterThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(name -> RUNTIME_THREAD.matcher(name).matches())
                .sorted()
                .toList();
    }

    /** A call in each of four elections that runs until the test lets it return. */
    static class HungJobs {
        static volatile CountDownLatch release;
        private final AtomicInteger running = new AtomicInteger();

        public int running() {
            return running.get();
        }

        @LeaderOnly
        public void inDefault() {
            hang();
        }

        @LeaderOnly("a")
        public void inA() {
            hang();
        }

        @LeaderOnly("b")
        public void inB() {
            hang();
        }

        @LeaderOnly("c")
        public void inC() {
            hang();
        }

        private void hang() {
            running.incrementAndGet();
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
