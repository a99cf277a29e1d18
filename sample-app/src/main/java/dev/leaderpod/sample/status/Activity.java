package dev.leaderpod.sample.status;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.stereotype.Component;

/**
 * What this instance saw and did recently, for the status page: a bounded timeline plus a few counters. The
 * leader-only jobs and worker report their work here, each job under the election it follows; {@link
 * LeadershipTimeline} adds the transitions.
 */
@Component
public class Activity {

    /** Kinds of timeline entries, as the page shows them. */
    public enum Kind {
        /** This instance started leading (the entry's election). */
        GRANTED,
        /** This instance stopped leading (the entry's election). */
        REVOKED,
        /** This instance saw another candidate lead the default election, or its lease become free. */
        LEADER,
        /** A run of a leader-only job (the entry's election). */
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
     * @param election the election the entry belongs to: {@code ""} for the default one, as in {@code @LeaderOnly}
     */
    public record Entry(
            long atMillis, Kind kind, String text, Long fencingToken, Long durationMillis, String election) {}

    /** The name of the default election, as in {@code @LeaderOnly} and {@code LeaderElections.DEFAULT}. */
    public static final String DEFAULT = "";

    /** Transitions and job runs are kept apart, so that frequent job runs never push transitions out. */
    static final int CAPACITY = 30;

    private final Clock clock;
    private final Deque<Entry> transitions = new ArrayDeque<>(CAPACITY);
    private final Deque<Entry> jobs = new ArrayDeque<>(CAPACITY);
    private final Map<String, AtomicLong> jobRuns = new ConcurrentHashMap<>();
    private final AtomicLong heartbeats = new AtomicLong();
    private volatile boolean workerRunning;

    public Activity() {
        this(Clock.systemUTC());
    }

    Activity(Clock clock) {
        this.clock = clock;
    }

    void record(Kind kind, String text, Long fencingToken) {
        record(DEFAULT, kind, text, fencingToken);
    }

    void record(String election, Kind kind, String text, Long fencingToken) {
        add(transitions, new Entry(clock.millis(), kind, text, fencingToken, null, election));
    }

    /**
     * A run of the default election's job, which started at {@code startedAtMillis} under term {@code fencingToken}.
     */
    public void jobRun(long startedAtMillis, long durationMillis, String text, long fencingToken) {
        jobRun(DEFAULT, startedAtMillis, durationMillis, text, fencingToken);
    }

    /**
     * A run of the job that follows {@code election}, which started at {@code startedAtMillis} under that election's
     * term {@code fencingToken}.
     */
    public void jobRun(String election, long startedAtMillis, long durationMillis, String text, long fencingToken) {
        jobRuns.computeIfAbsent(election, name -> new AtomicLong()).incrementAndGet();
        add(jobs, new Entry(startedAtMillis, Kind.JOB, text, fencingToken, durationMillis, election));
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

    /** Runs of the default election's job on this instance. */
    public long jobRuns() {
        return jobRuns(DEFAULT);
    }

    /** Runs of the job that follows {@code election} on this instance. */
    public long jobRuns(String election) {
        AtomicLong runs = jobRuns.get(election);
        return runs == null ? 0 : runs.get();
    }

    public long heartbeats() {
        return heartbeats.get();
    }

    public boolean workerRunning() {
        return workerRunning;
    }
}
