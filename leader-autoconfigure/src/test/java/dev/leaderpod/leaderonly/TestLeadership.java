package dev.leaderpod.leaderonly;

import dev.leaderpod.core.Leadership;
import dev.leaderpod.core.LeadershipTerm;
import java.time.Instant;
import java.util.Optional;

/** A leadership view the test sets by hand. */
final class TestLeadership implements Leadership {

    private volatile LeadershipTerm term;
    private volatile Runnable onCheck = () -> {};

    /** Runs {@code hook} inside every {@link #currentTerm()} call, i.e. at the moment of a leadership check. */
    void onCheck(Runnable hook) {
        onCheck = hook;
    }

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
        onCheck.run();
        return Optional.ofNullable(term);
    }
}
