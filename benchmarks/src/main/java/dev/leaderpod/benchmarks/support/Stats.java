package dev.leaderpod.benchmarks.support;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;

/** Median, p90 and max of a sample, nearest-rank. */
public record Stats(int count, double min, double median, double p90, double max) {

    public static Stats of(Collection<? extends Number> values) {
        if (values.isEmpty()) {
            return new Stats(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        List<Double> sorted = new ArrayList<>();
        values.forEach(v -> sorted.add(v.doubleValue()));
        Collections.sort(sorted);
        return new Stats(
                sorted.size(),
                sorted.get(0),
                percentile(sorted, 50),
                percentile(sorted, 90),
                sorted.get(sorted.size() - 1));
    }

    /** Nearest-rank percentile of a sorted list. */
    static double percentile(List<Double> sorted, int percent) {
        int rank = (int) Math.ceil(percent / 100.0 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }
}
