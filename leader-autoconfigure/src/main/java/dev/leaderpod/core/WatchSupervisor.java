package dev.leaderpod.core;

import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStore.LeaseWatcher;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Keeps one watch on the lease running for an elector: starts it (as a bounded store call), hands its changes to the
 * elector, restarts it with back-off when it ends or cannot start, and restarts it at once when it is proven to have
 * missed a change (docs/design.md, "Watch to be fast, poll to be right"). Every callback of the store hops onto the
 * election thread, where everything here runs; a generation number discards callbacks of watches already replaced.
 */
final class WatchSupervisor {

    /** What the elector does with the watch's news. */
    interface Listener {
        /** The lease changed (empty: deleted). */
        void changed(Optional<VersionedLease> lease);

        /** A watch (re)started: changes may have been missed while there was none. */
        void started();

        /** The watch ended: poll until it is back. */
        void ended();
    }

    private final LeaseStore store;
    private final String name;
    private final ElectionSettings settings;
    private final ElectionClock clock;
    private final ElectionLog log;
    private final Backoff backoff;
    private final Listener listener;
    private final Consumer<Runnable> onElectionThread;

    private StoreCalls calls;
    private ScheduledExecutorService election;
    private Executor io;
    private boolean enabled;

    private LeaseWatch watch;
    private volatile boolean healthy;
    private int generation;
    private boolean starting;
    private int closedEarlyGeneration = -1;
    private long startedAtNanos;
    private int failures;
    /** Version of the last change the watch delivered (null for a deletion). */
    private String lastDeliveredVersion;
    /** Changes delivered by the current watch, to tell a late watch from a dead one. */
    private long deliveries;

    private boolean suspicious;

    WatchSupervisor(
            LeaseStore store,
            ElectionSettings settings,
            ElectionClock clock,
            ElectionLog log,
            Backoff backoff,
            Listener listener,
            Consumer<Runnable> onElectionThread) {
        this.store = store;
        this.name = settings.leaseName();
        this.settings = settings;
        this.clock = clock;
        this.log = log;
        this.backoff = backoff;
        this.listener = listener;
        this.onElectionThread = onElectionThread;
    }

    /** Starts watching (if {@code enabled}) on a new run of the election. */
    void begin(boolean enabled, StoreCalls calls, ScheduledExecutorService election, Executor io) {
        this.enabled = enabled;
        this.calls = calls;
        this.election = election;
        this.io = io;
        watch = null;
        starting = false;
        healthy = false;
        failures = 0;
        start();
    }

    /** Whether a watch is established and delivering. */
    boolean healthy() {
        return healthy;
    }

    /** Whether the watch delivered {@code version} as its latest change. */
    boolean delivered(String version) {
        return java.util.Objects.equals(version, lastDeliveredVersion);
    }

    /**
     * A change this watch has not delivered was found (by a read, or by a conflicting write). A live watch may just be
     * late, under load: if it delivers anything within a retry period it is kept; a silent one is restarted.
     */
    void suspect(String why) {
        if (!healthy || suspicious) {
            return;
        }
        suspicious = true;
        int suspected = generation;
        long seen = deliveries;
        try {
            election.schedule(
                    () -> onElectionThread.accept(() -> {
                        suspicious = false;
                        if (suspected == generation && deliveries == seen) {
                            distrust(why);
                        }
                    }),
                    settings.retryPeriod().toNanos(),
                    TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            suspicious = false; // shutting down
        }
    }

    /**
     * The watch is proven to have missed a change: tell it so (a store that shares one connection between watches then
     * opens another rather than join the silent one), and restart it (the elector polls until it is back).
     */
    void distrust(String why) {
        if (!healthy) {
            return;
        }
        log.watchMissedChanges(why);
        LeaseWatch missing = watch;
        if (missing != null) {
            try {
                missing.missedChanges(); // before the next start, so a shared connection is not joined again
            } catch (Throwable e) {
                // a hint to the store only: the watch is restarted all the same
            }
        }
        close();
        start();
    }

    /** Stops watching; callbacks of the closed watch are ignored. */
    /** Closes the watch off the election thread; the future completes once it is closed. */
    Future<?> close() {
        generation++;
        healthy = false;
        starting = false;
        LeaseWatch closing = watch;
        watch = null;
        return closeOnIoThread(closing);
    }

    private void start() {
        if (!enabled || starting || watch != null) {
            return;
        }
        int started = ++generation;
        starting = true;
        LeaseWatcher watcher = new LeaseWatcher() {
            @Override
            public void onChange(Optional<VersionedLease> lease) {
                onElectionThread.accept(() -> delivered(started, lease));
            }

            @Override
            public void onClose(Exception cause) {
                onElectionThread.accept(() -> closed(started, cause));
            }
        };
        calls.call(
                StoreOperation.WATCH,
                () -> store.watch(name, watcher),
                out -> {
                    starting = false;
                    LeaseWatch opened = out.failed() ? null : out.value().orElse(null);
                    if (started != generation || closedEarlyGeneration == started) {
                        closeOnIoThread(opened);
                        if (closedEarlyGeneration == started && started == generation) {
                            ended(new IllegalStateException("the watch closed as it started"));
                        }
                    } else if (out.failed()) {
                        ended(out.failure());
                    } else if (opened != null) {
                        watch = opened;
                        healthy = true;
                        startedAtNanos = clock.nanoTime();
                        log.watchStarted();
                        listener.started();
                    }
                },
                late -> late.ifPresent(WatchSupervisor::closeQuietly));
    }

    private void delivered(int from, Optional<VersionedLease> lease) {
        if (from != generation) {
            return;
        }
        failures = 0; // it delivers: whatever failed before is over
        deliveries++;
        lastDeliveredVersion = lease.map(VersionedLease::version).orElse(null);
        listener.changed(lease);
    }

    private void closed(int from, Exception cause) {
        if (from != generation) {
            return;
        }
        if (starting) {
            closedEarlyGeneration = from; // the start's outcome handles it
            return;
        }
        closeOnIoThread(watch);
        ended(cause);
    }

    /**
     * The watch ended or could not start: the elector polls until it is back, and it starts again with back-off. A
     * watch that cannot start (a Role without {@code watch}) is worth one WARN, not one per attempt.
     */
    private void ended(Throwable cause) {
        boolean lastedLong = watch != null
                && clock.nanoTime() - startedAtNanos >= settings.leaseDuration().toNanos();
        watch = null;
        healthy = false;
        generation++;
        if (lastedLong) {
            failures = 0;
        }
        failures++;
        boolean worthWarning =
                (cause instanceof LeaseStoreException failure && failure.kind() != LeaseStoreException.Kind.UNAVAILABLE)
                        || failures >= 3;
        log.watchEnded(cause, worthWarning);
        listener.ended();
        try {
            election.schedule(
                    () -> onElectionThread.accept(this::start), backoff.watchRetry(failures), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // shutting down
        }
    }

    /**
     * Closing a watch may block on the network: never on the election thread. When every I/O thread is taken by hung
     * calls, a thread of its own closes it.
     */
    private Future<?> closeOnIoThread(LeaseWatch closing) {
        if (closing == null) {
            return CompletableFuture.completedFuture(null);
        }
        try {
            if (io instanceof ExecutorService service) {
                return service.submit(() -> closeQuietly(closing)); // the runtime's own future: awaitable by stop()
            }
            FutureTask<?> close = new FutureTask<>(() -> closeQuietly(closing), null);
            io.execute(close);
            return close;
        } catch (RejectedExecutionException e) {
            FutureTask<?> close = new FutureTask<>(() -> closeQuietly(closing), null);
            Thread closer = new Thread(close, "leader-watch-close");
            closer.setDaemon(true);
            closer.start();
            return close;
        }
    }

    private static void closeQuietly(LeaseWatch watch) {
        try {
            watch.close();
        } catch (Throwable e) {
            // a watch that cannot even close is gone all the same
        }
    }
}
