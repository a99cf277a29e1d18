package dev.leaderpod.sample.status;

import dev.leaderpod.core.Leadership;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.stereotype.Component;

/**
 * {@code leaderOnly}: UP on the leader, {@value #NOT_LEADER} elsewhere, for the {@code leader-only} health group
 * ({@code /actuator/health/leader-only}, 503 on followers) when something must reach the leader only and cannot use
 * the pod label. The overall health ranks {@value #NOT_LEADER} below UP, so a follower's health, liveness and
 * readiness stay UP: see README, "Leader routing", for why readiness must not depend on leadership.
 */
@Component("leaderOnly")
class LeaderOnlyHealthIndicator implements HealthIndicator {

    static final String NOT_LEADER = "NOT_LEADER";

    private final Leadership leadership;

    LeaderOnlyHealthIndicator(Leadership leadership) {
        this.leadership = leadership;
    }

    @Override
    public Health health() {
        return leadership
                .currentTerm()
                .map(term -> Health.up().withDetail("fencingToken", term.fencingToken()))
                .orElseGet(() -> Health.status(new Status(NOT_LEADER, "this instance does not lead")))
                .withDetail("identity", leadership.identity())
                .build();
    }
}
