package dev.leaderpod.core;

import java.time.Duration;

/**
 * A candidate that yielded leadership does not try to take it back for one lease duration, so that another candidate
 * takes over: without it, the yielder, which learns of its own release first, would take the lease straight back. It
 * keeps following meanwhile (reads, watch), so that its view names the new leader: only taking the lease waits.
 * Confined to the election thread.
 */
final class HoldOff {

    private final ElectionClock clock;
    private final long durationNanos;

    private boolean active;
    private long untilNanos;

    HoldOff(ElectionClock clock, Duration duration) {
        this.clock = clock;
        this.durationNanos = duration.toNanos();
    }

    /** Leadership was just yielded: hold off from now. */
    void begin() {
        active = true;
        untilNanos = clock.nanoTime() + durationNanos;
    }

    /** A new run of the election holds off from nothing. */
    void clear() {
        active = false;
    }

    /** Whether the hold-off is on now; once over, it stays over. */
    boolean active() {
        if (active && clock.nanoTime() - untilNanos < 0) {
            return true;
        }
        active = false;
        return false;
    }

    /** Nanoseconds until the last hold-off ends; negative once it has. */
    long remainingNanos() {
        return untilNanos - clock.nanoTime();
    }
}
