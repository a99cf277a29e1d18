package dev.leaderpod.core;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads that electors run on, shared by every election of an application (docs/design.md, "No I/O on the
 * thread that ends terms"):
 *
 * <ul>
 *   <li>one <b>election thread</b> for the algorithms and timers of all elections; it never performs or waits for
 *       I/O, so no store call can delay the end of a term;
 *   <li>an <b>event thread</b> for listeners, which exists only while there is something to deliver (and 5 s after);
 *   <li><b>I/O threads</b> for store calls, which exist only while a call runs (and half a second after). A call that
 *       finds the threads busy gets a thread of its own, up to {@value #MAX_IO_THREADS}, so a call that hangs holds up
 *       no other election's calls (an election whose abandoned call still hangs makes no new call until it returns:
 *       {@link StoreCalls}); beyond that, calls wait for a thread, up to two per running election (as many as an
 *       election makes at once, when it starts), and more fail at once instead of piling up. A call abandoned while it
 *       waited is never started.
 * </ul>
 *
 * At rest an application therefore keeps one thread for all its elections. An elector owns no threads: it runs on the
 * runtime it is given, or on a private one it creates when it starts and ends when it stops.
 */
public final class ElectionRuntime implements AutoCloseable {

    /** Hung store calls that may hold an I/O thread before new calls fail at once. */
    static final int MAX_IO_THREADS = 4;

    private final ScheduledExecutorService election;
    private final ScheduledExecutorService events;
    private final Executor io;
    private final boolean owned;
    private final AtomicInteger electors;

    private ElectionRuntime(
            ScheduledExecutorService election,
            ScheduledExecutorService events,
            Executor io,
            boolean owned,
            AtomicInteger electors) {
        this.electors = electors;
        this.election = election;
        this.events = events;
        this.io = io;
        this.owned = owned;
    }

    /**
     * A runtime with its own daemon threads, named {@code leader-election}, {@code leader-events} and {@code leader-io},
     * each followed by {@code -<suffix>} unless the suffix is empty; {@link #close()} ends them.
     */
    public static ElectionRuntime create(String suffix) {
        String tail = (suffix == null || suffix.isEmpty()) ? "" : "-" + suffix;
        ScheduledThreadPoolExecutor election =
                new ScheduledThreadPoolExecutor(1, daemonThreads("leader-election" + tail));
        election.setRemoveOnCancelPolicy(true);
        ScheduledThreadPoolExecutor events = new ScheduledThreadPoolExecutor(1, daemonThreads("leader-events" + tail));
        events.setRemoveOnCancelPolicy(true);
        events.setKeepAliveTime(5, TimeUnit.SECONDS);
        events.allowCoreThreadTimeOut(true);
        AtomicInteger electors = new AtomicInteger();
        // Every call that finds the threads busy gets a thread of its own, up to MAX_IO_THREADS: one hung call must not
        // hold up the other elections' calls (with no core threads the pool added a thread only once the queue was
        // full, so calls waited behind a hung one until abandoned). Idle threads end after half a second.
        ThreadPoolExecutor io = new ThreadPoolExecutor(
                MAX_IO_THREADS,
                MAX_IO_THREADS,
                500,
                TimeUnit.MILLISECONDS,
                new CallQueue(electors),
                daemonThreads("leader-io" + tail));
        io.allowCoreThreadTimeOut(true);
        return new ElectionRuntime(election, events, io, true, electors);
    }

    /**
     * A runtime on the caller's executors, which the caller owns ({@link #close()} leaves them alone). {@code election}
     * must run one task at a time and is never blocked by electors; {@code events} must run tasks one at a time in
     * submission order; {@code io} runs store calls, which may block or hang, and should start a new thread rather
     * than queue behind a hung call.
     */
    public static ElectionRuntime of(ScheduledExecutorService election, ScheduledExecutorService events, Executor io) {
        return new ElectionRuntime(
                Objects.requireNonNull(election, "election"),
                Objects.requireNonNull(events, "events"),
                Objects.requireNonNull(io, "io"),
                false,
                new AtomicInteger());
    }

    ScheduledExecutorService election() {
        return election;
    }

    ScheduledExecutorService events() {
        return events;
    }

    Executor io() {
        return io;
    }

    /**
     * Runs {@code task} on the election thread after {@code delay}: for work beside the electors' own that never blocks,
     * such as spreading elections over candidates. A task that throws is not run again.
     */
    public ScheduledFuture<?> schedule(Runnable task, Duration delay) {
        return election.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * Runs {@code call}, which may block on a store, on an I/O thread: for store calls beside the electors' own, such
     * as presence. Refused with {@link java.util.concurrent.RejectedExecutionException} when every I/O thread is
     * hung.
     */
    public void runBlocking(Runnable call) {
        io.execute(call);
    }

    /** An election starts running on this runtime: one more store call may wait for a busy I/O thread. */
    void attach() {
        electors.incrementAndGet();
    }

    /** An election stopped running on this runtime. */
    void detach() {
        electors.updateAndGet(count -> Math.max(0, count - 1));
    }

    /** Ends the threads of a runtime made by {@link #create}; hung store calls are interrupted. */
    @Override
    public void close() {
        if (owned) {
            election.shutdownNow();
            events.shutdown();
            ((ExecutorService) io).shutdownNow();
        }
    }

    /**
     * Store calls waiting for a busy I/O thread: at most two per running election, as many as an election makes at once
     * (when it starts: its watch's start and its first read). When it is full (calls hang), the pool starts another
     * thread, up to {@link #MAX_IO_THREADS}, and then refuses.
     */
    private static final class CallQueue extends LinkedBlockingQueue<Runnable> {
        private static final int CALLS_PER_ELECTION = 2;
        private final AtomicInteger limit;

        CallQueue(AtomicInteger limit) {
            this.limit = limit;
        }

        @Override
        public boolean offer(Runnable call) {
            return size() < CALLS_PER_ELECTION * limit.get() && super.offer(call);
        }
    }

    private static ThreadFactory daemonThreads(String name) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, count.getAndIncrement() == 0 ? name : name + "-" + count.get());
            thread.setDaemon(true);
            return thread;
        };
    }
}
