package dev.leaderpod.actuate;

import dev.leaderpod.core.LeaseElector;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;

/**
 * The {@code leader} health contributor: UP for followers and for a leader that renews, DOWN only when this
 * instance's renewal is overdue (see {@link LeaseStatus}): a stuck leader, which a liveness probe may restart.
 * Reads the elector's snapshot; never calls the store.
 */
final class LeaderHealthIndicator implements HealthIndicator {

    private final LeaseElector elector;
    private final Supplier<Map<String, LeaseElector>> namedElectors;

    /** The health of an application with the default election only. */
    LeaderHealthIndicator(LeaseElector elector) {
        this(elector, Map::of);
    }

    /**
     * @param elector the default election's elector: the status is its
     * @param namedElectors the named elections this instance is a candidate in, by name: details only
     */
    LeaderHealthIndicator(LeaseElector elector, Supplier<Map<String, LeaseElector>> namedElectors) {
        this.elector = elector;
        this.namedElectors = namedElectors;
    }

    /**
     * The default election's status and details, and each named election's details under {@code elections}. A named
     * election's overdue renewal shows in its details but does not turn the status DOWN: its stuck leader steps down
     * at its renew deadline like any other, the store and the process it would be stuck on are the default
     * election's too, and adding an election must not change what a liveness probe that includes {@code leader}
     * restarts.
     */
    @Override
    public Health health() {
        LeaseStatus status = LeaseStatus.of(elector);
        Health.Builder health = status.renewOverdue() ? Health.down() : Health.up();
        details(status).forEach(health::withDetail);
        Map<String, Map<String, Object>> elections = new LinkedHashMap<>();
        namedElectors.get().forEach((name, named) -> elections.put(name, details(LeaseStatus.of(named))));
        if (!elections.isEmpty()) {
            health.withDetail("elections", elections);
        }
        return health.build();
    }

    private static Map<String, Object> details(LeaseStatus status) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("role", status.role());
        status.holder().ifPresent(holder -> details.put("holder", holder));
        status.fencingToken().ifPresent(token -> details.put("fencingToken", token));
        status.lastRenewAge().ifPresent(age -> details.put("lastRenewAge", LeaseStatus.format(age)));
        if (status.renewOverdue()) {
            details.put(
                    "reason",
                    "renewal overdue: the lease still names this instance but its last successful renew was sent "
                            + LeaseStatus.format(status.lastRenewAge().orElseThrow()) + " ago, more than "
                            + "renew-deadline + retry-period (" + LeaseStatus.format(status.overdueAfter()) + ")");
        }
        return details;
    }
}
