package dev.leaderpod.benchmarks.chaos;

import dev.leaderpod.core.ElectionClock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.LongSupplier;

/**
 * A node's clock for the chaos harness: offset from the real one by a fixed amount (hours, say) and ticking at a
 * rate off by a fraction ({@code rateError = 0.01} runs 1 % fast, {@code -0.01} 1 % slow). Both its monotonic and
 * its wall time are skewed alike. Monotonic as long as {@code rateError > -1}.
 */
public final class DriftingClock implements ElectionClock {

    private final long offsetNanos;
    private final double rate;
    private final LongSupplier realNanos;
    private final long originNanos;
    private final Instant originWall;

    public DriftingClock(Duration offset, double rateError) {
        this(offset, rateError, System::nanoTime, Instant.now());
    }

    DriftingClock(Duration offset, double rateError, LongSupplier realNanos, Instant originWall) {
        if (rateError <= -1) {
            throw new IllegalArgumentException("rateError must be > -1, was " + rateError);
        }
        this.offsetNanos = offset.toNanos();
        this.rate = 1 + rateError;
        this.realNanos = realNanos;
        this.originNanos = realNanos.getAsLong();
        this.originWall = originWall;
    }

    /** Nanoseconds this clock has advanced since it was created, for {@code realElapsed} real ones. */
    private long elapsed() {
        return (long) ((realNanos.getAsLong() - originNanos) * rate);
    }

    @Override
    public long nanoTime() {
        return originNanos + offsetNanos + elapsed();
    }

    @Override
    public Instant wallTime() {
        return originWall.plusNanos(offsetNanos + elapsed());
    }

    /** How far this clock's wall time is ahead of the real one right now (negative when behind). */
    public Duration skew() {
        long real = realNanos.getAsLong() - originNanos;
        return Duration.ofNanos(offsetNanos + elapsed() - real);
    }

    @Override
    public String toString() {
        return String.format(
                java.util.Locale.ROOT, "offset %+.2f h, rate %+.2f %%", offsetNanos / 3.6e12, (rate - 1) * 100);
    }
}
