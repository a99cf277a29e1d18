package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStore.LeaseWatcher;
import dev.leaderpod.core.LeaseStoreException.Kind;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link WatchSupervisor}: one watch kept running for an elector (docs/design.md, "Watch to be fast, poll to be
 * right"). A watch that ends or cannot start is restarted with back-off and the elector polls meanwhile; callbacks of a
 * replaced watch are ignored; every watch that is replaced, closed by the elector or started too late is closed, and
 * never on the election thread ("No I/O on the thread that ends terms").
 */
class WatchSupervisorTest {

    private static final Duration RETRY = Duration.ofSeconds(2);
    private static final Duration LEASE_DURATION = Duration.ofSeconds(15);

    private final ManualTime time = new ManualTime();
    private final ScheduledExecutorService election = time.executor("election");
    private final ScheduledExecutorService io = time.executor("io");
    private final ElectionSettings settings =
            new ElectionSettings("orders", "me", LEASE_DURATION, Duration.ofSeconds(10), RETRY, null);
    private final FakeStore store = new FakeStore();
    /** What the elector hears, with the time it hears it. */
    private final List<String> heard = new ArrayList<>();

    private final LogCapture captured = new LogCapture();
    private final WatchSupervisor supervisor = new WatchSupervisor(
            store,
            settings,
            time.clock(),
            new ElectionLog("in-memory lease orders", settings, time.clock()),
            new Backoff(settings, new SplittableRandom(1)),
            new WatchSupervisor.Listener() {
                @Override
                public void changed(Optional<VersionedLease> lease) {
                    heard.add("changed " + lease.map(VersionedLease::version).orElse("deleted") + at());
                }

                @Override
                public void started() {
                    heard.add("started" + at());
                }

                @Override
                public void ended() {
                    heard.add("ended" + at());
                }
            },
            work -> election.execute(work));
    private final long t0 = time.nanoTime();

    @AfterEach
    void detach() {
        captured.close();
    }

    private void begin() {
        StoreCalls calls = new StoreCalls(
                "orders",
                io,
                election,
                time.clock(),
                Duration.ofMillis(6250),
                ElectionMonitor.NONE,
                outcome -> {},
                failure -> {
                    throw new AssertionError(failure);
                });
        election.execute(() -> supervisor.begin(true, calls, election, io));
        time.runDue();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Starting, delivering, ending

    @Test
    void aStartedWatchIsHealthyAndHandsItsChangesToTheElector() {
        begin();

        assertThat(supervisor.healthy()).isTrue();
        assertThat(heard).containsExactly("started at 0 ms");
        assertThat(store.watchers).hasSize(1);

        store.watchers.get(0).onChange(Optional.of(lease("5")));
        time.runDue();
        assertThat(heard).endsWith("changed 5 at 0 ms");
        assertThat(supervisor.delivered("5")).isTrue();
        assertThat(supervisor.delivered("4")).isFalse();
        assertThat(supervisor.delivered(null)).isFalse();

        store.watchers.get(0).onChange(Optional.empty());
        time.runDue();
        assertThat(heard).endsWith("changed deleted at 0 ms");
        assertThat(supervisor.delivered(null)).isTrue();
        assertThat(supervisor.delivered("5")).isFalse();
    }

    @Test
    void aDisabledWatchNeverStarts() {
        StoreCalls calls = new StoreCalls(
                "orders", io, election, time.clock(), Duration.ofMillis(6250), ElectionMonitor.NONE, o -> {}, f -> {});
        election.execute(() -> supervisor.begin(false, calls, election, io));
        time.advance(Duration.ofMinutes(1));

        assertThat(store.watchers).isEmpty();
        assertThat(supervisor.healthy()).isFalse();
    }

    @Test
    void aWatchTheStoreEndsIsClosedReportedAndStartedAgainAfterARetryPeriod() {
        begin();

        store.watchers.get(0).onClose(new IOException("connection reset"));
        time.runDue();
        assertThat(supervisor.healthy()).isFalse();
        assertThat(heard).containsExactly("started at 0 ms", "ended at 0 ms");
        assertThat(store.closedOn).containsExactly("io");

        time.advance(RETRY);
        assertThat(store.watchers).hasSize(2);
        assertThat(supervisor.healthy()).isTrue();
        assertThat(heard).endsWith("started at 2000 ms");
    }

    @Test
    void aWatchThatCannotStartIsRetriedWithBackOffDoublingFromTheRetryPeriod() {
        store.onWatch = watcher -> {
            throw new LeaseStoreException(Kind.FORBIDDEN, "no watch rule");
        };
        begin();
        time.advance(Duration.ofSeconds(40));

        assertThat(heard)
                .containsExactly(
                        "ended at 0 ms",
                        "ended at 2000 ms",
                        "ended at 6000 ms",
                        "ended at 14000 ms",
                        "ended at 30000 ms");
        assertThat(supervisor.healthy()).isFalse();
    }

    @Test
    void aWatchThatLastedALeaseDurationStartsTheBackOffAgain() {
        // Two quick failures made the next wait 8 s; a watch that then ran for a lease duration was a working watch:
        // when it ends it is restarted after a retry period, not after 8 s.
        store.closeOnStartTimes = 2;
        begin();
        time.advance(Duration.ofSeconds(6)); // ended at 0, restarted and ended at 2, restarted (for good) at 6
        assertThat(heard).endsWith("started at 6000 ms");

        time.advance(LEASE_DURATION);
        store.watchers.get(store.watchers.size() - 1).onClose(new IOException("reset"));
        time.advance(RETRY);

        assertThat(heard).endsWith("ended at 21000 ms", "started at 23000 ms");
    }

    @Test
    void aWatchThatEndsJustBeforeALeaseDurationKeepsBackingOff() {
        store.closeOnStartTimes = 2;
        begin();
        time.advance(Duration.ofSeconds(6));

        time.advance(LEASE_DURATION.minusNanos(1));
        store.watchers.get(store.watchers.size() - 1).onClose(new IOException("reset"));
        time.advance(Duration.ofSeconds(9));

        assertThat(heard).endsWith("ended at 20999 ms", "started at 28999 ms");
    }

    @Test
    void aWatchThatDeliversIsHealthyWhateverFailedBefore() {
        store.closeOnStartTimes = 2;
        begin();
        time.advance(Duration.ofSeconds(6));
        store.watchers.get(store.watchers.size() - 1).onChange(Optional.of(lease("9")));
        time.advance(Duration.ofSeconds(1));

        store.watchers.get(store.watchers.size() - 1).onClose(new IOException("reset"));
        time.advance(RETRY);

        assertThat(heard).endsWith("ended at 7000 ms", "started at 9000 ms");
    }

    @Test
    void aWatchTheStoreClosesWhileItStartsEndsAndIsRetried() {
        store.closeOnStartTimes = 1;
        begin();

        assertThat(heard).containsExactly("ended at 0 ms");
        assertThat(store.closedOn).containsExactly("io");
        time.advance(RETRY);
        assertThat(heard).containsExactly("ended at 0 ms", "started at 2000 ms");
    }

    @Test
    void aWatchThatStartsAfterTheBoundIsClosedAndRetried() {
        store.onWatch = watcher -> {
            store.onWatch = null;
            time.advanceExcept(Duration.ofSeconds(7), "io"); // the bound is 6.25 s
            return store.open(watcher);
        };
        begin();

        assertThat(heard).containsExactly("ended at 6250 ms");
        assertThat(store.closedOn).as("the late watch").containsExactly("io");
        assertThat(supervisor.healthy()).isFalse();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Replaced watches: ignored and closed

    @Test
    void aWatchProvenToHaveMissedChangesIsClosedAndReplacedAndItsCallbacksAreIgnored() {
        begin();
        LeaseWatcher old = store.watchers.get(0);

        election.execute(() -> supervisor.distrust("a read found a change it had not delivered"));
        time.runDue();

        assertThat(store.closedOn).containsExactly("io");
        assertThat(store.watchers).hasSize(2);
        assertThat(supervisor.healthy()).isTrue();
        assertThat(captured.atLeast(Level.INFO))
                .contains("INFO me: the watch on in-memory lease orders missed changes (a read found a change it had"
                        + " not delivered); restarting it");
        old.onChange(Optional.of(lease("7")));
        old.onClose(new IOException("closed"));
        time.runDue();
        assertThat(heard).containsExactly("started at 0 ms", "started at 0 ms");
        assertThat(supervisor.healthy()).isTrue();

        store.watchers.get(1).onChange(Optional.of(lease("8")));
        time.runDue();
        assertThat(heard).endsWith("changed 8 at 0 ms");
    }

    @Test
    void aWatchProvenToHaveMissedChangesIsToldSoBeforeTheNextStartSoThatAStoreSharingAConnectionOpensAnother() {
        begin();

        election.execute(() -> supervisor.distrust("a read found a change it had not delivered"));
        time.runDue();

        assertThat(store.missed).containsExactly("watch 1 told on election with 1 started");
        assertThat(store.watchers).hasSize(2);
        assertThat(store.closedOn).containsExactly("io");
    }

    @Test
    void aWatchThatEndsOrIsClosedIsNeverToldItMissedChanges() {
        begin();
        endWatch(new IOException("connection reset"));
        time.advance(RETRY);

        election.execute(() -> supervisor.close());
        time.runDue();

        assertThat(store.missed).isEmpty();
        assertThat(store.closedOn).containsExactly("io", "io");
    }

    @Test
    void aWatchClosedWhileItStartsIsClosedWhenItOpens() {
        store.onWatch = watcher -> {
            store.onWatch = null;
            time.advanceExcept(Duration.ofSeconds(1), "io"); // the start takes a second ...
            return store.open(watcher);
        };
        StoreCalls calls = new StoreCalls(
                "orders", io, election, time.clock(), Duration.ofMillis(6250), ElectionMonitor.NONE, o -> {}, f -> {});
        election.execute(() -> supervisor.begin(true, calls, election, io));
        election.schedule(supervisor::close, 500, java.util.concurrent.TimeUnit.MILLISECONDS); // ... the elector stops
        time.advance(Duration.ofSeconds(5));

        assertThat(store.closedOn).containsExactly("io");
        assertThat(supervisor.healthy()).isFalse();
        assertThat(heard).isEmpty();
    }

    @Test
    void aWatchIsClosedByItsOwnThreadWhenEveryIoThreadIsStuck() {
        ScheduledExecutorService full = time.executor("io-full");
        StoreCalls calls = new StoreCalls(
                "orders", io, election, time.clock(), Duration.ofMillis(6250), ElectionMonitor.NONE, o -> {}, f -> {});
        election.execute(() -> supervisor.begin(true, calls, election, full));
        time.runDue();
        full.shutdown(); // every I/O thread is now stuck: new tasks are refused

        election.execute(supervisor::close);
        time.runDue();

        await().atMost(Duration.ofSeconds(10)).until(() -> !store.closedOn.isEmpty());
        assertThat(store.closedOn).containsExactly("leader-watch-close daemon");
    }

    @Test
    void closingWithoutAWatchClosesNothing() {
        StoreCalls calls = new StoreCalls(
                "orders", io, election, time.clock(), Duration.ofMillis(6250), ElectionMonitor.NONE, o -> {}, f -> {});
        election.execute(() -> supervisor.begin(false, calls, election, io));
        election.execute(supervisor::close);
        time.runDue();

        assertThat(store.closedOn).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Worth a warning: a watch that cannot start, not a routine reconnect

    @Test
    void aRoutineReconnectIsNoWarningButThreeEndsInARowAre() {
        begin();
        endWatch(new LeaseStoreException(Kind.UNAVAILABLE, "connection reset"));
        time.advance(RETRY);
        endWatch(new IOException("connection reset"));
        time.advance(RETRY.multipliedBy(2));
        assertThat(captured.atLeast(Level.WARN)).isEmpty();

        endWatch(new LeaseStoreException(Kind.UNAVAILABLE, "connection reset"));

        assertThat(captured.atLeast(Level.WARN))
                .singleElement()
                .asString()
                .startsWith("WARN me: cannot watch in-memory lease orders (connection reset)");
    }

    @Test
    void aWatchRefusedByTheStoreIsAWarningAtOnce() {
        begin();
        endWatch(new LeaseStoreException(Kind.FORBIDDEN, "no watch rule"));

        assertThat(captured.atLeast(Level.WARN))
                .singleElement()
                .asString()
                .startsWith("WARN me: cannot watch in-memory lease orders (no watch rule)");
    }

    /** The store ends the running watch with {@code cause}. */
    private void endWatch(Exception cause) {
        assertThat(supervisor.healthy()).isTrue();
        store.watchers.get(store.watchers.size() - 1).onClose(cause);
        time.runDue();
        assertThat(supervisor.healthy()).isFalse();
    }

    // ---------------------------------------------------------------------------------------------------------

    private String at() {
        return " at " + Duration.ofNanos(time.nanoTime() - t0).toMillis() + " ms";
    }

    private static VersionedLease lease(String version) {
        Instant wall = Instant.parse("2026-01-01T00:00:00Z");
        return new VersionedLease(new LeaseRecord("a", LEASE_DURATION, wall, wall, 1L), version);
    }

    /** A store that only watches: records its watchers and where each watch was closed. */
    private final class FakeStore implements LeaseStore {
        final List<LeaseWatcher> watchers = new CopyOnWriteArrayList<>();
        final List<String> closedOn = new CopyOnWriteArrayList<>();
        /** Each watch told it missed changes: which, on which thread, and how many watches were started by then. */
        final List<String> missed = new CopyOnWriteArrayList<>();

        volatile Function<LeaseWatcher, Optional<LeaseWatch>> onWatch;
        /** The next this many watches are closed by the store as they start. */
        int closeOnStartTimes;

        Exception closeCause = new IOException("closed as it started");

        @Override
        public Optional<LeaseWatch> watch(String name, LeaseWatcher watcher) {
            if (onWatch != null) {
                return onWatch.apply(watcher);
            }
            if (closeOnStartTimes > 0) {
                closeOnStartTimes--;
                watcher.onClose(closeCause);
                return Optional.of(watchHandle());
            }
            return open(watcher);
        }

        Optional<LeaseWatch> open(LeaseWatcher watcher) {
            watchers.add(watcher);
            return Optional.of(watchHandle());
        }

        private LeaseWatch watchHandle() {
            int number = watchers.size();
            return new LeaseWatch() {
                @Override
                public void close() {
                    Thread thread = Thread.currentThread();
                    closedOn.add(
                            thread.getName().startsWith("leader-")
                                    ? thread.getName() + (thread.isDaemon() ? " daemon" : " user")
                                    : time.runningExecutor());
                }

                @Override
                public void missedChanges() {
                    missed.add("watch " + number + " told on " + time.runningExecutor() + " with " + watchers.size()
                            + " started");
                }
            };
        }

        @Override
        public Optional<VersionedLease> get(String name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public VersionedLease create(String name, LeaseRecord record) {
            throw new UnsupportedOperationException();
        }

        @Override
        public VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
            throw new UnsupportedOperationException();
        }
    }
}
