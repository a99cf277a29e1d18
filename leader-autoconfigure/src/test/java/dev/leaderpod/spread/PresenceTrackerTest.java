package dev.leaderpod.spread;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.ElectionClock;
import dev.leaderpod.core.ElectionRuntime;
import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.Presence;
import dev.leaderpod.core.PresenceStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** How a candidate follows the others' announcements when its store's watch fails (docs/design.md, "Presence"). */
class PresenceTrackerTest {

    private static final Duration INTERVAL = Duration.ofMillis(100);

    /**
     * {@code KubernetesPresenceStore#watch} reports a watch that cannot start within its request timeout through
     * {@code onClose} before it returns the (ended) watch, as its contract says. The tracker must then start another
     * one and list at its next tick, as after any watch that ended: found by {@code it.SpreadingKubernetesTest}, where
     * a candidate whose first presence watch timed out at start-up saw itself alone for good.
     */
    @Test
    void aWatchThatEndsBeforeItsStartReturnsIsStartedAgainAndTheOthersAreListed() {
        TestPresenceStore shared = new TestPresenceStore();
        PresenceStore own = shared.viewOf("a");
        AtomicInteger watches = new AtomicInteger();
        AtomicInteger lists = new AtomicInteger();
        PresenceStore firstWatchTimesOut = new PresenceStore() {
            @Override
            public Presence announce(Presence presence) {
                return own.announce(presence);
            }

            @Override
            public List<Presence> list() {
                lists.incrementAndGet();
                return own.list();
            }

            @Override
            public void remove(String identity, String version) {
                own.remove(identity, version);
            }

            @Override
            public Optional<LeaseWatch> watch(PresenceWatcher watcher) {
                if (watches.getAndIncrement() == 0) {
                    watcher.onClose(new LeaseStoreException(
                            LeaseStoreException.Kind.TIMEOUT, "watch did not start within 1000 ms"));
                    return Optional.of(() -> {});
                }
                return own.watch(watcher);
            }
        };
        PresenceStore other = shared.viewOf("b");
        ScheduledExecutorService b = Executors.newSingleThreadScheduledExecutor();
        try (ElectionRuntime runtime = ElectionRuntime.create("presence-a")) {
            PresenceTracker tracker = new PresenceTracker(
                    firstWatchTimesOut,
                    runtime,
                    ElectionClock.system(),
                    INTERVAL,
                    () -> Presence.of("a", Set.of("jobs", "jobs-reports"), Map.of()),
                    () -> {});
            tracker.start();
            // b announces itself only after a's first list, so that a can learn of it only by a new watch or list.
            await().atMost(Duration.ofSeconds(10)).until(() -> lists.get() >= 1);
            b.scheduleWithFixedDelay(
                    () -> other.announce(Presence.of("b", Set.of("jobs", "jobs-reports"), Map.of())),
                    0,
                    INTERVAL.toMillis() / 2,
                    TimeUnit.MILLISECONDS);

            await().atMost(Duration.ofSeconds(5)).until(() -> tracker.alive().containsKey("b"));
            assertThat(watches).as("watches started").hasValueGreaterThanOrEqualTo(2);
            tracker.leave();
        } finally {
            b.shutdownNow();
        }
    }
}
