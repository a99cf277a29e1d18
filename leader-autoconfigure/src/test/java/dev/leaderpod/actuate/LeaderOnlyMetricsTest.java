package dev.leaderpod.actuate;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.Method;
import org.junit.jupiter.api.Test;

/** The observer is called by the {@code @LeaderOnly} interceptor; here it is called directly. */
class LeaderOnlyMetricsTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final LeaderOnlyMetrics observer = new LeaderOnlyMetrics(() -> registry, (type, method) -> "orders");

    @Test
    void countsSkippedCallsByClassAndMethod() throws NoSuchMethodException {
        Method send = Reports.class.getMethod("send");
        Method purge = Reports.class.getMethod("purge");

        observer.onSkipped(Reports.class, send);
        observer.onSkipped(Reports.class, send);
        observer.onSkipped(Reports.class, purge);

        assertThat(skipped("send")).isEqualTo(2);
        assertThat(skipped("purge")).isEqualTo(1);
    }

    @Test
    void registersNothingBeforeTheFirstSkippedCall() {
        assertThat(registry.find(LeaderOnlyMetrics.SKIPPED).meters()).isEmpty();
    }

    private double skipped(String method) {
        return registry.get(LeaderOnlyMetrics.SKIPPED)
                .tag("lease", "orders")
                .tag("class", Reports.class.getName())
                .tag("method", method)
                .counter()
                .count();
    }

    public static class Reports {
        public void send() {}

        public void purge() {}
    }
}
