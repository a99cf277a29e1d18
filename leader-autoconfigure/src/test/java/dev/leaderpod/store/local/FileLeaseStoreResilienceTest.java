package dev.leaderpod.store.local;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.VersionedLease;
import dev.leaderpod.store.local.FileLeaseStore.Steps;
import java.io.IOError;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file store in a hostile directory: a cleaner deletes the directory or the lock file, a killed writer leaves
 * temporary files, the file system refuses something. Each store made by {@link #process} has its own in-JVM locks,
 * so to the others it behaves like another process; {@link Steps} lets a test act between the steps of a write.
 */
class FileLeaseStoreResilienceTest {

    private static final String NAME = "billing";
    // Generous: it bounds only failures, and a loaded two-core machine must not turn a pass into a time-out.
    private static final Duration LOCK_TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path root;

    private Path directory;
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @BeforeEach
    void setUp() throws IOException {
        // The real path, as the store names it in its messages.
        directory = root.toRealPath().resolve("leases");
    }

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    /** A store as another process would have: its own in-JVM locks over the same directory. */
    private FileLeaseStore process(Steps steps) {
        return new FileLeaseStore(directory, LOCK_TIMEOUT, steps, new ConcurrentHashMap<>());
    }

    private Path lockFile() {
        return directory.resolve(NAME + ".lock");
    }

    private static LeaseRecord heldBy(String holder, long transitions) {
        return new LeaseRecord(
                holder,
                Duration.ofSeconds(10),
                Instant.parse("2024-05-01T11:00:00Z"),
                Instant.parse("2024-05-01T11:00:00Z").plusSeconds(transitions),
                transitions);
    }

    // --- the directory deleted

    @Test
    void aDeletedDirectoryComesBackWithItsParentsAndTheElectionGoesOn() throws IOException {
        Path cleaned = directory.resolveSibling("tmp");
        directory = cleaned.resolve("leases");
        FileLeaseStore store = new FileLeaseStore(directory);
        VersionedLease before = store.create(NAME, heldBy("candidate-a", 1));

        deleteRecursively(cleaned); // a tmp cleaner, or rm -rf
        assertThat(store.get(NAME)).isEmpty();

        deleteRecursively(cleaned);
        assertThatThrownBy(() -> store.update(NAME, heldBy("candidate-a", 2), before.version()))
                .isInstanceOf(LeaseConflictException.class);

        deleteRecursively(cleaned);
        VersionedLease created = store.create(NAME, heldBy("candidate-b", 2));
        VersionedLease renewed = store.update(NAME, heldBy("candidate-b", 3), created.version());

        assertThat(new FileLeaseStore(directory).get(NAME)).contains(renewed);
        assertThat(directory).isDirectory();
    }

    @Test
    void directoryDeletedWhileAWriterHoldsTheLock_theCreateIsRedoneInTheNewDirectory() {
        AtomicBoolean deleted = new AtomicBoolean();
        FileLeaseStore store = process(new Steps() {
            @Override
            public void beforeRename(Path temporary, Path leaseFile) throws IOException {
                if (deleted.compareAndSet(false, true)) {
                    deleteRecursively(directory);
                }
            }
        });

        VersionedLease created = store.create(NAME, heldBy("candidate-a", 1));

        assertThat(deleted).isTrue();
        assertThat(process(Steps.REAL).get(NAME)).contains(created);
    }

    @Test
    void directoryDeletedWhileAWriterHoldsTheLock_theUpdateFindsNoLeaseAndConflicts() {
        VersionedLease created = process(Steps.REAL).create(NAME, heldBy("candidate-a", 1));
        AtomicBoolean deleted = new AtomicBoolean();
        FileLeaseStore store = process(new Steps() {
            @Override
            public void beforeRename(Path temporary, Path leaseFile) throws IOException {
                if (deleted.compareAndSet(false, true)) {
                    deleteRecursively(directory);
                }
            }
        });

        assertThatThrownBy(() -> store.update(NAME, heldBy("candidate-a", 2), created.version()))
                .isInstanceOf(LeaseConflictException.class);

        assertThat(deleted).isTrue();
        assertThat(store.get(NAME)).isEmpty();
    }

    // --- the lock file deleted

    @Test
    void lockFileDeletedWhileHeld_onlyOneOfTwoUpdatesOfTheSameVersionWins() throws Exception {
        FileLeaseStore second = process(Steps.REAL);
        VersionedLease start = second.create(NAME, heldBy("candidate-a", 1));
        List<Object> secondOutcome = new CopyOnWriteArrayList<>();
        FileLeaseStore first = process(new Steps() {
            @Override
            public void beforeRename(Path temporary, Path leaseFile) {
                if (secondOutcome.isEmpty()) {
                    // First has compared versions and is about to commit. A cleaner unlinks the lock file, then
                    // another process writes: it creates a new lock file and locks that.
                    outcomeOf(() -> Files.deleteIfExists(lockFile()));
                    secondOutcome.add(outcomeOf(() -> threads.submit(
                                    () -> second.update(NAME, heldBy("candidate-c", 2), start.version()))
                            .get(30, TimeUnit.SECONDS)));
                }
            }
        });

        Object firstOutcome = outcomeOf(() -> first.update(NAME, heldBy("candidate-b", 2), start.version()));

        assertThat(secondOutcome).hasSize(1);
        assertExactlyOneWinner(List.of(firstOutcome, secondOutcome.get(0)));
    }

    @Test
    void lockFileReplacedWhileAWriterWaitsForIt_theWaiterLocksTheNewFile() throws Exception {
        VersionedLease start = process(Steps.REAL).create(NAME, heldBy("candidate-a", 1));
        AtomicInteger waits = new AtomicInteger();
        FileLeaseStore waiter = process(new Steps() {
            @Override
            public void waitingForLock(Path lockFile) {
                waits.incrementAndGet();
            }
        });
        CountDownLatch thirdCommitting = new CountDownLatch(1);
        CountDownLatch thirdMayCommit = new CountDownLatch(1);
        FileLeaseStore third = process(new Steps() {
            @Override
            public void beforeRename(Path temporary, Path leaseFile) {
                thirdCommitting.countDown();
                awaitQuietly(thirdMayCommit);
            }
        });

        // Another process holds the lock; the waiter opens the same file and waits for it.
        FileChannel holder = FileChannel.open(lockFile(), StandardOpenOption.WRITE);
        FileLock held = holder.lock();
        Future<Object> waiting =
                threads.submit(() -> outcomeOf(() -> waiter.update(NAME, heldBy("candidate-w", 2), start.version())));
        await().atMost(Duration.ofSeconds(30)).until(() -> waits.get() == 1);

        // A cleaner unlinks the lock file; a third process creates a new one and gets as far as committing.
        Files.delete(lockFile());
        Future<Object> thirdCall =
                threads.submit(() -> outcomeOf(() -> third.update(NAME, heldBy("candidate-t", 2), start.version())));
        assertThat(thirdCommitting.await(30, TimeUnit.SECONDS)).isTrue();

        // The old holder lets go: the waiter now locks the unlinked file, which must not let it in.
        held.release();
        holder.close();
        await().atMost(Duration.ofSeconds(30)).until(() -> waits.get() == 2 || waiting.isDone());
        thirdMayCommit.countDown();

        assertExactlyOneWinner(List.of(waiting.get(30, TimeUnit.SECONDS), thirdCall.get(30, TimeUnit.SECONDS)));
    }

    @Test
    void aLockFileThatKeepsVanishingEndsInATimeoutNamingIt() {
        FileLeaseStore store = new FileLeaseStore(
                directory,
                Duration.ofMillis(300),
                new Steps() {
                    @Override
                    public void beforeRename(Path temporary, Path leaseFile) throws IOException {
                        Files.deleteIfExists(lockFile());
                    }
                },
                new ConcurrentHashMap<>());

        LeaseStoreException failure =
                catchThrowableOfType(LeaseStoreException.class, () -> store.create(NAME, heldBy("candidate-a", 1)));

        assertThat(failure).isNotNull();
        assertThat(failure.kind()).isEqualTo(Kind.TIMEOUT);
        assertThat(failure.getMessage()).contains(lockFile().toString());
        assertThat(store.get(NAME)).isEmpty();
    }

    // --- temporary files

    @Test
    void leftoverTemporaryFilesAreNotTheLeaseAndTheNextWriteRemovesThem() throws IOException {
        Files.createDirectories(directory);
        // Left by writers killed between writing and renaming: one long ago, one just now.
        Path old = Files.writeString(temporary(NAME), "version=7\nholderIdentity=ghost\n");
        Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(Duration.ofDays(1))));
        Files.writeString(temporary(NAME), "version=8\nholderIdentity=ghost\n");
        // Not ours: a temporary file of the lease named "billing.lease.x", and a stranger's file.
        Path othersTemporary = Files.writeString(temporary(NAME + ".lease.x"), "version=9\n");
        Path stranger = Files.writeString(directory.resolve("notes.tmp"), "keep me");
        FileLeaseStore store = new FileLeaseStore(directory);

        assertThat(store.get(NAME)).isEmpty();
        VersionedLease created = store.create(NAME, heldBy("candidate-a", 1));

        assertThat(created.record().holderIdentity()).isEqualTo("candidate-a");
        assertThat(fileNames())
                .containsExactlyInAnyOrder(
                        NAME + ".lease",
                        NAME + ".lock",
                        othersTemporary.getFileName().toString(),
                        stranger.getFileName().toString());
    }

    @Test
    void temporaryNamesAreUniqueAndNoneOutlivesItsWrite() throws IOException {
        List<Path> temporaries = new CopyOnWriteArrayList<>();
        FileLeaseStore store = process(new Steps() {
            @Override
            public void beforeRename(Path temporary, Path leaseFile) {
                temporaries.add(temporary);
            }
        });

        VersionedLease lease = store.create(NAME, heldBy("candidate-a", 1));
        for (int i = 2; i <= 4; i++) {
            lease = store.update(NAME, heldBy("candidate-a", i), lease.version());
        }

        assertThat(temporaries).hasSize(4).doesNotHaveDuplicates();
        assertThat(fileNames()).containsExactlyInAnyOrder(NAME + ".lease", NAME + ".lock");
    }

    private Path temporary(String lease) {
        return directory.resolve(lease + ".lease." + UUID.randomUUID() + ".tmp");
    }

    // --- durability

    @Test
    void everyWriteSyncsTheDirectoryAfterTheRename() throws IOException {
        Path realDirectory = Files.createDirectories(directory).toRealPath();
        List<String> versionsOnDiskWhenSynced = new CopyOnWriteArrayList<>();
        FileLeaseStore store = process(new Steps() {
            @Override
            public void syncDirectory(Path synced) throws IOException {
                assertThat(synced).isEqualTo(realDirectory);
                versionsOnDiskWhenSynced.add(versionOnDisk());
                Steps.super.syncDirectory(synced);
            }
        });

        VersionedLease created = store.create(NAME, heldBy("candidate-a", 1));
        VersionedLease renewed = store.update(NAME, heldBy("candidate-a", 2), created.version());

        assertThat(versionsOnDiskWhenSynced).containsExactly(created.version(), renewed.version());
    }

    @Test
    void aFileSystemThatCannotSyncADirectoryStillWrites() {
        FileLeaseStore store = process(new Steps() {
            @Override
            public void syncDirectory(Path synced) throws IOException {
                throw new IOException("fsync of a directory is not supported here");
            }
        });

        VersionedLease created = store.create(NAME, heldBy("candidate-a", 1));
        VersionedLease renewed = store.update(NAME, heldBy("candidate-a", 2), created.version());

        assertThat(store.get(NAME)).contains(renewed);
    }

    private String versionOnDisk() throws IOException {
        return Files.readAllLines(directory.resolve(NAME + ".lease"), UTF_8).stream()
                .filter(line -> line.startsWith("version="))
                .map(line -> line.substring("version=".length()))
                .findFirst()
                .orElseThrow();
    }

    // --- failures surface as LeaseStoreException, naming the path and what to do

    @Test
    void aPlainFileWhereTheDirectoryWasIsReportedNamingItAndWhatToDo() throws IOException {
        FileLeaseStore store = new FileLeaseStore(directory);
        VersionedLease created = store.create(NAME, heldBy("candidate-a", 1));
        deleteRecursively(directory);
        Files.writeString(directory, "not a directory");

        for (Runnable call : List.<Runnable>of(
                () -> store.get(NAME),
                () -> store.create(NAME, heldBy("candidate-a", 1)),
                () -> store.update(NAME, heldBy("candidate-a", 2), created.version()))) {
            LeaseStoreException failure = catchThrowableOfType(LeaseStoreException.class, call::run);
            assertThat(failure).isNotNull().isNotInstanceOf(LeaseConflictException.class);
            assertThat(failure.getMessage())
                    .contains(directory + " is not a directory")
                    .contains("move that file away");
        }
    }

    @Test
    void permissionDeniedNamesTheDirectoryAndTheUser() {
        // Tests may run as root, where permissions are not enforced: the refusal is simulated.
        FileLeaseStore store = process(new Steps() {
            @Override
            public void beforeRename(Path temporary, Path leaseFile) throws IOException {
                throw new AccessDeniedException(leaseFile.toString());
            }
        });

        LeaseStoreException failure =
                catchThrowableOfType(LeaseStoreException.class, () -> store.create(NAME, heldBy("candidate-a", 1)));

        assertThat(failure).isNotNull();
        assertThat(failure.kind()).isEqualTo(Kind.FORBIDDEN);
        assertThat(failure.getMessage())
                .contains(directory.toString())
                .contains("user " + System.getProperty("user.name"))
                .contains("read and write access");
    }

    @Test
    void anErrorInsideAWriteSurfacesAsLeaseStoreExceptionAndFreesTheLock() {
        List<Supplier<Throwable>> failures = new ArrayList<>(List.of(
                () -> new IOError(new IOException("device error")),
                () -> new UncheckedIOException(new IOException("device error"))));
        FileLeaseStore store = process(new Steps() {
            @Override
            public void beforeRename(Path temporary, Path leaseFile) {
                if (!failures.isEmpty()) {
                    Throwable failure = failures.remove(0).get();
                    if (failure instanceof Error error) {
                        throw error;
                    }
                    throw (RuntimeException) failure;
                }
            }
        });

        for (int i = 0; i < 2; i++) {
            LeaseStoreException failure =
                    catchThrowableOfType(LeaseStoreException.class, () -> store.create(NAME, heldBy("candidate-a", 1)));
            assertThat(failure).isNotNull();
            assertThat(failure.getMessage())
                    .contains(directory.resolve(NAME + ".lease").toString(), "device error");
        }

        // Neither the in-JVM lock nor the OS lock was left behind.
        VersionedLease created = process(Steps.REAL).create(NAME, heldBy("candidate-b", 1));
        assertThat(store.update(NAME, heldBy("candidate-a", 2), created.version())
                        .record()
                        .holderIdentity())
                .isEqualTo("candidate-a");
    }

    // --- helpers

    /** The lease a call returned, or what it threw. */
    private static Object outcomeOf(Callable<?> call) {
        try {
            return call.call();
        } catch (Exception e) {
            return e;
        }
    }

    private void assertExactlyOneWinner(List<Object> outcomes) {
        List<Object> winners =
                outcomes.stream().filter(VersionedLease.class::isInstance).toList();
        assertThat(winners).as("winners among %s", outcomes).hasSize(1);
        assertThat(outcomes)
                .filteredOn(outcome -> !(outcome instanceof VersionedLease))
                .singleElement()
                .isInstanceOf(LeaseConflictException.class);
        assertThat(process(Steps.REAL).get(NAME)).contains((VersionedLease) winners.get(0));
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            assertThat(latch.await(30, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private List<String> fileNames() throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(path -> path.getFileName().toString()).toList();
        }
    }

    private static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path each : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(each);
            }
        }
    }
}
