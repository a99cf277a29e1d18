package dev.leaderpod.core;

import java.time.Duration;

/**
 * What one candidate knows of the lease and since when, by its own monotonic clock — the basis of every expiry
 * decision (docs/design.md, "Expiry by local observation" and "Third parties cannot make two leaders"). Confined to
 * the election thread, except the fields {@link ElectionSnapshot} reads.
 */
final class ObservedLease {

    /** The duration a release writes: a lease with no holder and at most this duration was given up by its holder. */
    static final Duration RELEASED_DURATION = Duration.ofSeconds(1);

    private final ElectionClock clock;
    private final Duration ownDuration;

    private volatile VersionedLease lease;
    private volatile long changedAtNanos;
    private boolean absent;
    /** Whether {@link #lease} is known current: read since the watch (re)started, and kept so by it. */
    private boolean current;
    /** Highest fencing token ever seen or written, so tokens keep growing whatever happens to the lease. */
    private long highestToken = -1;
    /** Duration of the last held record seen: an absent lease is waited out for at least as long. */
    private Duration lastHeldDuration = Duration.ZERO;
    /** Whether the store said, when the lease was last read absent, that it never existed: a hint, see the elector. */
    private boolean neverExisted;

    /**
     * Tokens above this are not plausible terms (2^62 transitions never happen) but a hand edit: they are ignored
     * rather than allowed to overflow into negative, repeating tokens.
     */
    static final long MAX_PLAUSIBLE_TOKEN = 1L << 62;

    ObservedLease(ElectionClock clock, Duration ownDuration) {
        this.clock = clock;
        this.ownDuration = ownDuration;
    }

    /** The lease as last read, watched or written, or null (never seen, or absent). */
    VersionedLease lease() {
        return lease;
    }

    /** When the lease (or its absence) was first seen as it is now. */
    long changedAtNanos() {
        return changedAtNanos;
    }

    boolean absent() {
        return absent;
    }

    boolean current() {
        return current;
    }

    void current(boolean current) {
        this.current = current;
    }

    /**
     * Records a lease that was read or watched; the expiry clock restarts only when its version or content changed.
     *
     * @return whether it changed
     */
    boolean see(VersionedLease seen) {
        LeaseRecord record = seen.record();
        raiseHighestToken(record);
        if (record.isHeld() && record.leaseDuration() != null) {
            lastHeldDuration = record.leaseDuration();
        }
        VersionedLease previous = lease;
        boolean changed = absent
                || previous == null
                || !previous.version().equals(seen.version())
                || !previous.record().equals(record);
        if (changed) {
            lease = seen;
            changedAtNanos = clock.nanoTime();
        }
        absent = false;
        neverExisted = false;
        return changed;
    }

    /**
     * Records that the lease is absent. The expiry clock starts at the first sight of the absence, as for a record that
     * stopped changing; a store that proves the lease never existed lets it be created at once.
     *
     * @return whether the lease was seen before (so it was deleted)
     */
    boolean seeAbsent(boolean neverExisted) {
        boolean deleted = !absent && lease != null;
        if (!absent || lease != null) {
            absent = true;
            lease = null;
            changedAtNanos = clock.nanoTime();
        }
        this.neverExisted = neverExisted;
        return deleted;
    }

    /**
     * Whether the last read found the lease absent and the store said it never existed. Only a hint: by the time it
     * is acted on the lease may have been created (and deleted); the elector creates on it only with the store's
     * atomic {@link LeaseStore#createIfNeverExisted}.
     */
    boolean neverExisted() {
        return absent && neverExisted;
    }

    void forgetNeverExisted() {
        neverExisted = false;
    }

    /** Records this candidate's own successful write, sent at {@code sentAtNanos}. */
    void seeOwnWrite(VersionedLease written, long sentAtNanos) {
        raiseHighestToken(written.record());
        lease = written;
        absent = false;
        neverExisted = false;
        changedAtNanos = sentAtNanos;
    }

    /** Whether {@code record} has not changed for its expiry time by this candidate's clock. */
    boolean expired(LeaseRecord record) {
        return clock.nanoTime() - changedAtNanos >= expiryNanos(record);
    }

    /**
     * How long a record must stay unchanged before it counts as expired: the longer of the record's duration and
     * ours, so that a duration shortened by a third party (or missing, zero, negative) never shortens the wait.
     */
    long expiryNanos(LeaseRecord record) {
        Duration duration = record.leaseDuration();
        return (duration == null || duration.compareTo(ownDuration) < 0) ? ownDuration.toNanos() : duration.toNanos();
    }

    /** Nanoseconds until the observed record (or absence) expires; negative once it has. */
    long untilExpiryNanos() {
        long wait = absent ? absenceWaitNanos() : lease == null ? 0 : expiryNanos(lease.record());
        return changedAtNanos + wait - clock.nanoTime();
    }

    /**
     * How long a candidate that created a missing lease holds it before leading: a lease duration, or the duration of the
     * last held record seen if longer (its holder may have had longer timings).
     */
    long absenceWaitNanos() {
        return Math.max(ownDuration.toNanos(), lastHeldDuration.toNanos());
    }

    /** The highest plausible token seen or written (-1 if none). */
    long highestToken() {
        return highestToken;
    }

    /** The first token of a new lease: above every token seen (0 if none). */
    long firstToken() {
        return highestToken + 1;
    }

    /** The token of a new term over {@code record}: above the record's and above every token seen or written. */
    long nextToken(LeaseRecord record) {
        long recordToken = plausible(record) ? record.transitionsOrZero() : 0;
        return Math.max(recordToken, highestToken) + 1;
    }

    /** Whether the record's token is a plausible term rather than a hand edit near the 64-bit limit. */
    static boolean plausible(LeaseRecord record) {
        return record.transitionsOrZero() <= MAX_PLAUSIBLE_TOKEN;
    }

    private void raiseHighestToken(LeaseRecord record) {
        if (plausible(record)) {
            highestToken = Math.max(highestToken, record.transitionsOrZero());
        }
    }

    /** A lease its holder gave up: no holder, and the 1 s duration of a release (ours, client-go's, fabric8's). */
    static boolean isRelease(LeaseRecord record) {
        return !record.isHeld()
                && record.leaseDuration() != null
                && record.leaseDuration().compareTo(RELEASED_DURATION) <= 0;
    }
}
