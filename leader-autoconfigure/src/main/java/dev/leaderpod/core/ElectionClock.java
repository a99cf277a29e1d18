package dev.leaderpod.core;

import java.time.Instant;

/**
 * Time as the elector sees it. {@link #nanoTime()} is monotonic and is the only time used for decisions;
 * {@link #wallTime()} is only written into the lease for humans.
 */
public interface ElectionClock {

    /** Monotonic nanoseconds, comparable only within this process. */
    long nanoTime();

    /** Wall-clock time, written to the lease's acquire and renew times. */
    Instant wallTime();

    /** The system clock: {@link System#nanoTime()} and {@link Instant#now()}. */
    static ElectionClock system() {
        return SystemClock.INSTANCE;
    }

    /** The JVM's clocks. */
    enum SystemClock implements ElectionClock {
        INSTANCE;

        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public Instant wallTime() {
            return Instant.now();
        }
    }
}
