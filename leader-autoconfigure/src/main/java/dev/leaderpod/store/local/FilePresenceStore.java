package dev.leaderpod.store.local;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.Presence;
import dev.leaderpod.core.PresenceStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PresenceStore} in files beside the lease files of a {@link FileLeaseStore}: the announcements of the
 * candidates of lease {@code <name>} are the files of the directory {@code <lease-directory>/<name>.candidates}, one per
 * candidate, named after its identity ({@link PresenceFile#fileName}), so several processes on one machine see each
 * other. It never reads or writes a lease file, and the lease store never looks into the directory.
 *
 * <p>A write or a removal holds an exclusive lock on {@code candidates.lock} in that directory, the same way lease
 * writes lock ({@link LockFile}): a removal compares the version and deletes the file under the lock, so an
 * announcement written by another process in between is never deleted, whatever the timing. One lock for the group,
 * not one per candidate: announcements are seconds apart and quick, and no lock file is left behind per candidate that
 * ever ran. A write goes to a temporary file renamed over the announcement, so a reader never sees half of one; the
 * version is a counter in the file, starting at a random value and incremented by every write, so an announcement
 * removed and made again never takes a version a remover may still hold. Temporary files left by a process killed
 * before its rename are deleted by the next write.
 *
 * <p>{@link #list()} takes no lock and never fails for one file: a corrupt file (edited by hand, or not an
 * announcement at all) is skipped with one WARN, repeated only after it read well again or vanished.
 *
 * <p>It does not watch: the directory holds a handful of small files, and the tracker lists them when it cannot watch;
 * a watch here would only poll them from a thread of its own. The directory is made when the first announcement is
 * written, and again if a cleaner deleted it.
 */
public class FilePresenceStore implements PresenceStore {

    private static final Logger log = LoggerFactory.getLogger(FilePresenceStore.class);

    static final String LOCK_FILE = "candidates.lock";
    private static final String TEMPORARY_SUFFIX = ".tmp";

    private final Path directory;
    private final FileFailures failures;
    private final String leaseName;
    private final Duration lockTimeout;
    private final Steps steps;
    private final ConcurrentMap<Path, ReentrantLock> jvmLocks;
    /** Files warned about as corrupt, until they read well or vanish. */
    private final Set<Path> warned = ConcurrentHashMap.newKeySet();

    /**
     * The presence of the candidates of lease {@code leaseName}, in the lease directory {@code leaseDirectory},
     * waiting at most {@link FileLeaseStore#DEFAULT_LOCK_TIMEOUT} to write. Touches no file until it is used.
     */
    public FilePresenceStore(Path leaseDirectory, String leaseName) {
        this(leaseDirectory, leaseName, FileLeaseStore.DEFAULT_LOCK_TIMEOUT);
    }

    /**
     * As {@link #FilePresenceStore(Path, String)}.
     *
     * @param lockTimeout how long a write or removal waits for another process writing the same group
     */
    public FilePresenceStore(Path leaseDirectory, String leaseName, Duration lockTimeout) {
        this(leaseDirectory, leaseName, lockTimeout, Steps.REAL, LockFile.JVM_LOCKS);
    }

    /**
     * For tests: {@code steps} to act between the steps of a write or removal, and {@code jvmLocks} of its own to
     * behave towards other instances as another process would.
     */
    FilePresenceStore(
            Path leaseDirectory,
            String leaseName,
            Duration lockTimeout,
            Steps steps,
            ConcurrentMap<Path, ReentrantLock> jvmLocks) {
        Objects.requireNonNull(leaseDirectory, "leaseDirectory");
        FileLeaseStore.requireFileName(leaseName);
        Objects.requireNonNull(lockTimeout, "lockTimeout");
        if (lockTimeout.isNegative() || lockTimeout.isZero()) {
            throw new IllegalArgumentException("lockTimeout must be positive, was " + lockTimeout);
        }
        this.directory = leaseDirectory.toAbsolutePath().resolve(leaseName + ".candidates");
        this.failures = new FileFailures(directory);
        this.leaseName = leaseName;
        this.lockTimeout = lockTimeout;
        this.steps = Objects.requireNonNull(steps, "steps");
        this.jvmLocks = Objects.requireNonNull(jvmLocks, "jvmLocks");
    }

    @Override
    public Presence announce(Presence presence) {
        Objects.requireNonNull(presence, "presence").requireStorable();
        Path file = directory.resolve(PresenceFile.fileName(presence.identity()));
        return underLock("write presence file", file, held -> {
            Long current = currentVersion(file);
            // A random start, so that a remover holding a version of a file since deleted cannot match the new one.
            long version = current == null ? ThreadLocalRandom.current().nextLong(1, 1L << 48) : current + 1;
            write(file, PresenceFile.format(leaseName, presence, version), held);
            return presence.atVersion(Long.toString(version));
        });
    }

    @Override
    public List<Presence> list() {
        return failures.translated("list presence directory", directory, () -> {
            List<Presence> announcements = new ArrayList<>();
            Set<Path> seen = new HashSet<>();
            try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*" + PresenceFile.SUFFIX)) {
                for (Path file : files) {
                    seen.add(file);
                    read(file).ifPresent(announcements::add);
                }
            } catch (NoSuchFileException e) {
                return List.of(); // nobody announced yet, or a cleaner took the directory
            } catch (DirectoryIteratorException e) {
                throw e.getCause();
            }
            warned.retainAll(seen);
            return announcements;
        });
    }

    @Override
    public void remove(String identity, String version) {
        Objects.requireNonNull(identity, "identity");
        Path file = directory.resolve(PresenceFile.fileName(identity));
        if (Files.notExists(file)) {
            return; // gone already: whatever is written after this check came after the removal
        }
        underLock("remove presence file", file, held -> {
            String content = readContent(file);
            if (content == null) {
                return null; // gone already
            }
            Presence current = PresenceFile.parse(file, content);
            if (!current.version().equals(version)) {
                throw new LeaseConflictException(
                        describe() + ": " + identity + " is at version " + current.version() + ", not " + version);
            }
            steps.beforeRemove(file);
            if (!held.stillHeld()) {
                throw new LockFile.Lost();
            }
            Files.deleteIfExists(file);
            syncDirectory();
            return null;
        });
    }

    @Override
    public String describe() {
        return "local presence files " + directory.resolve("*" + PresenceFile.SUFFIX);
    }

    /** The directory of the announcements. */
    Path directory() {
        return directory;
    }

    // --- reading and writing

    /** The announcement in {@code file}; empty if it vanished or cannot be read, which is warned about once. */
    private Optional<Presence> read(Path file) {
        try {
            String content = readContent(file);
            if (content == null) {
                return Optional.empty();
            }
            Presence presence = PresenceFile.parse(file, content);
            warned.remove(file);
            return Optional.of(presence);
        } catch (LeaseStoreException | IOException e) {
            if (warned.add(file)) {
                log.warn("Skipping {} until it changes: {}", file, e.getMessage());
            }
            return Optional.empty();
        }
    }

    /** The text of {@code file}, or null if it does not exist. */
    private static String readContent(Path file) throws IOException {
        try {
            return Files.readString(file, UTF_8);
        } catch (NoSuchFileException e) {
            return null;
        } catch (CharacterCodingException e) {
            throw PresenceFile.corrupt(file, "it is not UTF-8 text", e);
        }
    }

    /** The version of {@code file}, or null if it is missing or has none that can be read. */
    private static Long currentVersion(Path file) throws IOException {
        try {
            String content = readContent(file);
            return content == null ? null : PresenceFile.version(content);
        } catch (LeaseStoreException notText) {
            return null;
        }
    }

    private void write(Path file, String text, LockFile held) throws IOException, LockFile.Lost {
        Path temporary = directory.resolve(file.getFileName() + "." + UUID.randomUUID() + TEMPORARY_SUFFIX);
        try {
            try (FileChannel channel =
                    FileChannel.open(temporary, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(text.getBytes(UTF_8));
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            if (!held.stillHeld()) { // as late as possible, see FileLeaseStore
                throw new LockFile.Lost();
            }
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (NoSuchFileException e) {
            throw new LockFile.Lost(); // the directory vanished: nothing was renamed, start over
        } finally {
            Files.deleteIfExists(temporary);
        }
        syncDirectory();
    }

    // Renames and deletions are durable only once the directory is; some file systems cannot force one.
    private void syncDirectory() {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // The write has happened: failing the call now would tell the caller otherwise.
        }
    }

    /*
     * Only a writer holding the group's lock writes a temporary file, and it deletes its own before letting go: any
     * found under the lock was left by a process killed between writing and renaming.
     */
    private void removeLeftoverTemporaries() {
        try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(directory, "*" + TEMPORARY_SUFFIX)) {
            for (Path each : leftovers) {
                Files.deleteIfExists(each);
            }
        } catch (IOException | DirectoryIteratorException e) {
            // Housekeeping only: the write that follows reports any real trouble with the directory.
        }
    }

    // --- locking and failures

    /** The steps of a write or removal where a test can act as another process would. */
    interface Steps {
        Steps REAL = new Steps() {};

        /** A writer found {@code lockFile} locked by someone else and starts waiting. */
        default void waitingForLock(Path lockFile) {}

        /** A remover holds the lock and found {@code file} at the version it removes; it deletes it next. */
        default void beforeRemove(Path file) throws IOException {}
    }

    private <T> T underLock(String doing, Path file, LockFile.Action<T> action) {
        return failures.translated(doing, file, () -> {
            ensureDirectory();
            // The real path, so that stores reaching the directory through different paths share one in-JVM lock.
            Path lockFile = directory.toRealPath().resolve(LOCK_FILE);
            return LockFile.underLock(
                    lockFile, lockTimeout, jvmLocks, steps::waitingForLock, this::ensureDirectory, held -> {
                        removeLeftoverTemporaries();
                        return action.run(held);
                    });
        });
    }

    private void ensureDirectory() throws IOException {
        if (!Files.isDirectory(directory)) {
            Files.createDirectories(directory);
        }
    }
}
