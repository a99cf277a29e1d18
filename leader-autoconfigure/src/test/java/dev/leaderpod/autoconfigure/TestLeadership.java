package dev.leaderpod.autoconfigure;

import dev.leaderpod.core.Leadership;
import dev.leaderpod.core.LeadershipTerm;
import java.time.Instant;
import java.util.Optional;

/** A leadership view the test sets by hand. */
final class TestLeadership implements Leadership {

    private volatile LeadershipTerm term;

    LeadershipTerm grant(long fencingToken) {
        LeadershipTerm granted = new LeadershipTerm("orders", "me", fencingToken, Instant.EPOCH);
        term = granted;
        return granted;
    }

    void revoke() {
        term = null;
    }

    @Override
    public String leaseName() {
        return "orders";
    }

    @Override
    public String identity() {
        return "me";
    }

    @Override
    public boolean isLeader() {
        return term != null;
    }

    @Override
    public Optional<LeadershipTerm> currentTerm() {
        return Optional.ofNullable(term);
    }
}
