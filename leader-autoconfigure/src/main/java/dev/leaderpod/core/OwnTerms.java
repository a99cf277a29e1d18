package dev.leaderpod.core;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;

/**
 * How a candidate recognises its own writes in the lease (docs/design.md, "One identity, one candidate").
 *
 * <p>The <em>current</em> term is recognised by the identity and the acquire time this candidate wrote when the term
 * started (unique to it, kept to the microsecond, the precision every store keeps). An <em>earlier</em> term may be
 * taken back at once only if the record is exactly a write of ours: the version a write of ours returned, or, for a
 * write whose answer never came, a record with its acquire time within a renew deadline of sending it. Anything else
 * with our identity — a second process with it, a backup restored by hand — is waited out like any other holder's.
 * Thread-safe: a stopping elector releases from an I/O thread.
 */
final class OwnTerms {

    /** Writes remembered: enough for the current term and a few attempts whose answer was lost. */
    private static final int REMEMBERED = 8;

    /** A write of ours: landed with {@code version}, or (version null) sent at {@code sentAtNanos} with no answer. */
    private record Write(Instant acquireTime, String version, long sentAtNanos) {}

    private final String identity;
    private final long renewDeadlineNanos;
    private final Deque<Write> writes = new ArrayDeque<>();
    /** Acquire times of leases this candidate created whose term has not started yet (they are held first). */
    private final Deque<Instant> unstartedCreates = new ArrayDeque<>();

    private Instant lastStart;

    OwnTerms(String identity, long renewDeadlineNanos) {
        this.identity = identity;
        this.renewDeadlineNanos = renewDeadlineNanos;
    }

    /** A new term's start time, after every earlier one of this candidate. */
    synchronized Instant startTime(Instant wallNow) {
        Instant now = wallNow.truncatedTo(ChronoUnit.MICROS);
        lastStart = (lastStart != null && !now.isAfter(lastStart)) ? lastStart.plus(1, ChronoUnit.MICROS) : now;
        return lastStart;
    }

    /** A write of the term started at {@code acquireTime} was sent; until it is answered, it may have landed. */
    synchronized void sent(Instant acquireTime, long sentAtNanos) {
        remember(new Write(acquireTime, null, sentAtNanos));
    }

    /** A write of ours landed as {@code written}. */
    synchronized void landed(VersionedLease written) {
        writes.removeIf(write -> write.version() == null
                && write.acquireTime().equals(written.record().acquireTime()));
        remember(new Write(written.record().acquireTime(), written.version(), 0));
    }

    /** A create of a lease whose term would start at {@code acquireTime} was sent. */
    synchronized void sentCreate(Instant acquireTime) {
        unstartedCreates.addFirst(acquireTime);
        while (unstartedCreates.size() > REMEMBERED) {
            unstartedCreates.removeLast();
        }
    }

    /** The term started at {@code acquireTime} has started (after its hold, for a created lease). */
    synchronized void started(Instant acquireTime) {
        unstartedCreates.remove(acquireTime);
    }

    /** Whether {@code record} is a lease this candidate created whose term has not started: it must be held first. */
    synchronized boolean unstartedCreate(LeaseRecord record) {
        return record.isHeldBy(identity) && unstartedCreates.contains(record.acquireTime());
    }

    /** A write that would have started the term at {@code acquireTime} conflicted: it did not land. */
    synchronized void lost(Instant acquireTime) {
        writes.removeIf(write -> write.acquireTime().equals(acquireTime));
        unstartedCreates.remove(acquireTime);
    }

    /** Whether {@code lease} is exactly a write of ours (see the class comment), current or earlier. */
    synchronized boolean wrote(VersionedLease lease, long nowNanos) {
        LeaseRecord record = lease.record();
        if (!record.isHeldBy(identity)) {
            return false;
        }
        for (Write write : writes) {
            if (!write.acquireTime().equals(record.acquireTime())) {
                continue;
            }
            if (write.version() != null
                    ? write.version().equals(lease.version())
                    : nowNanos - write.sentAtNanos() < renewDeadlineNanos) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code record} is {@code term} itself. */
    boolean isTerm(LeaseRecord record, LeadershipTerm term) {
        return record.isHeldBy(identity) && Objects.equals(record.acquireTime(), term.acquiredAt());
    }

    private void remember(Write write) {
        writes.addFirst(write);
        while (writes.size() > REMEMBERED) {
            writes.removeLast();
        }
    }
}
