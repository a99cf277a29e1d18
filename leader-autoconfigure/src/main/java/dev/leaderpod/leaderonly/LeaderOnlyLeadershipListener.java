package dev.leaderpod.leaderonly;

import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipListenerOrder;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.RevocationReason;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.Lifecycle;
import org.springframework.context.Phased;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.Ordered;

/**
 * Starts {@code @LeaderOnly} lifecycle beans when a term starts; when it ends, stops them and waits for the
 * {@code @LeaderOnly} calls of the term, both within one {@code leader.drain-timeout}, then warns about what is
 * still running. Runs on the elector's event thread ("Events and user code never run on the election thread" in the
 * design notes), in the order {@link LeadershipListenerOrder} states: beans run when {@code OnGrantedEvent} is
 * published, and the term's work is over when {@code OnRevokedEvent} is ("Ordered graceful shutdown").
 *
 * <p>One listener serves every election of the application: a term's beans are those of the term's election, and
 * its drain waits for the calls of that term only.
 *
 * <p>The beans are user code: whatever one of them throws, even an {@link Error}, the others are still started or
 * stopped and the calls still drained. A {@link VirtualMachineError} is rethrown once all that is done, as
 * the election's composite listener does.
 */
public final class LeaderOnlyLeadershipListener implements LeadershipListener, Ordered {

    private static final Logger log = LoggerFactory.getLogger(LeaderOnlyLeadershipListener.class);

    /** A gated lifecycle bean and its name. */
    public record GatedLifecycle(String name, Lifecycle bean) {
        int phase() {
            return bean instanceof Phased phased ? phased.getPhase() : 0;
        }
    }

    private final InFlightCalls calls;
    private final Function<LeadershipTerm, List<GatedLifecycle>> lifecycleBeans;
    private final Duration drainTimeout;

    /**
     * @param calls the running {@code @LeaderOnly} calls
     * @param lifecycleBeans the gated lifecycle beans of a term's election
     * @param drainTimeout how long the end of a term waits for its beans to stop and its calls to return
     */
    public LeaderOnlyLeadershipListener(
            InFlightCalls calls, Function<LeadershipTerm, List<GatedLifecycle>> lifecycleBeans, Duration drainTimeout) {
        this.calls = calls;
        this.lifecycleBeans = lifecycleBeans;
        this.drainTimeout = drainTimeout;
    }

    @Override
    public void onStartedLeading(LeadershipTerm term) {
        VirtualMachineError fatal = null;
        for (GatedLifecycle gated : byPhase(term, false)) {
            try {
                if (!gated.bean().isRunning()) {
                    // Through the proxy: start() is itself gated, so a term that already lapsed starts nothing.
                    gated.bean().start();
                }
            } catch (Throwable e) {
                log.error("Could not start @LeaderOnly bean '{}' for term {}", gated.name(), term.fencingToken(), e);
                fatal = firstFatal(fatal, e);
            }
        }
        rethrow(fatal);
    }

    @Override
    public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
        long deadline = System.nanoTime() + drainTimeout.toNanos();
        VirtualMachineError fatal = null;
        try {
            for (GatedLifecycle gated : byPhase(term, true)) {
                try {
                    stop(gated, deadline);
                } catch (Throwable e) {
                    log.error("Could not stop @LeaderOnly bean '{}'", gated.name(), e);
                    fatal = firstFatal(fatal, e);
                }
            }
        } finally {
            // Even if the beans could not be listed: OnRevokedEvent must not be published while the term's calls run.
            drain(term, reason, deadline);
        }
        rethrow(fatal);
    }

    private void drain(LeadershipTerm term, RevocationReason reason, long deadline) {
        List<InFlightCalls.Call> left = calls.awaitCompletion(term, remaining(deadline));
        if (!left.isEmpty()) {
            log.warn(
                    "Leadership of '{}' ended ({}, fencing token {}) but {} @LeaderOnly call(s) still run after"
                            + " leader.drain-timeout ({}); they may overlap with the next leader's work: {}",
                    term.leaseName(),
                    reason,
                    term.fencingToken(),
                    left.size(),
                    drainTimeout,
                    left.stream().map(Object::toString).collect(Collectors.joining(", ")));
        }
    }

    private void stop(GatedLifecycle gated, long deadline) {
        try {
            if (!gated.bean().isRunning()) {
                return;
            }
            if (gated.bean() instanceof SmartLifecycle smart) {
                CountDownLatch stopped = new CountDownLatch(1);
                smart.stop(stopped::countDown);
                if (!stopped.await(remaining(deadline).toNanos(), TimeUnit.NANOSECONDS)) {
                    log.warn(
                            "@LeaderOnly bean '{}' did not finish stopping within leader.drain-timeout ({})",
                            gated.name(),
                            drainTimeout);
                }
            } else {
                gated.bean().stop();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static VirtualMachineError firstFatal(VirtualMachineError fatal, Throwable failure) {
        return fatal == null && failure instanceof VirtualMachineError error ? error : fatal;
    }

    private static void rethrow(VirtualMachineError fatal) {
        if (fatal != null) {
            throw fatal;
        }
    }

    private List<GatedLifecycle> byPhase(LeadershipTerm term, boolean descending) {
        Comparator<GatedLifecycle> order = Comparator.comparingInt(GatedLifecycle::phase);
        return lifecycleBeans.apply(term).stream()
                .sorted(descending ? order.reversed() : order)
                .toList();
    }

    private static Duration remaining(long deadlineNanos) {
        return Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime()));
    }

    @Override
    public int getOrder() {
        return LeadershipListenerOrder.LEADER_ONLY;
    }
}
