package dev.leaderpod.autoconfigure;

import dev.leaderpod.core.Leadership;
import dev.leaderpod.core.LeadershipTerm;
import java.util.Optional;

/**
 * A named election this instance stays out of ({@code leader.elections.<name>.enabled=false}): it never leads, so
 * its {@code @LeaderOnly} calls are skipped as a follower's, and it never reads the lease, so it knows no leader.
 */
record NonCandidate(String leaseName, String identity) implements Leadership {

    @Override
    public boolean isLeader() {
        return false;
    }

    @Override
    public Optional<LeadershipTerm> currentTerm() {
        return Optional.empty();
    }
}
