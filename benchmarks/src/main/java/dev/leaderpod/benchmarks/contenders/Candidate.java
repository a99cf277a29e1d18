package dev.leaderpod.benchmarks.contenders;

import dev.leaderpod.benchmarks.support.FaultProxy;

/** One member of an election, whichever implementation runs it. */
public interface Candidate extends AutoCloseable {

    String identity();

    /** The proxy between this candidate and the API server; {@code null} for a store that needs no server. */
    FaultProxy proxy();

    /** Joins the election. */
    void start();

    /** Whether this candidate leads, as user code sees it at this moment. */
    boolean isLeader();

    /**
     * In one read: the current term's identifier (our fencing token; a count of grants for the others) if this
     * candidate leads at this moment, else -1.
     */
    long currentTermId();

    /** The application stops normally: the implementation's own graceful shutdown (release, revoke, ...). */
    void stopGracefully();

    /**
     * Spring's {@code context.stop()} (before a CRaC checkpoint, say): the candidate leaves the election as it does
     * on a graceful stop, but its objects stay, to be started again by {@link #contextStart()}.
     */
    default void contextStop() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot be stopped and started");
    }

    /** Spring's {@code context.start()} after {@link #contextStop()}: the same objects rejoin the election. */
    default void contextStart() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot be stopped and started");
    }

    /** How many elections this candidate takes part in: 1 unless it runs several ({@link SpreadCandidate}). */
    default int elections() {
        return 1;
    }

    /** Whether this candidate leads election {@code election} (0 to {@link #elections()} − 1) at this moment. */
    default boolean isLeader(int election) {
        if (election != 0) {
            throw new IndexOutOfBoundsException("one election only: " + election);
        }
        return isLeader();
    }

    /** As {@link #currentTermId()}, for election {@code election} (0 to {@link #elections()} − 1). */
    default long currentTermId(int election) {
        if (election != 0) {
            throw new IndexOutOfBoundsException("one election only: " + election);
        }
        return currentTermId();
    }

    /** Cuts the candidate off the API server for good, as a crashed or partitioned node; no release. */
    void crash();

    /** Frees whatever is left, quickly and without waiting for the API server. */
    @Override
    void close();
}
