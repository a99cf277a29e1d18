package dev.leaderpod.store.local;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.VersionedLease;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A {@link LeaseStore} that keeps each lease in a small text file, {@code <directory>/<name>.lease}, so that
 * several processes on one machine can elect a leader among themselves without a cluster.
 *
 * <p>A write holds an exclusive OS lock on the sidecar file {@code <name>.lock} while it compares versions and
 * replaces the lease file. The new content goes to a temporary file that is then renamed over the lease file
 * atomically, so readers take no lock and never see a half-written file. The version is a counter in the file,
 * starting at a random value and incremented by every write. The file is {@code java.util.Properties} text, for example:
 *
 * <pre>
 * # Lease billing. Replaced atomically on every write; edit only while no candidate runs.
 * version=42
 * holderIdentity=worker-1-7f3a
 * leaseDurationSeconds=15
 * acquireTime=2024-05-01T10:15:30.123456Z
 * renewTime=2024-05-01T10:27:02.004211Z
 * leaseTransitions=3
 * </pre>
 *
 * A missing line reads as a {@code null} field; a line that cannot be parsed makes the file corrupt, reported as
 * {@link Kind#OTHER} naming the file.
 *
 * <p>Limits: the directory must be on a local file system (OS locks over network file systems are unreliable);
 * a candidate waits at most the lock timeout for another process's write, reported as {@link Kind#TIMEOUT}; this
 * store cannot watch, so candidates poll.
 */
public class FileLeaseStore implements LeaseStore {

    /** How long a write waits for another writer of the same lease, unless told otherwise. */
    public static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofSeconds(5);

    private static final String VERSION = "version";
    private static final String HOLDER_IDENTITY = "holderIdentity";
    private static final String LEASE_DURATION_SECONDS = "leaseDurationSeconds";
    private static final String ACQUIRE_TIME = "acquireTime";
    private static final String RENEW_TIME = "renewTime";
    private static final String LEASE_TRANSITIONS = "leaseTransitions";

    // Lease names become file names: allow what a Kubernetes object name allows, nothing that walks the tree.
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,252}");

    /*
     * OS file locks belong to the whole process: a second FileChannel.lock() on a file this JVM already locks
     * throws OverlappingFileLockException instead of waiting. So writers in this JVM, from any store instance,
     * first take this in-JVM lock, keyed by the lock file's real path. One entry per lease name ever used.
     */
    private static final ConcurrentMap<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

    private final Path directory;
    private final Duration lockTimeout;

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
            throw new LeaseStoreException(kindOf(e), "cannot create lease directory " + absolute + ": " + reason(e), e);
        }
        if (!Files.isWritable(this.directory)) {
            throw new LeaseStoreException(
                    Kind.FORBIDDEN,
                    "lease directory " + this.directory + " is not writable by this process (user "
                            + System.getProperty("user.name") + ")");
        }
        this.lockTimeout = lockTimeout;
    }

    @Override
    public Optional<VersionedLease> get(String name) {
        return read(leaseFile(name));
    }

    @Override
    public VersionedLease create(String name, LeaseRecord record) {
        Objects.requireNonNull(record, "record");
        Path file = leaseFile(name);
        return underLock(name, () -> {
            if (Files.exists(file)) {
                throw new LeaseConflictException(describe(name) + " already exists");
            }
            // A random start, so a candidate holding a version from before the file was deleted by hand cannot
            // match a version of the new file.
            return write(name, file, record, ThreadLocalRandom.current().nextLong(1, 1L << 48));
        });
    }

    @Override
    public VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
        Objects.requireNonNull(record, "record");
        Objects.requireNonNull(expectedVersion, "expectedVersion");
        Path file = leaseFile(name);
        return underLock(name, () -> {
            VersionedLease current =
                    read(file).orElseThrow(() -> new LeaseConflictException(describe(name) + " does not exist"));
            if (!current.version().equals(expectedVersion)) {
                throw new LeaseConflictException(
                        describe(name) + " is at version " + current.version() + ", not " + expectedVersion);
            }
            return write(name, file, record, Long.parseLong(current.version()) + 1);
        });
    }

    @Override
    public String describe(String name) {
        return "local lease file " + leaseFile(name);
    }

    private Path leaseFile(String name) {
        Objects.requireNonNull(name, "name");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("lease name '" + name
                    + "' cannot serve as a file name: use letters, digits, '.', '_' and '-', starting with a"
                    + " letter or digit");
        }
        return directory.resolve(name + ".lease");
    }

    // --- locking

    private interface LockedAction<T> {
        T run() throws IOException;
    }

    private <T> T underLock(String name, LockedAction<T> action) {
        Path lockFile = directory.resolve(name + ".lock");
        long deadline = System.nanoTime() + lockTimeout.toNanos();
        ReentrantLock jvmLock = JVM_LOCKS.computeIfAbsent(lockFile, path -> new ReentrantLock());
        try {
            if (!jvmLock.tryLock(lockTimeout.toNanos(), TimeUnit.NANOSECONDS)) {
                throw lockTimedOut(lockFile, "another thread of this process");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LeaseStoreException(Kind.OTHER, "interrupted while waiting for " + lockFile, e);
        }
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            // The lock file is never deleted: deleting it would let two writers lock two different files.
            try (FileLock ignored = lockBefore(deadline, channel, lockFile)) {
                return action.run();
            }
        } catch (IOException e) {
            throw new LeaseStoreException(kindOf(e), "cannot write " + describe(name) + ": " + reason(e), e);
        } finally {
            jvmLock.unlock();
        }
    }

    // Polls instead of FileChannel.lock(), which cannot time out: a stopped process must not hang every candidate.
    private static FileLock lockBefore(long deadline, FileChannel channel, Path lockFile) throws IOException {
        long pauseMillis = 1;
        while (true) {
            try {
                FileLock lock = channel.tryLock();
                if (lock != null) {
                    return lock;
                }
            } catch (OverlappingFileLockException e) {
                // Only if this class is loaded twice in one JVM (two class loaders, two JVM_LOCKS): wait as well.
            }
            if (System.nanoTime() - deadline >= 0) {
                throw lockTimedOut(lockFile, "another process");
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

    private static LeaseStoreException lockTimedOut(Path lockFile, String holder) {
        return new LeaseStoreException(
                Kind.TIMEOUT,
                "could not lock " + lockFile + " in time: " + holder + " holds it (a process stopped while writing?)");
    }

    // --- reading and writing

    private Optional<VersionedLease> read(Path file) {
        String content;
        try {
            content = Files.readString(file, UTF_8);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (CharacterCodingException e) {
            throw corrupt(file, "it is not UTF-8 text", e);
        } catch (IOException e) {
            throw new LeaseStoreException(kindOf(e), "cannot read lease file " + file + ": " + reason(e), e);
        }
        return Optional.of(parse(file, content));
    }

    private static VersionedLease parse(Path file, String content) {
        Properties properties = new Properties();
        try {
            properties.load(new StringReader(content));
        } catch (IOException | IllegalArgumentException e) {
            throw corrupt(file, "it is not key=value text (" + e.getMessage() + ")", e);
        }
        String version = properties.getProperty(VERSION);
        if (version == null) {
            throw corrupt(file, "it has no '" + VERSION + "' line", null);
        }
        LeaseRecord record = new LeaseRecord(
                properties.getProperty(HOLDER_IDENTITY),
                field(file, properties, LEASE_DURATION_SECONDS, FileLeaseStore::parseSeconds),
                field(file, properties, ACQUIRE_TIME, Instant::parse),
                field(file, properties, RENEW_TIME, Instant::parse),
                field(file, properties, LEASE_TRANSITIONS, Long::valueOf));
        return new VersionedLease(
                record, field(file, properties, VERSION, Long::valueOf).toString());
    }

    private static <T> T field(Path file, Properties properties, String key, Function<String, T> parser) {
        String value = properties.getProperty(key);
        if (value == null) {
            return null;
        }
        try {
            return parser.apply(value.strip());
        } catch (NumberFormatException | DateTimeParseException | ArithmeticException e) {
            throw corrupt(file, "'" + key + "=" + value + "' cannot be parsed", e);
        }
    }

    private static Duration parseSeconds(String seconds) {
        BigDecimal value = new BigDecimal(seconds);
        return Duration.ofSeconds(
                value.longValue(),
                value.remainder(BigDecimal.ONE).movePointRight(9).intValue());
    }

    private static LeaseStoreException corrupt(Path file, String why, Exception cause) {
        return new LeaseStoreException(
                Kind.OTHER,
                "lease file " + file + " is corrupt: " + why
                        + "; delete it to reset the lease (candidates then create it anew)",
                cause);
    }

    private VersionedLease write(String name, Path file, LeaseRecord record, long version) throws IOException {
        byte[] content = format(name, record, version).getBytes(UTF_8);
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
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temporary);
        }
        return new VersionedLease(record, Long.toString(version));
    }

    private static String format(String name, LeaseRecord record, long version) {
        StringBuilder text = new StringBuilder()
                .append("# Lease ")
                .append(name)
                .append(". Replaced atomically on every write; edit only while no candidate runs.\n");
        line(text, VERSION, Long.toString(version));
        line(text, HOLDER_IDENTITY, record.holderIdentity());
        if (record.leaseDuration() != null) {
            line(text, LEASE_DURATION_SECONDS, seconds(record.leaseDuration()));
        }
        if (record.acquireTime() != null) {
            line(text, ACQUIRE_TIME, record.acquireTime().toString());
        }
        if (record.renewTime() != null) {
            line(text, RENEW_TIME, record.renewTime().toString());
        }
        if (record.leaseTransitions() != null) {
            line(text, LEASE_TRANSITIONS, record.leaseTransitions().toString());
        }
        return text.toString();
    }

    private static String seconds(Duration duration) {
        BigDecimal seconds = BigDecimal.valueOf(duration.getSeconds())
                .add(BigDecimal.valueOf(duration.getNano(), 9))
                .stripTrailingZeros();
        return seconds.scale() < 0 ? seconds.setScale(0).toPlainString() : seconds.toPlainString();
    }

    private static void line(StringBuilder text, String key, String value) {
        if (value != null) {
            text.append(key).append('=').append(escape(value)).append('\n');
        }
    }

    // Escapes what java.util.Properties would otherwise read differently: backslashes, line breaks, control
    // characters and leading white space.
    private static String escape(String value) {
        StringBuilder escaped = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\\' -> escaped.append("\\\\");
                case '\n' -> escaped.append("\\n");
                case '\r' -> escaped.append("\\r");
                case '\t' -> escaped.append("\\t");
                case '\f' -> escaped.append("\\f");
                case ' ' -> escaped.append(i == 0 ? "\\ " : " ");
                default -> {
                    if (Character.isISOControl(c)) {
                        escaped.append(String.format("\\u%04x", (int) c));
                    } else {
                        escaped.append(c);
                    }
                }
            }
        }
        return escaped.toString();
    }

    private static Kind kindOf(IOException e) {
        return e instanceof AccessDeniedException ? Kind.FORBIDDEN : Kind.OTHER;
    }

    private static String reason(IOException e) {
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage());
    }
}
