package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.ElectionClock;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.VersionedLease;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * The test kit's seam: an {@link ElectionClock} bean is the clock of every elector the auto-configuration builds, the
 * default one and the named ones (leader-test drives elections on a clock of its own through it). Seen through the
 * lease each elector writes: its acquire time is the clock's wall time.
 */
class ElectionClockBeanTest {

    private static final Instant WALL = Instant.parse("2031-02-03T04:05:06Z");

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(LeaderElectionAutoConfiguration.class))
            .withBean(InMemoryLeaseStore.class)
            .withPropertyValues("spring.application.name=billing", "leader.elections.reports.enabled=true");

    @Test
    void anElectionClockBeanIsTheClockOfTheDefaultAndTheNamedElectors() {
        contextRunner
                .withBean(ElectionClock.class, () -> new FixedWallClock(WALL))
                .run(context -> {
                    InMemoryLeaseStore store = context.getBean(InMemoryLeaseStore.class);
                    List<String> leases = List.of("billing", "billing-reports");
                    await().atMost(Duration.ofSeconds(10))
                            .until(() -> leases.stream()
                                    .allMatch(lease -> store.get(lease)
                                            .map(VersionedLease::record)
                                            .filter(record -> record.isHeld())
                                            .isPresent()));
                    for (String lease : leases) {
                        assertThat(store.get(lease).orElseThrow().record().acquireTime())
                                .as(lease)
                                .isEqualTo(WALL);
                    }
                });
    }

    @Test
    void withoutOneTheElectorsRunOnTheSystemClock() {
        contextRunner.run(context -> {
            InMemoryLeaseStore store = context.getBean(InMemoryLeaseStore.class);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> store.get("billing-reports").isPresent()
                            && store.get("billing").isPresent());
            assertThat(store.get("billing").orElseThrow().record().acquireTime())
                    .isNotEqualTo(WALL);
            assertThat(store.get("billing-reports").orElseThrow().record().acquireTime())
                    .isNotEqualTo(WALL);
        });
    }

    /** The JVM's monotonic time, so the electors' timers run as usual, and a wall clock that stands still. */
    private record FixedWallClock(Instant wall) implements ElectionClock {

        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public Instant wallTime() {
            return wall;
        }
    }
}
