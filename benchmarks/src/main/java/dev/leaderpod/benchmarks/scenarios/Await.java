package dev.leaderpod.benchmarks.scenarios;

import dev.leaderpod.benchmarks.contenders.Candidate;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/** Small polling helpers. */
final class Await {

    private Await() {}

    static boolean until(BooleanSupplier condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            sleep(5);
        }
        return true;
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static List<Candidate> leaders(List<? extends Candidate> candidates) {
        return candidates.stream()
                .filter(Candidate::isLeader)
                .map(c -> (Candidate) c)
                .toList();
    }

    static void closeAll(List<? extends Candidate> candidates) {
        candidates.parallelStream().forEach(Candidate::close);
    }
}
