package dev.leaderpod.benchmarks.contenders;

import java.time.Duration;

/** Lease duration, renew deadline and retry period of an election. */
public record Timings(Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {

    /** The defaults of client-go, fabric8, spring-cloud-kubernetes 5.0 and this starter: 15 s / 10 s / 2 s. */
    public static final Timings DEFAULTS =
            new Timings(Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(2));

    @Override
    public String toString() {
        return leaseDuration.toMillis() + "/" + renewDeadline.toMillis() + "/" + retryPeriod.toMillis() + " ms";
    }
}
