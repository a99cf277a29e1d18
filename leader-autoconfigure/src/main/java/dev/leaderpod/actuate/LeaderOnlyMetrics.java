package dev.leaderpod.actuate;

import dev.leaderpod.annotation.LeaderOnlyObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * Counts {@code @LeaderOnly} calls that did not run, tagged {@code lease} (of the election the method follows),
 * {@code class} and {@code method}.
 *
 * <p>The registry and the election are looked up at the first skipped call: the interceptor that calls this
 * observer may be created early (advisors are), and must not drag the meter registry along before its own
 * post-processors are ready.
 */
final class LeaderOnlyMetrics implements LeaderOnlyObserver {

    static final String SKIPPED = "leader.only.skipped";

    private record Call(Class<?> targetClass, Method method) {}

    private final Supplier<MeterRegistry> registry;
    private final BiFunction<Class<?>, Method, String> leaseName;
    private final Map<Call, Counter> counters = new ConcurrentHashMap<>();

    /**
     * @param registry the meter registry
     * @param leaseName the lease of the election a method of a class follows, for the {@code lease} tag
     */
    LeaderOnlyMetrics(Supplier<MeterRegistry> registry, BiFunction<Class<?>, Method, String> leaseName) {
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
                .tag("lease", leaseName.apply(call.targetClass(), call.method()))
                .tag("class", call.targetClass().getName())
                .tag("method", call.method().getName())
                .register(registry.get());
    }
}
