package dev.leaderpod.sample;

import dev.leaderpod.core.Leadership;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.RevocationReason;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.core.Ordered;
import org.springframework.stereotype.Component;

/**
 * Runs job work only under a current term, and makes the end of a term wait for a run in progress, so that the
 * next leader's run never overlaps this one: revocation listeners run before the lease is released.
 *
 * <p>{@code @LeaderOnly} does the same for the methods it gates (call-time check, in-flight tracking, drain on
 * revoke); this guard keeps the sample correct on its own, and costs nothing next to it.
 */
@Component
class JobGuard implements LeadershipListener, Ordered {

    private static final Logger log = LoggerFactory.getLogger(JobGuard.class);

    private final Leadership leadership;
    private final Duration drainTimeout;
    private final ReentrantLock running = new ReentrantLock();

    JobGuard(Leadership leadership, @Value("${leader.drain-timeout:10s}") Duration drainTimeout) {
        this.leadership = leadership;
        this.drainTimeout = drainTimeout;
    }

    /** Runs {@code work} with the current term; does nothing and returns false when this instance does not lead. */
    boolean runWhileLeading(Consumer<LeadershipTerm> work) {
        running.lock();
        try {
            Optional<LeadershipTerm> term = leadership.currentTerm(); // checked at call time (renew deadline)
            term.ifPresent(work);
            return term.isPresent();
        } finally {
            running.unlock();
        }
    }

    @Override
    public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
        try {
            if (running.tryLock(drainTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                running.unlock();
            } else {
                log.warn("A job run of term {} was still running after {}", term.fencingToken(), drainTimeout);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** First on revoke: drain before anything else lets go. */
    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }
}
