package dev.leaderpod.sample.status;

import dev.leaderpod.core.Leadership;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.RevocationReason;
import dev.leaderpod.sample.status.Activity.Kind;
import org.springframework.stereotype.Component;

/**
 * Puts every transition this instance sees on the timeline: its own terms (with the reason a term ended) and the
 * leaders it observes. A {@link LeadershipListener} rather than Spring events because it also hears about other
 * candidates' terms ({@link #onNewLeader}) and why a term ended.
 */
@Component
class LeadershipTimeline implements LeadershipListener {

    private final Activity activity;
    private final String identity;

    LeadershipTimeline(Activity activity, Leadership leadership) {
        this.activity = activity;
        this.identity = leadership.identity();
    }

    @Override
    public void onStartedLeading(LeadershipTerm term) {
        activity.record(Kind.GRANTED, "This instance leads", term.fencingToken());
    }

    @Override
    public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
        activity.record(Kind.REVOKED, "This instance stopped leading: " + describe(reason), term.fencingToken());
    }

    @Override
    public void onNewLeader(String holderIdentity, long leaseTransitions) {
        if (holderIdentity == null) {
            activity.record(Kind.LEADER, "The lease is free: nobody leads", null);
        } else if (!holderIdentity.equals(identity)) {
            activity.record(Kind.LEADER, holderIdentity + " leads", leaseTransitions);
        }
    }

    private static String describe(RevocationReason reason) {
        return switch (reason) {
            case DEADLINE_PASSED -> "could not renew the lease in time";
            case LOST -> "another instance took the lease";
            case RELEASED -> "the lease was released";
            case YIELDED -> "yielded";
            case SHUTDOWN -> "shutting down, lease released";
        };
    }
}
