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
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * What named elections cost: the threads at rest do not grow with their number (they share the application's
 * {@code ElectionRuntime}), and a shutdown drains and releases every one of them (docs/design.md, "Named
 * elections").
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
    void shutdownDrainsAndReleasesEveryElectionOneAfterAnother() throws Exception {
        Duration drainTimeout = Duration.ofSeconds(1);
        CountDownLatch release = new CountDownLatch(1);
        HungJob.release = release;
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
                            "leader.drain-timeout=" + drainTimeout.toMillis() + "ms",
                            "leader.elections.b.enabled=true",
                            "leader.elections.c.enabled=true",
                            "leader.elections.d.enabled=true",
                            "leader.elections.e.enabled=true")
                    .withBean(LeaseStore.class, () -> store)
                    .withBean(HungJob.class)
                    .run(context -> {
                        LeaderElections elections = context.getBean(LeaderElections.class);
                        await().atMost(Duration.ofSeconds(30))
                                .until(() -> elections.electors().size() == 6
                                        && elections.electors().values().stream()
                                                .allMatch(LeaseElector::isLeader));
                        HungJob job = context.getBean(HungJob.class);
                        Thread caller = new Thread(job::inA, "hung-caller");
                        caller.setDaemon(true);
                        caller.start();
                        await().atMost(Duration.ofSeconds(20)).until(job::running);

                        long start = System.nanoTime();
                        context.close();
                        Duration took = Duration.ofNanos(System.nanoTime() - start);

                        // The hung call of 'a' is waited for up to the drain timeout; the others drain at once.
                        assertThat(took).isGreaterThanOrEqualTo(drainTimeout).isLessThan(drainTimeout.multipliedBy(5));
                        // Released one after another: none refused for want of an I/O thread.
                        assertThat(List.of("billing", "billing-a", "billing-b", "billing-c", "billing-d", "billing-e"))
                                .allSatisfy(lease -> assertThat(store.get(lease)
                                                .orElseThrow()
                                                .record()
                                                .isHeld())
                                        .as("%s released", lease)
                                        .isFalse());
                        release.countDown();
                        caller.join(10_000);
                    });
        } finally {
            release.countDown();
        }
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

    /** A call of the election {@code a} that runs until the test lets it return. */
    static class HungJob {
        static volatile CountDownLatch release;
        private volatile boolean running;

        public boolean running() {
            return running;
        }

        @LeaderOnly("a")
        public void inA() {
            running = true;
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
