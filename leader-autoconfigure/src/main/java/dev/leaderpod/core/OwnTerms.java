package dev.leaderpod.core;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;

/**
 * How a candidate recognises its own terms in the lease: by its identity <em>and</em> the acquire time it wrote when
 * the term started, unique to it and kept to the microsecond, the precision every store keeps (docs/design.md, "One
 * identity, one candidate"). A record with our identity but another acquire time was written by someone else.
 * Thread-safe: a stopping elector releases from an I/O thread.
 */
final class OwnTerms {

    /** Acquire times remembered: the current term's, and earlier attempts whose answer may have been lost. */
    private static final int REMEMBERED = 4;

    private final String identity;
    private final Deque<Instant> acquireTimes = new ArrayDeque<>();

    OwnTerms(String identity) {
        this.identity = identity;
    }

    /** A new term's start time, after every earlier one of this candidate; remembered as ours from now on. */
    synchronized Instant startTime(Instant wallNow) {
        Instant now = wallNow.truncatedTo(ChronoUnit.MICROS);
        Instant last = acquireTimes.peekFirst();
        Instant start = (last != null && !now.isAfter(last)) ? last.plus(1, ChronoUnit.MICROS) : now;
        acquireTimes.addFirst(start);
        while (acquireTimes.size() > REMEMBERED) {
            acquireTimes.removeLast();
        }
        return start;
    }

    /** Whether {@code record} is a term this candidate wrote (or tried to write), current or earlier. */
    synchronized boolean wrote(LeaseRecord record) {
        return record.isHeldBy(identity) && acquireTimes.contains(record.acquireTime());
    }

    /** Whether {@code record} is {@code term} itself. */
    boolean isTerm(LeaseRecord record, LeadershipTerm term) {
        return record.isHeldBy(identity) && Objects.equals(record.acquireTime(), term.acquiredAt());
    }
}
