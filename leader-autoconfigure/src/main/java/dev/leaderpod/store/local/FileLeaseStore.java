package dev.leaderpod.store.local;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.VersionedLease;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@link LeaseStore} that keeps each lease in a small text file, {@code <directory>/<name>.lease}, so that
 * several processes on one machine can elect a leader among themselves without a cluster.
 *
 * <p>A write holds an exclusive OS lock on the sidecar file {@code <name>.lock} ({@link LockFile}) while it compares
 * versions and replaces the lease file. The new content goes to a temporary file {@code <name>.lease.<uuid>.tmp} that is then
 * renamed over the lease file atomically, and the directory is synced, so readers take no lock, never see a
 * half-written file, and a crash cannot bring back an older version. The version is a counter in the file, starting
 * at a random value and incremented by every write. The file is {@code java.util.Properties} text (see
 * {@link LeaseFile}), for example:
 *
 * <pre>
 * # Lease billing. Replaced atomically on every write; edit only while no candidate runs.
 * version=42
 * holderIdentity=worker-1-7f3a
 * application=billing-service
 * leaseDurationSeconds=15
 * acquireTime=2024-05-01T10:15:30.123456Z
 * renewTime=2024-05-01T10:27:02.004211Z
 * leaseTransitions=3
 * </pre>
 *
 * <p>The directory is often under {@code /tmp}, where cleaners delete files. A call that finds the directory gone
 * makes it again (a lease that vanished with it reads as absent); a writer whose lock file was deleted while it
 * waited or wrote notices and starts over on the new lock file; temporary files left by a writer killed before its
 * rename are deleted by the next write. Every failure is a {@link LeaseStoreException} naming the path and what to
 * do.
 *
 * <p>{@link #watch} tells a watcher of every new version of a lease's file, and of its deletion, through the JDK's
 * {@link java.nio.file.WatchService} on the directory: within milliseconds where that is event-driven (inotify on
 * Linux; Windows' is too, untested), within 250 ms where the JDK's watch service polls (macOS), since the store then
 * checks the watched files itself. Events only make it fast: the store reads the file on each, and also checks every
 * watched file's attributes once a second ("Watch to be fast, poll to be right", docs/design.md). All watches of one
 * store share one daemon thread, {@code leader-local-watch}, which ends when the last watch closes.
 *
 * <p>Limits: the directory must be on a local file system (OS locks over network file systems are unreliable, and
 * such file systems may not report other machines' changes to a watch); a candidate waits at most the lock timeout
 * for another process's write, reported as {@link Kind#TIMEOUT}.
 */
public class FileLeaseStore implements LeaseStore {

    /** How long a write waits for another writer of the same lease, unless told otherwise. */
    public static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofSeconds(5);

    // Lease names become file names: allow what a Kubernetes object name allows, nothing that walks the tree.
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,252}");

    // <lease name>.lease.<random UUID>.tmp: the name is whatever precedes the last ".lease.<uuid>.tmp", so the
    // temporary files of a lease called "billing.lease.x" are not mistaken for those of "billing".
    private static final Pattern TEMPORARY =
            Pattern.compile("(.+)\\.lease\\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.tmp");

    private final Path directory;
    private final FileFailures failures;
    private final Duration lockTimeout;
    private final Steps steps;
    private final ConcurrentMap<Path, ReentrantLock> jvmLocks;
    private final LeaseFileWatches watches;

    /** A store in {@code directory}, created if missing, waiting at most {@link #DEFAULT_LOCK_TIMEOUT} to write. */
    public FileLeaseStore(Path directory) {
        this(directory, DEFAULT_LOCK_TIMEOUT);
    }

    /**
     * A store in {@code directory}, created if missing.
     *
     * @param lockTimeout how long a write waits for another process writing the same lease
     * @throws LeaseStoreException if the directory cannot be created or is not writable
     */
    public FileLeaseStore(Path directory, Duration lockTimeout) {
        this(directory, lockTimeout, Steps.REAL, LockFile.JVM_LOCKS);
    }

    /**
     * For tests: {@code steps} to act between the steps of a write, and {@code jvmLocks} of its own to behave
     * towards other instances as another process would.
     */
    FileLeaseStore(Path directory, Duration lockTimeout, Steps steps, ConcurrentMap<Path, ReentrantLock> jvmLocks) {
        this(directory, lockTimeout, steps, jvmLocks, LeaseFileWatches.Options.DEFAULT);
    }

    /** For tests: also how the watches notice changes. */
    FileLeaseStore(
            Path directory,
            Duration lockTimeout,
            Steps steps,
            ConcurrentMap<Path, ReentrantLock> jvmLocks,
            LeaseFileWatches.Options watchOptions) {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(lockTimeout, "lockTimeout");
        if (lockTimeout.isNegative() || lockTimeout.isZero()) {
            throw new IllegalArgumentException("lockTimeout must be positive, was " + lockTimeout);
        }
        Path absolute = directory.toAbsolutePath();
        try {
            Files.createDirectories(absolute);
            // The real path, so that two stores reaching one directory through different paths share JVM_LOCKS.
            this.directory = absolute.toRealPath();
        } catch (IOException e) {
            throw new FileFailures(absolute).failure("create lease directory", absolute, e);
        }
        if (!Files.isWritable(this.directory)) {
            throw new LeaseStoreException(
                    Kind.FORBIDDEN,
                    "lease directory " + this.directory + " is not writable by this process; "
                            + FileFailures.advice(
                                    this.directory, new AccessDeniedException(this.directory.toString())));
        }
        this.lockTimeout = lockTimeout;
        this.steps = Objects.requireNonNull(steps, "steps");
        this.jvmLocks = Objects.requireNonNull(jvmLocks, "jvmLocks");
        this.failures = new FileFailures(this.directory);
        this.watches = new LeaseFileWatches(this.directory, FileLeaseStore::read, failures, watchOptions);
    }

    @Override
    public Optional<VersionedLease> get(String name) {
        Path file = leaseFile(name);
        return failures.translated("read lease file", file, () -> {
            Optional<VersionedLease> lease = read(file);
            if (lease.isEmpty()) {
                ensureDirectory();
            }
            return lease;
        });
    }

    @Override
    public VersionedLease create(String name, LeaseRecord record) {
        Objects.requireNonNull(record, "record");
        Path file = leaseFile(name);
        return underLock(name, held -> {
            if (Files.exists(file)) {
                throw new LeaseConflictException(describe(name) + " already exists");
            }
            // A random start, so a candidate holding a version from before the file was deleted (by hand or with
            // the directory) cannot match a version of the new file.
            return write(name, file, record, ThreadLocalRandom.current().nextLong(1, 1L << 48), held);
        });
    }

    @Override
    public VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
        Objects.requireNonNull(record, "record");
        Objects.requireNonNull(expectedVersion, "expectedVersion");
        Path file = leaseFile(name);
        return underLock(name, held -> {
            VersionedLease current =
                    read(file).orElseThrow(() -> new LeaseConflictException(describe(name) + " does not exist"));
            if (!current.version().equals(expectedVersion)) {
                throw new LeaseConflictException(
                        describe(name) + " is at version " + current.version() + ", not " + expectedVersion);
            }
            return write(name, file, record, Long.parseLong(current.version()) + 1, held);
        });
    }

    /**
     * Watches the lease's file, as the class comment says. The lease as it is when the watch starts is not
     * delivered; every later version is, once, and an empty one when the file is deleted.
     *
     * @throws LeaseStoreException if the directory cannot be made or watched, or the file cannot be read
     */
    @Override
    public Optional<LeaseWatch> watch(String name, LeaseWatcher watcher) {
        Objects.requireNonNull(watcher, "watcher");
        Path file = leaseFile(name);
        return failures.translated("watch lease file", file, () -> Optional.of(watches.watch(name, file, watcher)));
    }

    /** The thread serving this store's watches, while any is open. For tests. */
    Optional<Thread> watchThread() {
        return watches.thread();
    }

    /** How many lease files the watch thread has read. For tests. */
    long watchReads() {
        return watches.reads();
    }

    @Override
    public String describe(String name) {
        return "local lease file " + leaseFile(name);
    }

    private Path leaseFile(String name) {
        requireFileName(name);
        return directory.resolve(name + ".lease");
    }

    /** Checks that the lease name {@code name} can name files: letters, digits, '.', '_' and '-', nothing else. */
    static void requireFileName(String name) {
        Objects.requireNonNull(name, "name");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("lease name '" + name
                    + "' cannot serve as a file name: use letters, digits, '.', '_' and '-', starting with a"
                    + " letter or digit");
        }
    }

    /*
     * "Nothing but stop ends the election" (docs/design.md): the directory is often under /tmp, and a cleaner or an
     * rm -rf that removes it must not make every later call fail. A call that finds it missing makes it again;
     * the lease it held is gone, which candidates handle as a lease never created.
     */
    private void ensureDirectory() throws IOException {
        if (!Files.isDirectory(directory)) {
            Files.createDirectories(directory);
        }
    }

    // --- locking

    /**
     * The steps of a write where a test can act as another process, a cleaner or a failing file system would.
     * {@link #REAL} does what production does.
     */
    interface Steps {
        Steps REAL = new Steps() {};

        /** A writer found {@code lockFile} locked by someone else and starts waiting. */
        default void waitingForLock(Path lockFile) {}

        /** A writer holds the lock, has compared versions and written {@code temporary}; it renames next. */
        default void beforeRename(Path temporary, Path leaseFile) throws IOException {}

        /** Makes the renames in {@code directory} durable. */
        default void syncDirectory(Path directory) throws IOException {
            try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
                channel.force(true);
            }
        }
    }

    private interface LockedAction<T> {
        T run(LockFile held) throws IOException, LockFile.Lost;
    }

    private <T> T underLock(String name, LockedAction<T> action) {
        Path lockFile = directory.resolve(name + ".lock");
        return failures.translated(
                "write lease file",
                leaseFile(name),
                () -> LockFile.underLock(
                        lockFile, lockTimeout, jvmLocks, steps::waitingForLock, this::ensureDirectory, held -> {
                            removeLeftoverTemporaries(name);
                            return action.run(held);
                        }));
    }

    // --- reading and writing

    static Optional<VersionedLease> read(Path file) throws IOException {
        String content;
        try {
            content = Files.readString(file, UTF_8);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (CharacterCodingException e) {
            throw LeaseFile.corrupt(file, "it is not UTF-8 text", e);
        }
        return Optional.of(LeaseFile.parse(file, content));
    }

    private VersionedLease write(String name, Path file, LeaseRecord record, long version, LockFile held)
            throws IOException, LockFile.Lost {
        byte[] content = LeaseFile.format(name, record, version).getBytes(UTF_8);
        Path temporary = directory.resolve(name + ".lease." + UUID.randomUUID() + ".tmp");
        try {
            try (FileChannel channel =
                    FileChannel.open(temporary, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                // On disk before the rename: after a power loss the lease is old or new, never an empty file.
                channel.force(true);
            }
            steps.beforeRename(temporary, file);
            // Checked as late as possible: if the lock file was unlinked since this writer locked it, another may
            // have locked a new one and be comparing versions now. (Between this check and the rename a window of
            // a few system calls remains; a lock on a file that others may delete cannot close it.)
            if (!held.stillHeld()) {
                throw new LockFile.Lost();
            }
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (NoSuchFileException e) {
            // The directory, or this temporary file, vanished before the rename: a cleaner, or a writer that
            // locked a new lock file and removed what it took for leftovers. Nothing was renamed.
            throw new LockFile.Lost();
        } finally {
            Files.deleteIfExists(temporary);
        }
        syncDirectory();
        return new VersionedLease(record, Long.toString(version));
    }

    /*
     * The rename is atomic but lives in the directory's own data: until the directory reaches the disk, a crash can
     * bring back the previous lease file, with a version candidates have already moved past.
     */
    private void syncDirectory() {
        try {
            steps.syncDirectory(directory);
        } catch (IOException e) {
            // Some platforms and file systems cannot open or force a directory (Windows, some network or FUSE
            // mounts). The write has happened: failing the call now would tell the caller otherwise.
        }
    }

    /*
     * Only a writer holding the lock writes a temporary file, and it deletes its own before letting go. Any found
     * while holding the lock was left by a writer killed between writing and renaming; every write removes them,
     * so that they cannot pile up.
     */
    private void removeLeftoverTemporaries(String name) {
        DirectoryStream.Filter<Path> leftover = entry -> {
            Matcher temporary = TEMPORARY.matcher(entry.getFileName().toString());
            return temporary.matches() && temporary.group(1).equals(name);
        };
        try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(directory, leftover)) {
            for (Path each : leftovers) {
                Files.deleteIfExists(each);
            }
        } catch (IOException | DirectoryIteratorException e) {
            // Housekeeping only: the write that follows reports any real trouble with the directory itself.
        }
    }
}
