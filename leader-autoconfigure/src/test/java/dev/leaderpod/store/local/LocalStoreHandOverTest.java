package dev.leaderpod.store.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.ElectionMonitor;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.StoreOperation;
import dev.leaderpod.core.VersionedLease;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Two electors on the local store, each with a store instance of its own as separate processes would have: a graceful
 * stop of the leader hands over within milliseconds, because the follower watches the lease file ("Watch to be fast,
 * poll to be right", docs/design.md). The retry period is 3 s, so a follower that polled would take at least that.
 *
 * <p>At start a follower starts its watch and reads the lease at once, on two I/O threads; each test makes one of the
 * two finish first. A follower trusts its watch only after a read since the watch started: when the read came first
 * it must read again at once, or the leader's renews, each delivered by the watch, keep putting its next poll off.
 */
class LocalStoreHandOverTest {

    private static final String LEASE = "billing";
    private static final Duration RETRY_PERIOD = Duration.ofSeconds(3);
    /** Far below the retry period that a polling follower would wait, generous for a loaded two-core machine. */
    private static final Duration WITHIN_MILLISECONDS = Duration.ofSeconds(2);

    @TempDir
    Path root;

    private Path directory;
    private final List<LeaseElector> electors = new ArrayList<>();

    @BeforeEach
    void releasedLease() throws IOException {
        directory = root.toRealPath();
        // Released (holder empty, 1 s), so the first candidate takes it at once: an absent lease would be waited out.
        process().create(LEASE, new LeaseRecord("", Duration.ofSeconds(1), null, null, 0L));
    }

    @AfterEach
    void stopAll() {
        electors.forEach(elector -> elector.stop(Duration.ofSeconds(5)));
    }

    /** Which of the follower's first two calls, its watch and its read, finishes first. */
    enum First {
        READ,
        WATCH
    }

    @ParameterizedTest
    @EnumSource(First.class)
    void aGracefulStopIsTakenOverWithinMillisecondsByTheWatchingFollower(First first) {
        LeaseElector leader = elector("a", process(), ElectionMonitor.NONE);
        leader.start();
        await().atMost(Duration.ofSeconds(10)).until(leader::isLeader);

        AtomicReference<LeaseElector> self = new AtomicReference<>();
        CountDownLatch readReported = new CountDownLatch(1);
        AtomicInteger readsWhileWatching = new AtomicInteger();
        ElectionMonitor monitor = new ElectionMonitor() {
            @Override
            public void storeCall(StoreOperation operation, Duration latency, LeaseStoreException.Kind failure) {
                // On the election thread, in the task that goes on to use the read: a read after the watch started
                // is one the follower trusts its watch after.
                if (operation == StoreOperation.GET && failure == null) {
                    if (self.get().snapshot().watching()) {
                        readsWhileWatching.incrementAndGet();
                    }
                    readReported.countDown();
                }
            }
        };
        Ordered store = new Ordered(process());
        if (first == First.READ) {
            store.beforeWatch = () -> awaitQuietly(readReported); // so the read's result is used before the watch's
        } else {
            store.beforeGet = () -> await().atMost(Duration.ofSeconds(10))
                    .until(() -> self.get().snapshot().watching());
        }
        LeaseElector follower = elector("b", store, monitor);
        self.set(follower);
        follower.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> readsWhileWatching.get() > 0);
        assertThat(follower.snapshot().observedHolder()).contains("a");

        long stopping = System.nanoTime();
        leader.stop(Duration.ofSeconds(5));
        await().atMost(WITHIN_MILLISECONDS).pollInterval(Duration.ofMillis(5)).until(follower::isLeader);
        System.out.printf("local store, %s first: hand-over %.1f ms%n", first, (System.nanoTime() - stopping) / 1e6);
    }

    private FileLeaseStore process() {
        return new FileLeaseStore(
                directory,
                Duration.ofSeconds(5),
                FileLeaseStore.Steps.REAL,
                new ConcurrentHashMap<>(),
                LeaseFileWatches.Options.DEFAULT);
    }

    private LeaseElector elector(String identity, LeaseStore store, ElectionMonitor monitor) {
        ElectionSettings settings = new ElectionSettings(
                LEASE, identity, Duration.ofSeconds(10), Duration.ofSeconds(6), RETRY_PERIOD, null);
        LeaseElector elector =
                LeaseElector.builder(settings, store).monitor(monitor).build();
        electors.add(elector);
        return elector;
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A store that runs a step before its first read and before its first watch. */
    private static final class Ordered implements LeaseStore {
        private final LeaseStore store;
        volatile Runnable beforeGet = () -> {};
        volatile Runnable beforeWatch = () -> {};

        Ordered(LeaseStore store) {
            this.store = store;
        }

        @Override
        public Optional<VersionedLease> get(String name) {
            Runnable step = beforeGet;
            beforeGet = () -> {};
            step.run();
            return store.get(name);
        }

        @Override
        public Optional<LeaseWatch> watch(String name, LeaseWatcher watcher) {
            Runnable step = beforeWatch;
            beforeWatch = () -> {};
            step.run();
            return store.watch(name, watcher);
        }

        @Override
        public VersionedLease create(String name, LeaseRecord record) {
            return store.create(name, record);
        }

        @Override
        public VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
            return store.update(name, record, expectedVersion);
        }

        @Override
        public String describe(String name) {
            return store.describe(name);
        }
    }
}
