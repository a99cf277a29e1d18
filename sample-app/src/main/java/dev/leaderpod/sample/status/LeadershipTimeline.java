package dev.leaderpod.sample.status;

import dev.leaderpod.autoconfigure.ElectionListenerFactory;
import dev.leaderpod.core.Leadership;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.RevocationReason;
import dev.leaderpod.sample.status.Activity.Kind;
import org.springframework.stereotype.Component;

/**
 * Puts every transition this instance sees on the timeline: its own terms (with the reason a term ended) and the
 * leaders it observes. A {@link LeadershipListener} rather than Spring events because it also hears about other
 * candidates' terms ({@link #onNewLeader}) and why a term ended.
 *
 * <p>A {@link LeadershipListener} bean hears the default election only. As an {@link ElectionListenerFactory} it
 * also gives each named election a listener, which puts this instance's own terms of that election on the timeline
 * (so the page shows elections arriving and leaving, as when they are spread or handed over); other candidates'
 * terms of named elections are in the page's elections table rather than the timeline, which they would flood.
 */
@Component
class LeadershipTimeline implements LeadershipListener, ElectionListenerFactory {

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

    @Override
    public LeadershipListener listenerFor(String name, LeaseElector elector) {
        return new LeadershipListener() {
            @Override
            public void onStartedLeading(LeadershipTerm term) {
                activity.record(name, Kind.GRANTED, "This instance leads " + name, term.fencingToken());
            }

            @Override
            public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
                activity.record(
                        name,
                        Kind.REVOKED,
                        "This instance stopped leading " + name + ": " + describe(reason),
                        term.fencingToken());
            }
        };
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
