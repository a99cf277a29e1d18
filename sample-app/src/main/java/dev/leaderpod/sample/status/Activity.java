package dev.leaderpod.sample.status;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.stereotype.Component;

/**
 * What this instance saw and did recently, for the status page: a bounded timeline plus a few counters. The
 * leader-only job and worker report their work here; {@link LeadershipTimeline} adds the transitions.
 */
@Component
public class Activity {

    /** Kinds of timeline entries, as the page shows them. */
    public enum Kind {
        /** This instance started leading. */
        GRANTED,
        /** This instance stopped leading. */
        REVOKED,
        /** This instance saw another candidate lead, or the lease become free. */
        LEADER,
        /** A run of the leader-only job. */
        JOB,
        /** The leader-only worker started or stopped. */
        WORKER
    }

    /**
     * One entry.
     *
     * @param atMillis wall-clock time (epoch milliseconds) the entry is about: the start, for a job run
     * @param durationMillis how long a job run took, else {@code null}
     * @param fencingToken the term's fencing token, when the entry belongs to a term
     */
    public record Entry(long atMillis, Kind kind, String text, Long fencingToken, Long durationMillis) {}

    /** Transitions and job runs are kept apart, so that frequent job runs never push transitions out. */
    static final int CAPACITY = 30;

    private final Clock clock;
    private final Deque<Entry> transitions = new ArrayDeque<>(CAPACITY);
    private final Deque<Entry> jobs = new ArrayDeque<>(CAPACITY);
    private final AtomicLong jobRuns = new AtomicLong();
    private final AtomicLong heartbeats = new AtomicLong();
    private volatile boolean workerRunning;

    public Activity() {
        this(Clock.systemUTC());
    }

    Activity(Clock clock) {
        this.clock = clock;
    }

    void record(Kind kind, String text, Long fencingToken) {
        add(transitions, new Entry(clock.millis(), kind, text, fencingToken, null));
    }

    /** A run of the leader-only job, which started at {@code startedAtMillis} under term {@code fencingToken}. */
    public void jobRun(long startedAtMillis, long durationMillis, String text, long fencingToken) {
        jobRuns.incrementAndGet();
        add(jobs, new Entry(startedAtMillis, Kind.JOB, text, fencingToken, durationMillis));
    }

    /** The leader-only worker started for the term {@code fencingToken}. */
    public void workerStarted(long fencingToken) {
        workerRunning = true;
        record(Kind.WORKER, "Leader-only worker started", fencingToken);
    }

    /** The leader-only worker stopped. */
    public void workerStopped() {
        workerRunning = false;
        record(Kind.WORKER, "Leader-only worker stopped", null);
    }

    /** One beat of the leader-only worker. */
    public void heartbeat() {
        heartbeats.incrementAndGet();
    }

    private synchronized void add(Deque<Entry> entries, Entry entry) {
        if (entries.size() == CAPACITY) {
            entries.removeLast();
        }
        entries.addFirst(entry);
    }

    /** The recent transitions and job runs, newest first. */
    public synchronized List<Entry> recent() {
        List<Entry> recent = new ArrayList<>(transitions.size() + jobs.size());
        recent.addAll(transitions);
        recent.addAll(jobs);
        recent.sort(Comparator.comparingLong(Entry::atMillis).reversed());
        return recent;
    }

    public long jobRuns() {
        return jobRuns.get();
    }

    public long heartbeats() {
        return heartbeats.get();
    }

    public boolean workerRunning() {
        return workerRunning;
    }
}
