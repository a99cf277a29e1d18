package dev.leaderpod.benchmarks.chaos;

import dev.leaderpod.benchmarks.contenders.ElectionLog;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Leadership intervals as sampled by user code, and the check that no two overlap.
 *
 * <p>A sample is {@code t0 = nanoTime(); term = currentTermId(); t1 = nanoTime()}, all in the harness's own real
 * time ({@link System#nanoTime()}), never a candidate's skewed clock. A run of samples that saw the same term gives
 * an interval whose <em>certain</em> part is [t1 of its first sample, t0 of its last]: the candidate said it led
 * no later than the first bound and no earlier than the second, so it led throughout (a term has no gaps: once
 * over, a new term has a new id). Two certain parts that overlap are a real overlap, whatever the sampling
 * error; a run of a single sample has an empty certain part and proves nothing about overlaps.
 *
 * <p>The same check runs on a second view, the listener's ({@link #fromEvents}): a candidate's listener is told
 * it leads by {@code onStartedLeading} and told it no longer does by {@code onStoppedLeading}; work started and
 * stopped by these callbacks (a Spring event listener starting a job) runs in between. Those intervals are
 * exact: both ends are stamped inside the callbacks.
 */
public final class LeadershipIntervals {

    /**
     * The certain part of one run of samples ({@code start > end} for a single sample), or a listener's interval
     * ({@code samples} 0).
     */
    public record Interval(String candidate, long term, long start, long end, int samples) {
        boolean isEmpty() {
            return end - start <= 0;
        }
    }

    /** Two candidates' intervals that overlap, by {@code overlapNanos}. */
    public record Overlap(Interval first, Interval second, long overlapNanos) {}

    private final List<Interval> intervals = new ArrayList<>();

    public synchronized void add(Interval interval) {
        intervals.add(interval);
    }

    public synchronized List<Interval> intervals() {
        return List.copyOf(intervals);
    }

    /** Every overlap between intervals of different candidates. */
    public List<Overlap> overlaps() {
        List<Interval> sorted = new ArrayList<>(intervals());
        sorted.removeIf(Interval::isEmpty);
        sorted.sort(Comparator.comparingLong(Interval::start));
        List<Overlap> overlaps = new ArrayList<>();
        for (int i = 0; i < sorted.size(); i++) {
            Interval a = sorted.get(i);
            for (int j = i + 1; j < sorted.size() && sorted.get(j).start() - a.end() < 0; j++) {
                Interval b = sorted.get(j);
                if (!a.candidate().equals(b.candidate())) {
                    long end = Math.min(a.end(), b.end());
                    overlaps.add(new Overlap(a, b, end - b.start()));
                }
            }
        }
        return overlaps;
    }

    /**
     * Fencing tokens that did not grow: taking the intervals in the order they started, one whose term is below
     * an earlier one's, or equal to an earlier one's of another candidate. Meaningful where the term is the
     * fencing token (our elector).
     */
    public List<String> tokenRegressions() {
        List<Interval> sorted = new ArrayList<>(intervals());
        sorted.sort(Comparator.comparingLong(Interval::start));
        List<String> regressions = new ArrayList<>();
        Interval highest = null;
        for (Interval interval : sorted) {
            if (highest != null
                    && (interval.term() < highest.term()
                            || (interval.term() == highest.term()
                                    && !interval.candidate().equals(highest.candidate())))) {
                regressions.add(interval.candidate() + " led with token " + interval.term() + " after "
                        + highest.candidate() + " had led with token " + highest.term());
            }
            if (highest == null || interval.term() > highest.term()) {
                highest = interval;
            }
        }
        return regressions;
    }

    /**
     * The listener's view: for each candidate, from every {@code GRANTED} to the next {@code REVOKED} (or the next
     * {@code GRANTED}, which means the end of the earlier term was never announced). A candidate in
     * {@code crashedAt} stops at that moment, as a dead process runs no code: its later events are ignored. An
     * interval still open at {@code endNanos} ends there. Terms are numbered per candidate from 1.
     */
    public static LeadershipIntervals fromEvents(
            List<ElectionLog.Event> events, Map<String, Long> crashedAt, long endNanos) {
        LeadershipIntervals result = new LeadershipIntervals();
        Map<String, Long> openSince = new HashMap<>();
        Map<String, Integer> terms = new HashMap<>();
        List<ElectionLog.Event> ordered = new ArrayList<>(events);
        ordered.sort(Comparator.comparingLong(ElectionLog.Event::atNanos));
        for (ElectionLog.Event event : ordered) {
            String candidate = event.identity();
            Long crash = crashedAt.get(candidate);
            if (crash != null && event.atNanos() - crash > 0) {
                continue;
            }
            switch (event.kind()) {
                case GRANTED -> {
                    Long open = openSince.remove(candidate);
                    if (open != null) {
                        result.add(new Interval(candidate, terms.get(candidate), open, event.atNanos(), 0));
                    }
                    openSince.put(candidate, event.atNanos());
                    terms.merge(candidate, 1, Integer::sum);
                }
                case REVOKED -> {
                    Long open = openSince.remove(candidate);
                    if (open != null) {
                        result.add(new Interval(candidate, terms.get(candidate), open, event.atNanos(), 0));
                    }
                }
                default -> {}
            }
        }
        openSince.forEach((candidate, open) -> {
            Long crash = crashedAt.get(candidate);
            long end = crash != null && crash - endNanos < 0 ? crash : endNanos;
            result.add(new Interval(candidate, terms.get(candidate), open, end, 0));
        });
        return result;
    }

    /** Records one candidate's samples into intervals; call from one thread. */
    public static final class Recorder {
        private final LeadershipIntervals sink;
        private final String candidate;
        private long term = -1;
        private long start;
        private long lastT0;
        private int samples;

        public Recorder(LeadershipIntervals sink, String candidate) {
            this.sink = sink;
            this.candidate = candidate;
        }

        public void sample(long t0, long sampledTerm, long t1) {
            if (sampledTerm != term) {
                close();
                if (sampledTerm >= 0) {
                    term = sampledTerm;
                    start = t1;
                    samples = 0;
                }
            }
            if (sampledTerm >= 0) {
                lastT0 = t0;
                samples++;
            }
        }

        /** Ends the current run, if any. */
        public void close() {
            if (term >= 0) {
                sink.add(new Interval(candidate, term, start, lastT0, samples));
                term = -1;
            }
        }
    }
}
