package dev.leaderpod.store.local;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStore.LeaseWatcher;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.VersionedLease;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The watches of one {@link FileLeaseStore}: every watched lease of its directory, any number of watchers each, served
 * by one daemon thread, {@value #THREAD_NAME}, that exists only while at least one watch is open.
 *
 * <p>"Watch to be fast, poll to be right" (docs/design.md): an event only says that a file may have changed; the file
 * is the truth. On an event for {@code <name>.lease} the thread reads that file once, whatever the number of its
 * watchers, and hands each watcher the lease if it differs from what that watcher was last given (or was current when
 * its watch started, which is not delivered). Each lease's reads and deliveries are serialised, so a watcher never gets
 * an older version after a newer one. Temporary files ({@code <name>.lease.<uuid>.tmp}), lock files and unwatched
 * leases are never read. An {@code OVERFLOW} (events were dropped) reads every watched lease. A file that is not a
 * lease (half-written by an editor, say) is skipped until it changes again; the elector's own reads report it.
 *
 * <p>Where the JDK's {@link WatchService} is event-driven (inotify on Linux, Windows) events arrive within
 * milliseconds; the thread also checks, every {@value #EVENTS_CHECK_MILLIS} ms, that the directory is still the one it
 * registered, and compares each watched file's attributes (one {@code stat}) with those of its last read, reading it
 * if they differ: a safety net for events that never come. Where the JDK's WatchService polls (macOS: it scans the
 * directory every 2 to 10 s, slower than the elector's 1.25 retry periods of patience, so followers would keep reading
 * and restarting the watch), it is not used: the same check runs every {@value #POLLING_CHECK_MILLIS} ms instead, so
 * followers see a change within that time rather than within milliseconds.
 *
 * <p>A deleted directory is created again and registered anew (as the store's calls recreate it, "Nothing but stop ends
 * the election"), and every watched lease is read: one deleted with it is delivered as empty. Watches end through
 * {@link LeaseWatcher#onClose} only when the watch cannot go on: a lease file that cannot be read (its watches), a
 * directory that cannot be registered again or an unexpected failure of the thread (every watch). The elector then
 * polls and restarts the watch with back-off.
 */
final class LeaseFileWatches {

    static final String THREAD_NAME = "leader-local-watch";

    static final long EVENTS_CHECK_MILLIS = 1000;
    static final long POLLING_CHECK_MILLIS = 250;

    private static final Logger log = LoggerFactory.getLogger(FileLeaseStore.class);

    private static final String LEASE_SUFFIX = ".lease";
    private static final int REGISTER_ATTEMPTS = 3;
    private static final Object MISSING = new Object();

    /** How changes are noticed: events where the JDK's WatchService is event-driven, else polling ({@code AUTO}). */
    enum Mode {
        AUTO,
        EVENTS,
        POLLING
    }

    /**
     * How the watches notice changes.
     *
     * @param checkEvery how often the directory and the watched files' attributes are checked; {@code null} for the
     *     default of the mode in use
     */
    record Options(Mode mode, Duration checkEvery) {
        static final Options DEFAULT = new Options(Mode.AUTO, null);

        Options {
            Objects.requireNonNull(mode, "mode");
        }

        long checkEveryNanos(boolean events) {
            if (checkEvery != null) {
                return checkEvery.toNanos();
            }
            return TimeUnit.MILLISECONDS.toNanos(events ? EVENTS_CHECK_MILLIS : POLLING_CHECK_MILLIS);
        }
    }

    /** Reads a lease file: empty if absent, a {@link LeaseStoreException} if it is not a lease. */
    interface Reader {
        Optional<VersionedLease> read(Path file) throws IOException;
    }

    /** Describes a failure as the store's calls do, naming the path and what to do. */
    interface Failures {
        LeaseStoreException failure(String doing, Path path, Throwable cause);
    }

    private final Path directory;
    private final Reader reader;
    private final Failures failures;
    private final Options options;

    private final Object lock = new Object();
    /** Watched leases by name; an entry lives while it has an open watch. Guarded by {@link #lock}. */
    private final Map<String, WatchedLease> watched = new HashMap<>();
    /** The thread and what it waits on; null while nothing is watched. Guarded by {@link #lock}. */
    private Runner runner;
    /** Lease files read by the watch thread. */
    private final AtomicLong reads = new AtomicLong();

    LeaseFileWatches(Path directory, Reader reader, Failures failures, Options options) {
        this.directory = Objects.requireNonNull(directory, "directory");
        this.reader = Objects.requireNonNull(reader, "reader");
        this.failures = Objects.requireNonNull(failures, "failures");
        this.options = Objects.requireNonNull(options, "options");
    }

    /**
     * Starts a watch of {@code file}, the lease called {@code name}.
     *
     * @throws IOException if the directory cannot be made or registered, or the file cannot be read
     */
    LeaseWatch watch(String name, Path file, LeaseWatcher watcher) throws IOException {
        Objects.requireNonNull(watcher, "watcher");
        Registration registration;
        synchronized (lock) {
            if (runner == null) {
                runner = startRunner();
            }
            WatchedLease lease = watched.computeIfAbsent(name, key -> new WatchedLease(name, file));
            registration = new Registration(lease, watcher);
            lease.registrations.add(registration);
        }
        // The directory is registered by now, so every later change is in this read or in an event or check after it.
        // Under the lease's monitor, like the thread's reads: what this one gives is never newer than what it reads
        // next.
        try {
            synchronized (registration.lease) {
                registration.delivered = readQuietly(file);
                registration.ready = true;
            }
        } catch (IOException | RuntimeException | Error e) {
            registration.close();
            throw e;
        }
        return registration;
    }

    /** The watch thread, if any watch is open. For tests. */
    Optional<Thread> thread() {
        synchronized (lock) {
            return Optional.ofNullable(runner).map(running -> running.thread);
        }
    }

    /** How many lease files the watch thread has read. For tests: one per change, however many watchers. */
    long reads() {
        return reads.get();
    }

    /** A lease as the thread sees it; its monitor serialises the reads and deliveries of that lease. */
    private static final class WatchedLease {
        final String name;
        final Path file;
        /** Added and removed under {@link #lock}; iterated by the thread without it. */
        final List<Registration> registrations = new CopyOnWriteArrayList<>();
        /** The file's attributes when it was last read by the thread; guarded by this object's monitor. */
        Stamp stamp;

        WatchedLease(String name, Path file) {
            this.name = name;
            this.file = file;
        }
    }

    /** One watcher of one lease, and the watch handed out for it. */
    private final class Registration implements LeaseWatch {
        final WatchedLease lease;
        final LeaseWatcher watcher;
        final AtomicBoolean closed = new AtomicBoolean();
        // Guarded by lease's monitor.
        boolean ready;
        /** What this watcher has (given, or current when it started); null when unknown (the file was no lease). */
        Optional<VersionedLease> delivered;

        Registration(WatchedLease lease, LeaseWatcher watcher) {
            this.lease = lease;
            this.watcher = watcher;
        }

        /** Gives {@code current} to the watcher unless it has it. Holds the lease's monitor. */
        void offer(Optional<VersionedLease> current) {
            if (!ready || closed.get() || current.equals(delivered)) {
                return;
            }
            delivered = current;
            try {
                watcher.onChange(current);
            } catch (VirtualMachineError e) {
                throw e;
            } catch (Throwable e) {
                // One watcher's bug must not silence the others: they share this thread.
                log.warn("A watcher of {} threw; it keeps receiving changes", lease.file, e);
            }
        }

        /** Ends the watch from the store's side; the watcher hears of it once. */
        void closeWith(LeaseStoreException cause) {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            try {
                watcher.onClose(cause);
            } catch (VirtualMachineError e) {
                throw e;
            } catch (Throwable e) {
                log.warn("A watcher of {} threw when told its watch ended", lease.file, e);
            }
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                remove(this);
            }
        }
    }

    private void remove(Registration registration) {
        Runner idle;
        synchronized (lock) {
            WatchedLease lease = registration.lease;
            lease.registrations.remove(registration);
            if (lease.registrations.isEmpty() && watched.get(lease.name) == lease) {
                watched.remove(lease.name);
            }
            idle = takeRunnerIfIdle();
        }
        if (idle != null) {
            idle.stop();
        }
    }

    /** No thread at rest: the last watch closing ends it. Holds {@link #lock}. */
    private Runner takeRunnerIfIdle() {
        if (!watched.isEmpty() || runner == null) {
            return null;
        }
        Runner idle = runner;
        runner = null;
        return idle;
    }

    /** Ends the watches of {@code lease}: its file cannot be read. */
    private void failLease(WatchedLease lease, LeaseStoreException cause) {
        List<Registration> closing;
        Runner idle;
        synchronized (lock) {
            closing = new ArrayList<>(lease.registrations);
            lease.registrations.clear();
            if (watched.get(lease.name) == lease) {
                watched.remove(lease.name);
            }
            idle = takeRunnerIfIdle();
        }
        if (idle != null) {
            idle.stop();
        }
        closing.forEach(registration -> registration.closeWith(cause));
    }

    /** Ends every watch: the thread cannot go on. */
    private void failAll(Runner failed, Throwable cause) {
        List<Registration> closing = new ArrayList<>();
        synchronized (lock) {
            if (runner != failed) {
                return; // stopped meanwhile: its watches closed or belong to a new thread
            }
            runner = null;
            for (WatchedLease lease : watched.values()) {
                closing.addAll(lease.registrations);
                lease.registrations.clear();
            }
            watched.clear();
        }
        failed.stop();
        LeaseStoreException failure = cause instanceof LeaseStoreException known
                ? known
                : failures.failure("watch lease directory", directory, cause);
        closing.forEach(registration -> registration.closeWith(failure));
    }

    private Optional<VersionedLease> readQuietly(Path file) throws IOException {
        try {
            return reader.read(file);
        } catch (LeaseStoreException notALease) {
            return null; // unknown: whatever is read next is news
        }
    }

    // --- the thread

    private Runner startRunner() throws IOException {
        WatchService service = openWatchService();
        Runner started = new Runner(service, options.checkEveryNanos(service != null));
        try {
            started.register();
        } catch (IOException | RuntimeException e) {
            closeQuietly(service);
            if (service == null || options.mode() == Mode.EVENTS) {
                throw e;
            }
            // inotify's per-user limits, say: polling is slower but works.
            log.info(
                    "Cannot watch {} for events ({}); polling the watched lease files every {} ms instead",
                    directory,
                    e.toString(),
                    POLLING_CHECK_MILLIS);
            started = new Runner(null, options.checkEveryNanos(false));
            started.register();
        }
        Thread thread = new Thread(started, THREAD_NAME);
        thread.setDaemon(true);
        started.thread = thread;
        thread.start();
        return started;
    }

    /** The JDK's event-driven watch service for the directory, or null to poll. */
    private WatchService openWatchService() throws IOException {
        if (options.mode() == Mode.POLLING) {
            return null;
        }
        WatchService service;
        try {
            service = directory.getFileSystem().newWatchService();
        } catch (IOException | UnsupportedOperationException e) {
            if (options.mode() == Mode.EVENTS) {
                throw e instanceof IOException io ? io : new IOException(e);
            }
            log.info(
                    "Cannot watch {} for events ({}); polling the watched lease files every {} ms instead",
                    directory,
                    e.toString(),
                    POLLING_CHECK_MILLIS);
            return null;
        }
        // macOS's JDK (sun.nio.fs.PollingWatchService) scans the directory every 2 to 10 s on a thread of its own:
        // slower than the elector waits for a renew, and no better than the check this class runs anyway.
        if (options.mode() == Mode.AUTO && service.getClass().getSimpleName().contains("Polling")) {
            log.debug(
                    "The JDK's watch service polls; polling the watched lease files every {} ms instead",
                    POLLING_CHECK_MILLIS);
            closeQuietly(service);
            return null;
        }
        return service;
    }

    private static void closeQuietly(WatchService service) {
        if (service == null) {
            return;
        }
        try {
            service.close();
        } catch (IOException e) {
            // It was only a watch service; nothing is lost.
        }
    }

    /** The attributes that change when a lease file is replaced or edited. */
    private record Stamp(Object fileKey, FileTime modified, long size) {
        static final Stamp ABSENT = new Stamp(null, null, -1);

        static Stamp of(Path file) throws IOException {
            try {
                BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
                return new Stamp(attributes.fileKey(), attributes.lastModifiedTime(), attributes.size());
            } catch (NoSuchFileException e) {
                return ABSENT;
            }
        }
    }

    private final class Runner implements Runnable {
        /** Null when polling. */
        private final WatchService service;

        private final long checkEveryNanos;
        private volatile boolean stopped;
        private Thread thread;
        // Set by register(): before the thread starts, then only on it.
        private WatchKey key;
        private Object directoryKey;

        Runner(WatchService service, long checkEveryNanos) {
            this.service = service;
            this.checkEveryNanos = checkEveryNanos;
        }

        void stop() {
            stopped = true;
            if (service != null) {
                closeQuietly(service); // wakes the thread: poll() throws ClosedWatchServiceException
            } else {
                synchronized (this) {
                    notifyAll();
                }
            }
        }

        /**
         * Makes the directory if it is gone and registers it. Its identity is read first: if it is replaced between
         * the two steps, the next check sees an identity other than the one recorded and registers again.
         */
        void register() throws IOException {
            for (int attempt = 1; ; attempt++) {
                try {
                    Files.createDirectories(directory);
                    directoryKey = identity(directory);
                    if (service != null) {
                        WatchKey previous = key;
                        key = directory.register(service, ENTRY_CREATE, ENTRY_DELETE, ENTRY_MODIFY);
                        if (previous != null && previous != key) {
                            previous.cancel();
                        }
                    }
                    return;
                } catch (NoSuchFileException deletedAgain) {
                    if (attempt == REGISTER_ATTEMPTS) {
                        throw deletedAgain;
                    }
                }
            }
        }

        @Override
        public void run() {
            try {
                loop();
            } catch (ClosedWatchServiceException e) {
                if (!stopped) {
                    failAll(this, e);
                }
            } catch (Throwable e) {
                if (!stopped) {
                    failAll(this, e);
                }
                if (e instanceof VirtualMachineError error) {
                    throw error;
                }
            } finally {
                closeQuietly(service);
            }
        }

        private void loop() throws IOException, InterruptedException {
            long nextCheck = System.nanoTime() + checkEveryNanos;
            while (!stopped) {
                Set<String> changed = new HashSet<>();
                boolean everything = false;
                long wait = Math.max(0, nextCheck - System.nanoTime());
                if (service != null) {
                    WatchKey signalled = service.poll(wait, TimeUnit.NANOSECONDS);
                    // Drain what else is queued, so that a burst of events costs one read per lease.
                    while (signalled != null) {
                        everything |= collect(signalled, changed);
                        signalled = service.poll();
                    }
                } else {
                    synchronized (this) {
                        if (!stopped) {
                            TimeUnit.NANOSECONDS.timedWait(this, wait);
                        }
                    }
                }
                if (stopped) {
                    return;
                }
                boolean check = System.nanoTime() - nextCheck >= 0;
                if (check) {
                    nextCheck = System.nanoTime() + checkEveryNanos;
                }
                if ((service != null && !key.isValid()) || (check && directoryReplaced())) {
                    // Deleted (the key was cancelled) or replaced: whatever happened meanwhile had no events.
                    register();
                    everything = true;
                }
                refresh(changed, everything, check);
            }
        }

        /** Notes the leases named by the key's events; true if events were lost. */
        private boolean collect(WatchKey signalled, Set<String> changed) {
            List<WatchEvent<?>> events = signalled.pollEvents();
            if (signalled != key) {
                signalled.cancel(); // the directory given up after it was replaced
                return false;
            }
            boolean overflow = false;
            for (WatchEvent<?> event : events) {
                if (event.kind() == OVERFLOW) {
                    overflow = true;
                } else if (event.context() instanceof Path path) {
                    // The rename of a write is an event on the final name; temporary and lock files end otherwise.
                    String file = path.getFileName().toString();
                    if (file.endsWith(LEASE_SUFFIX)) {
                        changed.add(file.substring(0, file.length() - LEASE_SUFFIX.length()));
                    }
                }
            }
            signalled.reset(); // false once the directory is gone; the loop then registers it again
            return overflow;
        }

        private boolean directoryReplaced() throws IOException {
            Object now = identity(directory);
            return now == MISSING || !now.equals(directoryKey);
        }

        private void refresh(Set<String> changed, boolean everything, boolean check) {
            List<WatchedLease> leases;
            synchronized (lock) {
                leases = new ArrayList<>(watched.values());
            }
            for (WatchedLease lease : leases) {
                if (stopped) {
                    return;
                }
                if (everything || changed.contains(lease.name)) {
                    refresh(lease, false);
                } else if (check) {
                    refresh(lease, true);
                }
            }
        }

        /** Reads the lease and offers it to its watchers; with {@code ifStampChanged} only if its attributes did. */
        private void refresh(WatchedLease lease, boolean ifStampChanged) {
            IOException unreadable;
            synchronized (lease) {
                try {
                    Stamp stamp = Stamp.of(lease.file); // before the read: a write after it makes the next check read
                    if (ifStampChanged && stamp.equals(lease.stamp)) {
                        return;
                    }
                    reads.incrementAndGet();
                    Optional<VersionedLease> current;
                    try {
                        current = reader.read(lease.file);
                    } catch (LeaseStoreException notALease) {
                        // Half-written by an editor, say: nothing to tell. Its next change is read again, and the
                        // elector's own reads report a file that stays corrupt.
                        lease.stamp = stamp;
                        return;
                    }
                    lease.stamp = stamp;
                    for (Registration registration : lease.registrations) {
                        registration.offer(current);
                    }
                    return;
                } catch (IOException e) {
                    unreadable = e;
                }
            }
            failLease(lease, failures.failure("watch lease file", lease.file, unreadable));
        }
    }

    private static Object identity(Path directory) throws IOException {
        try {
            Object key =
                    Files.readAttributes(directory, BasicFileAttributes.class).fileKey();
            return key == null ? directory : key; // no file keys (Windows): only a deletion is noticed
        } catch (NoSuchFileException e) {
            return MISSING;
        }
    }
}
