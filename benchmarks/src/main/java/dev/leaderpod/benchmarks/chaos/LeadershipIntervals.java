package dev.leaderpod.benchmarks.chaos;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Leadership intervals as sampled by user code, and the check that no two overlap.
 *
 * <p>A sample is {@code t0 = nanoTime(); term = currentTermId(); t1 = nanoTime()}, all in the harness's own real
 * time ({@link System#nanoTime()}), never a candidate's skewed clock. A run of samples that saw the same term gives
 * an interval whose <em>certain</em> part is [t1 of its first sample, t0 of its last]: the candidate said it led
 * no later than the first bound and no earlier than the second, so it led throughout (a term has no gaps: once
 * over, a new term has a new id). Two certain parts that overlap are a real overlap, whatever the sampling
 * error; a run of a single sample has an empty certain part and proves nothing about overlaps.
 */
public final class LeadershipIntervals {

    /** The certain part of one run of samples. {@code start > end} for a single sample. */
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
