package dev.leaderpod.actuate;

import dev.leaderpod.annotation.LeaderOnlyObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Counts {@code @LeaderOnly} calls that did not run, tagged {@code lease}, {@code class} and {@code method}.
 *
 * <p>The registry and the election are looked up at the first skipped call: the interceptor that calls this
 * observer may be created early (advisors are), and must not drag the meter registry along before its own
 * post-processors are ready.
 */
final class LeaderOnlyMetrics implements LeaderOnlyObserver {

    static final String SKIPPED = "leader.only.skipped";

    private record Call(Class<?> targetClass, Method method) {}

    private final Supplier<MeterRegistry> registry;
    private final Supplier<String> leaseName;
    private final Map<Call, Counter> counters = new ConcurrentHashMap<>();

    LeaderOnlyMetrics(Supplier<MeterRegistry> registry, Supplier<String> leaseName) {
        this.registry = registry;
        this.leaseName = leaseName;
    }

    @Override
    public void onSkipped(Class<?> targetClass, Method method) {
        counters.computeIfAbsent(new Call(targetClass, method), this::counter).increment();
    }

    private Counter counter(Call call) {
        return Counter.builder(SKIPPED)
                .description("@LeaderOnly calls that did not run because this instance did not lead")
                .tag("lease", leaseName.get())
                .tag("class", call.targetClass().getName())
                .tag("method", call.method().getName())
                .register(registry.get());
    }
}
