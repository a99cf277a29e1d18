package dev.leaderpod.actuate;

import dev.leaderpod.core.ElectionMonitor;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipListenerOrder;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.RevocationReason;
import dev.leaderpod.core.StoreOperation;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import org.springframework.core.Ordered;

/**
 * The election's meters, all tagged {@code lease}. Gauges read the elector's snapshot when scraped; counters and
 * the timer are fed by the elector's listener and monitor callbacks. Every tagged series is registered up front,
 * so {@code rate()} and {@code increase()} see a zero before the first event.
 *
 * <p>Only an elector built by the auto-configuration calls the listener and monitor; the gauges work with any
 * {@link LeaseElector} bean.
 */
final class LeaderElectionMetrics implements LeadershipListener, ElectionMonitor, Ordered {

    static final String LEADER = "leader.election.leader";
    static final String TRANSITIONS = "leader.election.transitions";
    static final String RENEW = "leader.election.renew";
    static final String RENEW_FAILURES = "leader.election.renew.failures";
    static final String RENEW_AGE = "leader.election.renew.age";
    static final String FENCING_TOKEN = "leader.election.fencing.token";

    private final Counter granted;
    private final Map<RevocationReason, Counter> revoked = new EnumMap<>(RevocationReason.class);
    private final Timer renewSucceeded;
    private final Timer renewFailed;
    private final Map<LeaseStoreException.Kind, Counter> renewFailures = new EnumMap<>(LeaseStoreException.Kind.class);

    LeaderElectionMetrics(LeaseElector elector, MeterRegistry registry) {
        Tags lease = Tags.of("lease", elector.leaseName());
        Gauge.builder(LEADER, elector, e -> e.isLeader() ? 1 : 0)
                .description("1 while this instance leads the election, else 0; summed over instances, more than 1"
                        + " means two leaders")
                .tags(lease)
                .register(registry);
        Gauge.builder(
                        RENEW_AGE,
                        elector,
                        e -> LeaseStatus.of(e)
                                .lastRenewAge()
                                .map(LeaderElectionMetrics::seconds)
                                .orElse(Double.NaN))
                .description("Time since this instance's last successful renew was sent, while it leads or the"
                        + " lease it last saw names it; NaN otherwise")
                .baseUnit("seconds")
                .tags(lease)
                .register(registry);
        Gauge.builder(FENCING_TOKEN, elector, e -> {
                    var token = LeaseStatus.of(e).fencingToken();
                    return token.isPresent() ? token.getAsLong() : Double.NaN;
                })
                .description("leaseTransitions of the lease as this instance last saw it: the fencing token of the"
                        + " current term")
                .tags(lease)
                .register(registry);
        this.granted = transitions(registry, lease, "granted", "acquired");
        for (RevocationReason reason : RevocationReason.values()) {
            revoked.put(reason, transitions(registry, lease, "revoked", lowerCase(reason)));
        }
        this.renewSucceeded = renewTimer(registry, lease, "success");
        this.renewFailed = renewTimer(registry, lease, "failure");
        for (LeaseStoreException.Kind kind : LeaseStoreException.Kind.values()) {
            renewFailures.put(
                    kind,
                    Counter.builder(RENEW_FAILURES)
                            .description("Renew calls of the leader that failed, by cause")
                            .tags(lease.and("cause", lowerCase(kind)))
                            .register(registry));
        }
    }

    @Override
    public void onStartedLeading(LeadershipTerm term) {
        granted.increment();
    }

    @Override
    public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
        revoked.get(reason).increment();
    }

    @Override
    public void storeCall(StoreOperation operation, Duration latency, LeaseStoreException.Kind failure) {
        if (operation != StoreOperation.RENEW) {
            return;
        }
        if (failure == null) {
            renewSucceeded.record(latency);
        } else {
            renewFailed.record(latency);
            renewFailures.get(failure).increment();
        }
    }

    @Override
    public int getOrder() {
        return LeadershipListenerOrder.METRICS;
    }

    private static Counter transitions(MeterRegistry registry, Tags lease, String direction, String reason) {
        return Counter.builder(TRANSITIONS)
                .description("Leadership changes of this instance: granted, or revoked with the reason")
                .tags(lease.and("direction", direction, "reason", reason))
                .register(registry);
    }

    private static Timer renewTimer(MeterRegistry registry, Tags lease, String outcome) {
        return Timer.builder(RENEW)
                .description("Time taken by the leader's renew calls to the lease store")
                .tags(lease.and("outcome", outcome))
                .register(registry);
    }

    private static double seconds(Duration duration) {
        return duration.toNanos() / 1e9;
    }

    private static String lowerCase(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }
}
