package dev.leaderpod.actuate;

import dev.leaderpod.core.LeaseElector;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;

/**
 * The {@code leader} health contributor: UP for followers and for a leader that renews, DOWN only when this
 * instance's renewal is overdue (see {@link LeaseStatus}): a stuck leader, which a liveness probe may restart.
 * Reads the elector's snapshot; never calls the store.
 */
final class LeaderHealthIndicator implements HealthIndicator {

    private final LeaseElector elector;

    LeaderHealthIndicator(LeaseElector elector) {
        this.elector = elector;
    }

    @Override
    public Health health() {
        LeaseStatus status = LeaseStatus.of(elector);
        Health.Builder health = status.renewOverdue() ? Health.down() : Health.up();
        health.withDetail("role", status.role());
        status.holder().ifPresent(holder -> health.withDetail("holder", holder));
        status.fencingToken().ifPresent(token -> health.withDetail("fencingToken", token));
        status.lastRenewAge().ifPresent(age -> health.withDetail("lastRenewAge", LeaseStatus.format(age)));
        if (status.renewOverdue()) {
            health.withDetail(
                    "reason",
                    "renewal overdue: the lease still names this instance but its last successful renew was sent "
                            + LeaseStatus.format(status.lastRenewAge().orElseThrow()) + " ago, more than "
                            + "renew-deadline + retry-period (" + LeaseStatus.format(status.overdueAfter()) + ")");
        }
        return health.build();
    }
}
