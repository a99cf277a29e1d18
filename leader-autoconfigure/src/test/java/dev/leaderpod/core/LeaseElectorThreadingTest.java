package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** docs/design.md, "No I/O on the thread that ends terms", on real threads: callbacks never run on the election thread, and a slow listener never delays a renew. */
class LeaseElectorThreadingTest {

    private final InMemoryLeaseStore store = new InMemoryLeaseStore();
    private final ElectionSettings settings = new ElectionSettings(
            "orders", "a", Duration.ofSeconds(3), Duration.ofSeconds(2), Duration.ofMillis(200), null);

    @Test
    void aListenerBlockedInOnStartedLeadingDoesNotDelayRenewals() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<String> listenerThread = new AtomicReference<>();
        LeaseElector elector = LeaseElector.builder(settings, store)
                .listener(new LeadershipListener() {
                    @Override
                    public void onStartedLeading(LeadershipTerm term) {
                        listenerThread.set(Thread.currentThread().getName());
                        try {
                            release.await(30, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                })
                .build();
        elector.start();
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> listenerThread.get() != null);
            long versionWhileBlocked = version();
            // Renewals go on while the listener is stuck: five more writes, and leadership never lapses.
            await().atMost(Duration.ofSeconds(10)).until(() -> version() >= versionWhileBlocked + 5);
            assertThat(elector.isLeader()).isTrue();
            assertThat(listenerThread.get()).startsWith("leader-events-orders");
        } finally {
            release.countDown();
            elector.stop(Duration.ofSeconds(5));
        }
        assertThat(store.get("orders").orElseThrow().record().isHeld()).isFalse();
    }

    @Test
    void ownThreadsAreDaemonsNamedAfterTheLeaseAndEndOnStop() throws Exception {
        LeaseElector elector = LeaseElector.builder(settings, store).build();
        elector.start();
        await().atMost(Duration.ofSeconds(10)).until(elector::isLeader);
        assertThat(threadsNamed("leader-election-orders")).isEqualTo(1);

        elector.stop(Duration.ofSeconds(5));

        await().atMost(Duration.ofSeconds(10)).until(() -> threadsNamed("leader-election-orders") == 0);
    }

    @Test
    void aHealthyLeaderAtRestKeepsOneThread() {
        LeaseElector elector = LeaseElector.builder(settings, store).build();
        elector.start();
        try {
            await().atMost(Duration.ofSeconds(10)).until(elector::isLeader);
            // The event thread delivered the grant and ends after its keep-alive; renewals go on without it.
            await().atMost(Duration.ofSeconds(20)).until(() -> threadsNamed("leader-events-orders") == 0);
            long version = version();
            await().atMost(Duration.ofSeconds(10)).until(() -> version() >= version + 5);
            assertThat(threadsNamed("leader-events-orders")).isZero();
            assertThat(threadsNamed("leader-election-orders")).isEqualTo(1);
            assertThat(elector.isLeader()).isTrue();
        } finally {
            elector.stop(Duration.ofSeconds(5));
        }
    }

    @Test
    void twentyElectionsOnOneRuntimeKeepOneElectionThreadAndAtMostTwoThreadsAtRest() {
        List<LeaseElector> electors = new ArrayList<>();
        try (ElectionRuntime runtime = ElectionRuntime.create("shared")) {
            for (int i = 0; i < 20; i++) {
                electors.add(LeaseElector.builder(
                                new ElectionSettings(
                                        "job-" + i,
                                        "a",
                                        Duration.ofSeconds(15),
                                        Duration.ofSeconds(10),
                                        Duration.ofSeconds(2),
                                        null),
                                store)
                        .runtime(runtime)
                        .build());
            }
            electors.forEach(LeaseElector::start);
            await().atMost(Duration.ofSeconds(10)).until(() -> electors.stream().allMatch(LeaseElector::isLeader));
            // The event thread delivered the grants and ends after its keep-alive; renewals go on without it.
            await().atMost(Duration.ofSeconds(20)).until(() -> threadsNamed("leader-events-shared") == 0);

            List<Long> samples = new ArrayList<>();
            long version = version("job-0");
            await().atMost(Duration.ofSeconds(20))
                    .pollInterval(Duration.ofMillis(250))
                    .until(() -> {
                        samples.add(threadsOfRuntime("shared")); // not other tests' leftovers
                        assertThat(threadsNamed("leader-election-shared")).isEqualTo(1);
                        return version("job-0") >= version + 3 && samples.size() >= 12;
                    });

            // At rest: the election thread, plus now and then the I/O thread of a renew that is running.
            assertThat(samples.stream().sorted().toList().get(samples.size() / 2))
                    .isLessThanOrEqualTo(2);
            assertThat(samples).allMatch(count -> count <= 1 + ElectionRuntime.MAX_IO_THREADS);
            assertThat(electors).allMatch(LeaseElector::isLeader);
            electors.forEach(elector -> elector.stop(Duration.ofSeconds(5)));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> threadsNamed("leader-election-shared") == 0);
    }

    /** Threads of the runtime created with {@code suffix}: leader-election-, -events- and -io- threads. */
    private static long threadsOfRuntime(String suffix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(name -> name.startsWith("leader-")
                        && (name.endsWith("-" + suffix) || name.contains("-" + suffix + "-")))
                .count();
    }

    private long version(String lease) {
        return Long.parseLong(store.get(lease).orElseThrow().version());
    }

    private long version() {
        return Long.parseLong(store.get("orders").orElseThrow().version());
    }

    private static long threadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith(prefix) && thread.isAlive())
                .peek(thread -> assertThat(thread.isDaemon()).isTrue())
                .count();
    }
}
