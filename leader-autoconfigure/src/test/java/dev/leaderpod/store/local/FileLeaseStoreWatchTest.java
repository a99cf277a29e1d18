package dev.leaderpod.store.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStore.LeaseWatcher;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.VersionedLease;
import dev.leaderpod.store.local.FileLeaseStore.Steps;
import dev.leaderpod.store.local.LeaseFileWatches.Mode;
import dev.leaderpod.store.local.LeaseFileWatches.Options;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file store's watch ("Watch to be fast, poll to be right", docs/design.md). Writers are other store instances
 * with in-JVM locks of their own, as other processes would be. A watching store made by {@link #eventsOnly} never runs
 * its periodic check, so whatever it delivers came through the JDK's watch service: a test that waits for a delivery
 * from it would fail without the events, however long it waited.
 */
class FileLeaseStoreWatchTest {

    private static final String NAME = "billing";
    private static final Duration LOCK_TIMEOUT = Duration.ofSeconds(10);
    /** A check interval no test reaches. */
    private static final Duration NEVER = Duration.ofHours(1);
    /**
     * How long a test waits for a delivery: an event takes a millisecond or so, but a loaded two-core machine may stall
     * a thread for a while. Without events, the deliveries these tests wait for never come at all.
     */
    private static final Duration AN_EVENT = Duration.ofSeconds(5);

    @TempDir
    Path root;

    private Path directory;
    private final List<LeaseWatch> opened = new ArrayList<>();
    private final List<CountDownLatch> toRelease = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        directory = root.toRealPath().resolve("leases");
    }

    @AfterEach
    void closeWatches() {
        toRelease.forEach(CountDownLatch::countDown);
        opened.forEach(LeaseWatch::close);
    }

    private FileLeaseStore store(Mode mode, Duration checkEvery) {
        return new FileLeaseStore(
                directory, LOCK_TIMEOUT, Steps.REAL, new ConcurrentHashMap<>(), new Options(mode, checkEvery));
    }

    private FileLeaseStore eventsOnly() {
        return store(Mode.EVENTS, NEVER);
    }

    /** Another process's store on the same directory. */
    private FileLeaseStore anotherProcess() {
        return store(Mode.AUTO, null);
    }

    private LeaseWatch watch(FileLeaseStore store, String name, LeaseWatcher watcher) {
        LeaseWatch watch = store.watch(name, watcher).orElseThrow();
        opened.add(watch);
        return watch;
    }

    private static LeaseRecord heldBy(String holder, long transitions) {
        return new LeaseRecord(
                holder,
                Duration.ofSeconds(15),
                Instant.parse("2024-05-01T11:00:00Z"),
                Instant.parse("2024-05-01T11:00:00Z").plusSeconds(transitions),
                transitions);
    }

    private static LeaseRecord released(long transitions) {
        return new LeaseRecord("", Duration.ofSeconds(1), null, Instant.parse("2024-05-01T12:00:00Z"), transitions);
    }

    private static Set<Thread> watchThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().equals(LeaseFileWatches.THREAD_NAME) && thread.isAlive())
                .collect(Collectors.toSet());
    }

    // --- events

    @Test
    void anotherProcessesWritesAndDeletionAreSeenWithinMilliseconds() throws IOException {
        FileLeaseStore follower = eventsOnly();
        FileLeaseStore leader = anotherProcess();
        Recorder watcher = new Recorder();
        watch(follower, NAME, watcher);

        List<Long> wroteAt = new ArrayList<>();
        VersionedLease created = leader.create(NAME, heldBy("leader", 1));
        wroteAt.add(System.nanoTime());
        watcher.await().until(() -> watcher.changes.contains(Optional.of(created)));
        VersionedLease renewed = leader.update(NAME, heldBy("leader", 1), created.version());
        wroteAt.add(System.nanoTime());
        watcher.await().until(() -> watcher.changes.contains(Optional.of(renewed)));
        VersionedLease release = leader.update(NAME, released(1), renewed.version());
        wroteAt.add(System.nanoTime());
        watcher.await().until(() -> watcher.changes.contains(Optional.of(release)));
        Files.delete(directory.resolve(NAME + ".lease"));
        wroteAt.add(System.nanoTime());
        watcher.await().until(() -> watcher.changes.contains(Optional.empty()));

        // Each once, in order; the lease as it was when the watch started (absent) is not delivered.
        assertThat(watcher.changes)
                .containsExactly(Optional.of(created), Optional.of(renewed), Optional.of(release), Optional.empty());
        assertThat(watcher.closes).isEmpty();
        List<Double> millis = new ArrayList<>();
        for (int i = 0; i < wroteAt.size(); i++) {
            millis.add(Math.max(0, watcher.deliveredAt.get(i) - wroteAt.get(i)) / 1e6);
        }
        System.out.println("file store watch: write to delivery, ms: " + millis);
    }

    @Test
    void temporaryLockAndOtherFilesAreIgnoredAndEachChangeIsReadOnce() throws IOException {
        FileLeaseStore follower = eventsOnly();
        FileLeaseStore writer = anotherProcess();
        Recorder watcher = new Recorder();
        watch(follower, NAME, watcher);

        // What a writer killed before its rename leaves, files of other leases, and look-alikes.
        Path temporary = directory.resolve(NAME + ".lease." + UUID.randomUUID() + ".tmp");
        Files.writeString(temporary, "version=99\n");
        Files.delete(temporary);
        for (String name : List.of(NAME + ".lock", NAME + ".lease~", NAME + ".leases", "x" + NAME + ".lease")) {
            Files.writeString(directory.resolve(name), "version=98\n");
        }
        writer.create("reports", heldBy("other", 1));
        // Events arrive in order: once the lease's own change is delivered, everything above has been handled.
        VersionedLease created = writer.create(NAME, heldBy("leader", 1));
        watcher.await().until(() -> watcher.changes.contains(Optional.of(created)));

        assertThat(watcher.changes).containsExactly(Optional.of(created));
        assertThat(follower.watchReads()).as("files read by the watch thread").isEqualTo(1);
    }

    @Test
    void manyWatchersOfManyLeasesShareOneThreadAndOneReadPerChange() {
        Set<Thread> before = watchThreads();
        FileLeaseStore follower = eventsOnly();
        FileLeaseStore writer = anotherProcess();
        List<String> names = List.of("billing", "reports", "mailer");
        List<List<Recorder>> watchers = new ArrayList<>();
        for (String name : names) {
            List<Recorder> ofLease = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Recorder watcher = new Recorder();
                watch(follower, name, watcher);
                ofLease.add(watcher);
            }
            watchers.add(ofLease);
        }

        Set<Thread> started = watchThreads();
        started.removeAll(before);
        assertThat(started).containsExactly(follower.watchThread().orElseThrow());
        assertThat(follower.watchThread().orElseThrow().isDaemon()).isTrue();

        List<VersionedLease> created = new ArrayList<>();
        for (String name : names) {
            created.add(writer.create(name, heldBy("leader-of-" + name, 1)));
        }
        for (int lease = 0; lease < names.size(); lease++) {
            for (Recorder watcher : watchers.get(lease)) {
                Optional<VersionedLease> expected = Optional.of(created.get(lease));
                watcher.await().until(() -> watcher.changes.contains(expected));
                assertThat(watcher.changes).containsExactly(expected);
            }
        }
        assertThat(follower.watchReads())
                .as("one read per change, not per watcher")
                .isEqualTo(names.size());
    }

    @Test
    void closingTheLastWatchEndsTheThread() {
        FileLeaseStore store = eventsOnly();
        assertThat(store.watchThread()).as("no thread before the first watch").isEmpty();

        LeaseWatch first = watch(store, NAME, new Recorder());
        LeaseWatch second = watch(store, "reports", new Recorder());
        Thread thread = store.watchThread().orElseThrow();
        assertThat(thread.getName()).isEqualTo("leader-local-watch");

        first.close();
        assertThat(store.watchThread()).contains(thread);
        assertThat(thread.isAlive()).isTrue();

        second.close();
        second.close(); // closing twice is harmless
        assertThat(store.watchThread()).isEmpty();
        await().atMost(Duration.ofSeconds(10)).until(() -> !thread.isAlive());

        // A later watch gets a thread again, and gives it back again.
        LeaseWatch third = watch(store, NAME, new Recorder());
        Thread again = store.watchThread().orElseThrow();
        assertThat(again).isNotSameAs(thread);
        third.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> !again.isAlive());
    }

    @Test
    void aClosedWatchHearsNothingMore() {
        FileLeaseStore follower = eventsOnly();
        FileLeaseStore writer = anotherProcess();
        Recorder closed = new Recorder();
        Recorder open = new Recorder();
        watch(follower, NAME, closed).close();
        watch(follower, NAME, open);

        VersionedLease created = writer.create(NAME, heldBy("leader", 1));
        open.await().until(() -> open.changes.contains(Optional.of(created)));

        assertThat(closed.changes).isEmpty();
        assertThat(closed.closes).isEmpty();
    }

    @Test
    void theDirectoryDeletedAndCreatedAgainIsWatchedAgain() throws IOException {
        FileLeaseStore follower = eventsOnly();
        FileLeaseStore writer = anotherProcess();
        VersionedLease before = writer.create(NAME, heldBy("leader", 1));
        Recorder watcher = new Recorder();
        watch(follower, NAME, watcher);

        deleteRecursively(directory); // a tmp cleaner, or rm -rf
        watcher.await().until(() -> watcher.changes.contains(Optional.empty()));
        VersionedLease after = writer.create(NAME, heldBy("leader", 2)); // the writer makes the directory again

        watcher.await().until(() -> watcher.changes.contains(Optional.of(after)));
        assertThat(watcher.changes).containsExactly(Optional.empty(), Optional.of(after));
        assertThat(watcher.closes).isEmpty();
        assertThat(before.version()).isNotEqualTo(after.version());
    }

    @Test
    void aDirectoryReplacedUnderTheWatchIsNoticedByTheCheck() throws IOException {
        // A directory moved away keeps its watch (inotify follows the inode) and sends no event for it: only the
        // periodic check notices, by the directory's identity (then it registers the new one) and by the watched
        // file's attributes. The watch thread is held while the directory is replaced, so that the check finds the
        // new directory rather than none.
        FileLeaseStore follower = store(Mode.EVENTS, Duration.ofMillis(50));
        FileLeaseStore writer = anotherProcess();
        CountDownLatch held = holdTheWatchThread(follower, writer);
        Recorder watcher = new Recorder();
        watch(follower, NAME, watcher);

        Files.move(directory, directory.resolveSibling("moved-away"));
        VersionedLease created = writer.create(NAME, heldBy("leader", 1)); // in a new directory
        held.countDown();

        watcher.await().until(() -> watcher.changes.contains(Optional.of(created)));
        VersionedLease renewed = writer.update(NAME, heldBy("leader", 1), created.version());
        watcher.await().until(() -> watcher.changes.contains(Optional.of(renewed)));
        assertThat(watcher.closes).isEmpty();
    }

    @Test
    void anOverflowRereadsEveryWatchedLease() throws IOException {
        FileLeaseStore follower = eventsOnly();
        FileLeaseStore writer = anotherProcess();
        CountDownLatch held = holdTheWatchThread(follower, writer);
        Recorder reports = new Recorder();
        watch(follower, "reports", reports);

        // More events than the JDK keeps for a key (512) while nobody takes them: it drops them for an OVERFLOW, and
        // so the event of this creation too.
        for (int i = 0; i < 600; i++) {
            Files.createFile(directory.resolve("noise-" + i));
        }
        VersionedLease created = writer.create("reports", heldBy("other", 1));
        held.countDown();

        reports.await().until(() -> reports.changes.contains(Optional.of(created)));
        assertThat(reports.changes).containsExactly(Optional.of(created));
    }

    @Test
    void neverAnOlderVersionAfterANewerOne() {
        // Events and a frequent check both at work, three watchers, a writer as fast as it can go.
        FileLeaseStore follower = store(Mode.EVENTS, Duration.ofMillis(5));
        FileLeaseStore writer = anotherProcess();
        List<Recorder> watchers = List.of(new Recorder(), new Recorder(), new Recorder());
        watchers.forEach(watcher -> watch(follower, NAME, watcher));

        VersionedLease lease = writer.create(NAME, heldBy("leader", 0));
        for (int i = 1; i <= 200; i++) {
            lease = writer.update(NAME, heldBy("leader", i), lease.version());
        }

        VersionedLease last = lease;
        for (Recorder watcher : watchers) {
            watcher.await().until(() -> watcher.changes.contains(Optional.of(last)));
            List<Long> versions = watcher.changes.stream()
                    .map(change -> Long.parseLong(change.orElseThrow().version()))
                    .toList();
            assertThat(versions).isSortedAccordingTo(Comparator.naturalOrder()).doesNotHaveDuplicates();
            assertThat(versions.get(versions.size() - 1)).isEqualTo(Long.parseLong(last.version()));
        }
    }

    @Test
    void aWatcherThatThrowsDoesNotSilenceTheOthers() {
        FileLeaseStore follower = eventsOnly();
        FileLeaseStore writer = anotherProcess();
        Recorder throwing = new Recorder() {
            @Override
            public void onChange(Optional<VersionedLease> lease) {
                super.onChange(lease);
                throw new IllegalStateException("a bug in a watcher");
            }
        };
        Recorder other = new Recorder();
        watch(follower, NAME, throwing);
        watch(follower, NAME, other);

        VersionedLease created = writer.create(NAME, heldBy("leader", 1));
        VersionedLease renewed = writer.update(NAME, heldBy("leader", 1), created.version());

        other.await().until(() -> other.changes.contains(Optional.of(renewed)));
        throwing.await().until(() -> throwing.changes.contains(Optional.of(renewed)));
        assertThat(throwing.closes).isEmpty();
    }

    @Test
    void aLeaseFileThatCannotBeReadEndsItsWatchesWithACauseNamingIt() throws IOException {
        FileLeaseStore follower = eventsOnly();
        FileLeaseStore writer = anotherProcess();
        Recorder broken = new Recorder();
        Recorder reports = new Recorder();
        watch(follower, NAME, broken);
        watch(follower, "reports", reports);

        Files.createDirectory(directory.resolve(NAME + ".lease")); // reading it fails: it is a directory

        await().atMost(AN_EVENT).until(() -> !broken.closes.isEmpty());
        assertThat(broken.closes)
                .singleElement()
                .satisfies(cause -> assertThat(cause)
                        .isInstanceOf(LeaseStoreException.class)
                        .hasMessageContaining(directory.resolve(NAME + ".lease").toString()));
        // The other lease's watch goes on.
        VersionedLease created = writer.create("reports", heldBy("other", 1));
        reports.await().until(() -> reports.changes.contains(Optional.of(created)));
    }

    @Test
    void aFileThatIsNotALeaseIsSkippedUntilItIsOneAgain() throws IOException {
        FileLeaseStore follower = eventsOnly();
        FileLeaseStore writer = anotherProcess();
        Recorder watcher = new Recorder();
        watch(follower, NAME, watcher);

        VersionedLease created = writer.create(NAME, heldBy("leader", 1));
        watcher.await().until(() -> watcher.changes.contains(Optional.of(created)));
        Files.writeString(directory.resolve(NAME + ".lease"), "half-writ"); // an editor saving in place
        Files.delete(directory.resolve(NAME + ".lease"));
        watcher.await().until(() -> watcher.changes.contains(Optional.empty()));
        VersionedLease again = writer.create(NAME, heldBy("leader", 2));
        watcher.await().until(() -> watcher.changes.contains(Optional.of(again)));

        assertThat(watcher.changes).containsExactly(Optional.of(created), Optional.empty(), Optional.of(again));
        assertThat(watcher.closes).isEmpty();
    }

    // --- where the JDK's watch service polls (macOS): the store polls the watched files itself

    @Test
    void whenPollingChangesAreSeenWithinTheCheckInterval() throws IOException {
        FileLeaseStore follower = store(Mode.POLLING, Duration.ofMillis(20));
        FileLeaseStore writer = anotherProcess();
        Recorder watcher = new Recorder();
        watch(follower, NAME, watcher);

        VersionedLease created = writer.create(NAME, heldBy("leader", 1));
        watcher.await().until(() -> watcher.changes.contains(Optional.of(created)));
        VersionedLease renewed = writer.update(NAME, heldBy("leader", 1), created.version());
        watcher.await().until(() -> watcher.changes.contains(Optional.of(renewed)));
        deleteRecursively(directory);
        watcher.await().until(() -> watcher.changes.contains(Optional.empty()));
        VersionedLease again = writer.create(NAME, heldBy("leader", 2));
        watcher.await().until(() -> watcher.changes.contains(Optional.of(again)));

        assertThat(watcher.changes)
                .containsExactly(Optional.of(created), Optional.of(renewed), Optional.empty(), Optional.of(again));
        assertThat(watcher.closes).isEmpty();
    }

    @Test
    void whenPollingTooTheLastWatchClosingEndsTheThread() {
        FileLeaseStore store = store(Mode.POLLING, Duration.ofMillis(20));
        LeaseWatch watch = watch(store, NAME, new Recorder());
        Thread thread = store.watchThread().orElseThrow();

        watch.close();

        await().atMost(Duration.ofSeconds(10)).until(() -> !thread.isAlive());
        assertThat(store.watchThread()).isEmpty();
    }

    // --- helpers

    /**
     * Blocks {@code store}'s watch thread in a watcher of a lease of its own until the returned latch is counted
     * down (or the test ends), so that a test can act while the thread takes no events.
     */
    private CountDownLatch holdTheWatchThread(FileLeaseStore store, FileLeaseStore writer) {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        toRelease.add(release);
        watch(store, "gate", new Recorder() {
            @Override
            public void onChange(Optional<VersionedLease> lease) {
                entered.countDown();
                awaitLatch(release);
            }
        });
        writer.create("gate", heldBy("leader", 1));
        assertThat(awaitLatch(entered))
                .as("the watch thread delivers the gate's change")
                .isTrue();
        return release;
    }

    private static boolean awaitLatch(CountDownLatch latch) {
        try {
            return latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void deleteRecursively(Path path) throws IOException {
        try (Stream<Path> tree = Files.walk(path)) {
            for (Path each : tree.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(each);
            }
        }
    }

    /** Keeps what a watch reported, and when. */
    private static class Recorder implements LeaseWatcher {
        final List<Optional<VersionedLease>> changes = new CopyOnWriteArrayList<>();
        final List<Exception> closes = new CopyOnWriteArrayList<>();
        final List<Long> deliveredAt = new CopyOnWriteArrayList<>();

        @Override
        public void onChange(Optional<VersionedLease> lease) {
            deliveredAt.add(System.nanoTime());
            changes.add(lease);
        }

        @Override
        public void onClose(Exception cause) {
            closes.add(cause);
        }

        /** Waits for a change written just now, failing at once if the watch closes. */
        ConditionFactory await() {
            return org.awaitility.Awaitility.await()
                    .atMost(AN_EVENT)
                    .pollInterval(Duration.ofMillis(5))
                    .failFast("the watch closed", () -> !closes.isEmpty());
        }
    }
}
