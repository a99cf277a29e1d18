package dev.leaderpod.store.local;

import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The exclusion of writers on one lock file, for the stores of this package: an exclusive OS lock on the file against
 * other processes, taken under an in-JVM lock against this process's other threads, both within one timeout. What is
 * written under it is compared and renamed into place by the caller, who checks {@link #stillHeld()} just before the
 * rename.
 *
 * <p>The lock guards only while the path still names the file that was locked: the directories are often under
 * {@code /tmp}, where cleaners delete files, and once a lock file is unlinked the next writer creates a new one and
 * locks it although the first lock is still held. So a lock is taken only on the file the path names before and after
 * opening it and after locking it; otherwise it is {@link Lost}, nothing was renamed, and the writer starts over on
 * the new file, within the same timeout.
 */
final class LockFile implements AutoCloseable {

    /*
     * OS file locks belong to the whole process: a second FileChannel.lock() on a file this JVM already locks
     * throws OverlappingFileLockException instead of waiting. So writers in this JVM, from any store instance,
     * first take this in-JVM lock, keyed by the lock file's real path. One entry per lock file ever used.
     */
    static final ConcurrentMap<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

    private static final Object MISSING = new Object();

    private final Path path;
    private final FileChannel channel;
    // The file key (device and inode on Unix), or null where the file system has none (Windows); there the
    // identity cannot be checked and the lock is trusted as before.
    private final Object key;

    private LockFile(Path path, FileChannel channel, Object key) {
        this.path = path;
        this.channel = channel;
        this.key = key;
    }

    /** The lock file changed under a writer, or its directory vanished: nothing was renamed, start over. */
    static final class Lost extends Exception {
        Lost() {
            super(null, null, false, false);
        }
    }

    /** What a writer does while it holds the lock. */
    interface Action<T> {
        T run(LockFile held) throws IOException, Lost;
    }

    /** What a writer does before each attempt to lock, such as making the directory again. */
    interface Preparation {
        void run() throws IOException;
    }

    /**
     * Runs {@code action} holding {@code lockFile}, as the class comment says.
     *
     * @param jvmLocks the in-JVM locks to take first: {@link #JVM_LOCKS}, or a map of its own for a test that plays
     *     another process
     * @param waiting told, once per attempt, that another process holds the lock and the writer waits
     * @throws LeaseStoreException {@link Kind#TIMEOUT} if the lock could not be held within {@code timeout}
     */
    static <T> T underLock(
            Path lockFile,
            Duration timeout,
            ConcurrentMap<Path, ReentrantLock> jvmLocks,
            Consumer<Path> waiting,
            Preparation prepare,
            Action<T> action)
            throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        ReentrantLock jvmLock = jvmLocks.computeIfAbsent(lockFile, path -> new ReentrantLock());
        try {
            if (!jvmLock.tryLock(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                throw timedOut(lockFile, "another thread of this process holds it");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LeaseStoreException(Kind.OTHER, "interrupted while waiting for " + lockFile, e);
        }
        try {
            for (int attempt = 1; ; attempt++) {
                prepare.run();
                try (LockFile held = acquire(lockFile, deadline, waiting)) {
                    return action.run(held);
                } catch (Lost lost) {
                    // Starting over is safe, nothing was renamed; it stays within the one timeout.
                    if (System.nanoTime() - deadline >= 0) {
                        throw timedOut(
                                lockFile,
                                "it or its directory vanished " + attempt + " times while this process wrote;"
                                        + " is something deleting files in " + lockFile.getParent() + "?");
                    }
                }
            }
        } finally {
            jvmLock.unlock();
        }
    }

    private static LockFile acquire(Path path, long deadline, Consumer<Path> waiting) throws IOException, Lost {
        // A channel cannot tell its file key, so read the path's before and after opening: if it named one
        // file both times, that is the file opened. A lock file created just now takes a second round.
        Object before = identity(path);
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        boolean held = false;
        try {
            Object key = identity(path);
            if (key != null && (key == MISSING || !key.equals(before))) {
                throw new Lost();
            }
            lockBefore(deadline, channel, path, waiting);
            // While this writer waited, the file it waits for may have been unlinked and a new one locked by
            // another writer: then this lock guards nothing.
            if (key != null && !key.equals(identity(path))) {
                throw new Lost();
            }
            held = true;
            return new LockFile(path, channel, key);
        } finally {
            if (!held) {
                channel.close(); // releases the lock too
            }
        }
    }

    /** Whether the path still names the locked file, so that nobody else can hold the lock. */
    boolean stillHeld() throws IOException {
        return key == null || key.equals(identity(path));
    }

    private static Object identity(Path path) throws IOException {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class).fileKey();
        } catch (NoSuchFileException e) {
            return MISSING;
        }
    }

    @Override
    public void close() throws IOException {
        channel.close(); // releases the lock
    }

    // Polls instead of FileChannel.lock(), which cannot time out: a stopped process must not hang every writer.
    private static void lockBefore(long deadline, FileChannel channel, Path lockFile, Consumer<Path> waiting)
            throws IOException {
        long pauseMillis = 1;
        boolean waited = false;
        while (true) {
            try {
                if (channel.tryLock() != null) {
                    return;
                }
            } catch (OverlappingFileLockException e) {
                // Only if this class is loaded twice in one JVM (two class loaders, two JVM_LOCKS): wait as well.
            }
            if (!waited) {
                waited = true;
                waiting.accept(lockFile);
            }
            if (System.nanoTime() - deadline >= 0) {
                throw timedOut(lockFile, "another process holds it (a process stopped while writing?)");
            }
            try {
                Thread.sleep(pauseMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LeaseStoreException(Kind.OTHER, "interrupted while waiting for " + lockFile, e);
            }
            pauseMillis = Math.min(pauseMillis * 2, 20);
        }
    }

    private static LeaseStoreException timedOut(Path lockFile, String why) {
        return new LeaseStoreException(Kind.TIMEOUT, "could not lock " + lockFile + " in time: " + why);
    }
}
