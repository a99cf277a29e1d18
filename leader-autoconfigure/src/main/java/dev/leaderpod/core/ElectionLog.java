package dev.leaderpod.core;

import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's view of one election: every line an elector logs, worded once, and the de-duplication that keeps a
 * long outage or a misconfiguration from flooding the log. Logged as {@code dev.leaderpod.core.LeaseElector}, the
 * category users configure. Confined to the election thread, except the listener lines (event thread).
 */
final class ElectionLog {

    private static final Logger log = LoggerFactory.getLogger(LeaseElector.class);

    /** A duplicate identity is reported again at most this often. */
    private static final Duration REPEAT_ERROR_EVERY = Duration.ofMinutes(10);

    private final String name;
    private final String identity;
    private final String described;
    private final ElectionSettings settings;
    private final ElectionClock clock;

    private String lastAnnouncedHolder;
    /** The last holder seen, kept while the lease is free: the "previous leader" of the next transition. */
    private String lastKnownHolder;
    /** Whether any lease content was seen yet, so that the first sight is not logged as a change. */
    private boolean announcedOnce;

    private LeaseStoreException.Kind lastLoggedFailure;
    private int conflictingCycles;
    private String duplicateVersionSeen;
    private long duplicateReportedAtNanos;
    private boolean duplicateReported;
    private String refusedApplication;
    private boolean watchWarned;

    ElectionLog(String described, ElectionSettings settings, ElectionClock clock) {
        this.name = settings.leaseName();
        this.identity = settings.identity();
        this.described = described;
        this.settings = settings;
        this.clock = clock;
    }

    /** The holder before the transition being made now, as last seen, or null. */
    String lastKnownHolder() {
        return lastKnownHolder;
    }

    void joining() {
        log.info(
                "Joining leader election for {} as {} (lease {}, renew deadline {}, retry {})",
                described,
                identity,
                settings.leaseDuration(),
                settings.renewDeadline(),
                settings.retryPeriod());
    }

    void leads(LeadershipTerm term, String previous, String how) {
        log.info(
                "{} now leads {} (fencing token {}, previous leader {}, {})",
                identity,
                described,
                term.fencingToken(),
                previous == null ? "none" : previous,
                how);
    }

    void noLongerLeads(LeadershipTerm term, RevocationReason reason, int failures, LeaseStoreException.Kind failure) {
        if (reason == RevocationReason.DEADLINE_PASSED) {
            log.warn(
                    "{} no longer leads {} ({}, fencing token was {}): no renew succeeded within the renew deadline"
                            + " ({}; {}). Another candidate takes over once the lease expires; check the store's"
                            + " reachability and this process's pauses (GC, CPU limits).",
                    identity,
                    name,
                    reason,
                    term.fencingToken(),
                    settings.renewDeadline(),
                    failures > 0 && failure != null
                            ? failures + " failures in a row, last " + failure
                            : "a renew call may still be in flight");
        } else {
            log.info("{} no longer leads {} ({}, fencing token was {})", identity, name, reason, term.fencingToken());
        }
    }

    /**
     * One INFO line per change of holder on every candidate (the new leader logs its own in {@link #leads}).
     *
     * @return whether listeners must hear of a new leader
     */
    boolean holderSeen(LeaseRecord record) {
        String holder = record.isHeld() ? record.holderIdentity() : null;
        if (announcedOnce && Objects.equals(holder, lastAnnouncedHolder)) {
            return false;
        }
        String previous = lastKnownHolder;
        boolean sawFree = announcedOnce && lastAnnouncedHolder == null;
        boolean firstSight = !announcedOnce;
        announcedOnce = true;
        lastAnnouncedHolder = holder;
        if (holder == null) {
            log.debug("{} is free (previous leader {})", name, previous == null ? "none" : previous);
        } else {
            lastKnownHolder = holder;
            if (!holder.equals(identity)) {
                String how = firstSight
                        ? "as found on joining"
                        : sawFree
                                ? (previous == null ? "the lease was free" : previous + " had released the lease")
                                : "taken over from " + previous;
                log.info(
                        "{} is now led by {} (fencing token {}, previous leader {}, {})",
                        name,
                        holder,
                        record.transitionsOrZero(),
                        previous == null ? "none" : previous,
                        how);
            }
        }
        return !(firstSight && holder == null); // no holder before, none now: nothing changed for listeners
    }

    void deleted() {
        if (announcedOnce && lastAnnouncedHolder != null) {
            log.info("{} was deleted", described);
        }
    }

    void holding(Duration wait) {
        log.info(
                "{} created {}; it leads only after holding it for {}: the holder of a deleted lease may still lead"
                        + " until its renew deadline",
                identity,
                described,
                wait);
    }

    /**
     * A store call failed. Every failure of a leader counts against its renew deadline and is worth a line; a
     * follower's are logged when their kind changes and then every tenth.
     *
     * @param leftNanos how long the leader leads at most without a renew, or negative for a follower
     */
    void failed(LeaseStoreException.Kind kind, Throwable e, int failures, long leftNanos) {
        Throwable trace = kind == LeaseStoreException.Kind.OTHER ? e : null;
        boolean leading = leftNanos >= 0;
        if (!leading && kind == lastLoggedFailure && failures % 10 != 0) {
            return;
        }
        lastLoggedFailure = kind;
        String what = leading
                ? identity + " leads " + described + " but could not renew it"
                : identity + ": " + described + " failed";
        String then = leading
                ? "Leading for at most " + Duration.ofNanos(leftNanos) + " more unless a renew succeeds."
                : "Staying in the election and retrying with back-off.";
        log.warn("{} ({} in a row, {}): {}. {} {}", what, failures, kind, e.getMessage(), hint(kind), then, trace);
    }

    void recovered(int failures) {
        log.info("{}: store calls succeed again after {} failures", name, failures);
        lastLoggedFailure = null;
    }

    /** Losing one race is normal; losing a write in several cycles in a row means someone else writes the lease. */
    void cycleEnded(boolean conflicted) {
        if (!conflicted) {
            conflictingCycles = 0;
            return;
        }
        int cycles = ++conflictingCycles;
        if (cycles == 3 || cycles % 10 == 0) {
            log.warn(
                    "{}: writes to {} were overtaken by another writer in {} election cycles in a row. Another"
                            + " process is writing this lease: a second candidate with the same identity ({}), or"
                            + " another application using the lease name {}? Give every candidate a unique identity"
                            + " and every application its own lease name.",
                    identity,
                    described,
                    cycles,
                    identity,
                    name);
        }
    }

    /**
     * A record names this candidate's identity in a term it did not write. Once is a leftover (a restart with a fixed
     * identity, a hand edit); a change of it, or a write of ours overtaken by it, is a second process with our identity.
     */
    void duplicateIdentity(VersionedLease lease, boolean whileLeading) {
        boolean proven =
                whileLeading || (duplicateVersionSeen != null && !duplicateVersionSeen.equals(lease.version()));
        duplicateVersionSeen = lease.version();
        long now = clock.nanoTime();
        if (!proven || (duplicateReported && now - duplicateReportedAtNanos < REPEAT_ERROR_EVERY.toNanos())) {
            return;
        }
        duplicateReported = true;
        duplicateReportedAtNanos = now;
        log.error(
                "{}: another process writes {} with this candidate's identity '{}' (a term this candidate did not"
                        + " start{}), or somebody edited the lease by hand. Two candidates with one identity could both"
                        + " believe they lead: this one {} and takes part only once that term expires. Give every"
                        + " candidate a unique leader.identity (the default, the pod name plus a random suffix, is"
                        + " unique).",
                identity,
                described,
                identity,
                lease.record().acquireTime() == null
                        ? ""
                        : ", acquired " + lease.record().acquireTime(),
                whileLeading ? "stopped leading at once" : "does not lead beside it");
    }

    void foreignApplication(String theirs, String ours) {
        if (theirs.equals(refusedApplication)) {
            return;
        }
        refusedApplication = theirs;
        log.error(
                "{} belongs to application '{}', but this candidate is of application '{}': it refuses to take part"
                        + " in another application's election. Give this application its own leader.lease-name, or set"
                        + " leader.allow-other-applications=true in every application that shares the lease on purpose.",
                described,
                theirs,
                ours);
    }

    /** The watch ended or could not start; worth one WARN per episode when it is more than a routine reconnect. */
    void watchEnded(Throwable cause, boolean worthWarning) {
        if (worthWarning && !watchWarned) {
            watchWarned = true;
            log.warn(
                    "{}: cannot watch {} ({}); polling every {} instead and retrying the watch with back-off. Followers"
                            + " then see a release within a retry period rather than at once.",
                    identity,
                    described,
                    cause.getMessage(),
                    settings.retryPeriod());
        } else {
            log.debug("{}: watch on {} ended ({}); polling until it is back", identity, name, String.valueOf(cause));
        }
    }

    void watchStarted() {
        if (watchWarned) {
            watchWarned = false;
            log.info("{}: watching {} again", identity, described);
        }
    }

    void watchMissedChanges(String why) {
        log.info("{}: the watch on {} missed changes ({}); restarting it", identity, described, why);
    }

    void implausibleToken(long token) {
        log.error(
                "{}: the fencing token in {} is {}, beyond any real number of terms (a hand edit?): it is ignored and"
                        + " the next term takes the next token after the highest this candidate has seen. Downstream"
                        + " systems that compare tokens should not have accepted {}.",
                identity,
                described,
                token,
                token);
    }

    void notStanding() {
        log.info("{} no longer stands for {}: handing leadership over", identity, described);
    }

    void notStandingWhenTermWouldStart() {
        log.info("{} no longer stands for {}: its write landed but starts no term", identity, described);
    }

    void released(String successor) {
        if (successor == null) {
            log.info("{} released {}", identity, described);
        } else {
            log.info("{} released {} to {}", identity, described, successor);
        }
    }

    void couldNotRelease(Throwable e) {
        log.warn("{} could not release {}: {}", identity, described, e.toString());
    }

    void releaseTimedOut(Duration timeout) {
        log.warn(
                "Could not release {} within {}; followers take over when it expires ({}).",
                described,
                timeout,
                settings.leaseDuration());
    }

    void loopFailed(Throwable e) {
        log.error("{}: unexpected failure in the election loop; retrying in {}", name, settings.retryPeriod(), e);
    }

    void listenerFailed(String callback, long token, Throwable e) {
        log.error("Leadership listener failed in {} (fencing token {}) of {}", callback, token, name, e);
    }

    void waitFailed(String what, Duration timeout, Throwable e) {
        if (e == null) {
            log.warn("{}: {} did not finish within {}", name, what, timeout);
        } else {
            log.warn("{}: {} failed", name, what, e);
        }
    }

    /** What an operator can do about a failure of this kind. */
    private String hint(LeaseStoreException.Kind kind) {
        return switch (kind) {
            case FORBIDDEN ->
                "Grant the missing permission (the message names the rule) to this candidate's service account.";
            case TIMEOUT ->
                "No answer within request-timeout (" + settings.requestTimeout()
                        + "): check the load of the store (API server) and the network path to it.";
            case UNAVAILABLE ->
                "The store (API server) cannot be reached: check DNS, network policies and that it is up.";
            case SERVER_ERROR -> "The store (API server) answered with an error: check its logs.";
            case CONFLICT -> "Another writer changed the lease.";
            case OTHER -> "Unexpected failure; the stack trace follows.";
        };
    }
}
