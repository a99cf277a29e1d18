package dev.leaderpod.core;

import java.time.Duration;
import java.util.random.RandomGenerator;

/** How long to wait before trying again: jitter, and doubling after failures up to a cap. */
final class Backoff {

    /** The longest wait before restarting a watch. */
    static final Duration MAX = Duration.ofSeconds(30);

    private final ElectionSettings settings;
    private final RandomGenerator random;

    Backoff(ElectionSettings settings, RandomGenerator random) {
        this.settings = settings;
        this.random = random;
    }

    /** {@code base} plus up to 20 % at random, so candidates do not act in lockstep. */
    long jittered(Duration base) {
        long nanos = base.toNanos();
        return nanos + (long) (random.nextDouble() * 0.2 * nanos);
    }

    /** The retry period, jittered: how often a follower without a trusted watch polls. */
    long poll() {
        return jittered(settings.retryPeriod());
    }

    /**
     * A failing follower's wait: the retry period doubling with each failure, capped at lease duration − renew deadline
     * (never below the retry period). Nothing else wakes a follower when the API server comes back (nobody can write,
     * so the watch is silent), so this cap is what keeps a leader within lease duration + retry period of the end of
     * an outage; the doubling up to it still spares a struggling server.
     */
    long afterFailures(int failures) {
        long margin = settings.leaseDuration().minus(settings.renewDeadline()).toNanos();
        long cap = Math.max(settings.retryPeriod().toNanos(), Math.min(margin, MAX.toNanos()));
        return Math.min(doubled(failures), cap);
    }

    /** The wait before starting a watch again after {@code failures} failed or ended watches: up to {@link #MAX}. */
    long watchRetry(int failures) {
        return Math.min(doubled(failures), MAX.toNanos());
    }

    private long doubled(int failures) {
        return settings.retryPeriod().toNanos() << Math.min(Math.max(failures, 1) - 1, 4);
    }
}
