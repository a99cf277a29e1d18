package dev.leaderpod.leaderonly;

import dev.leaderpod.annotation.LeaderOnly.OnFollower;
import dev.leaderpod.annotation.LeaderOnlyContext;
import dev.leaderpod.annotation.LeaderOnlyObserver;
import dev.leaderpod.annotation.NotLeaderException;
import dev.leaderpod.core.Leadership;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.leaderonly.LeaderOnlyMethods.FollowerValue;
import dev.leaderpod.leaderonly.LeaderOnlyMethods.Gated;
import dev.leaderpod.leaderonly.LeaderOnlyMethods.Kind;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Supplier;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.aop.support.AopUtils;
import org.springframework.core.MethodClassKey;

/**
 * Runs a {@code @LeaderOnly} call only if this instance leads when the call starts, on the thread that runs it.
 * The check asks {@link Leadership#currentTerm()}, which is evaluated against the renew deadline at call time (docs/design.md, "Step down before anyone can take over"),
 * so a call never starts after the deadline even if the revocation has not been delivered yet. A call that runs
 * is tracked in {@link InFlightCalls} with its term and has the term bound in {@link LeaderOnlyContext}.
 */
public final class LeaderOnlyInterceptor implements MethodInterceptor {

    private static final Logger log = LoggerFactory.getLogger(LeaderOnlyInterceptor.class);

    private final Supplier<? extends Leadership> leadershipSupplier;
    private final Supplier<List<LeaderOnlyObserver>> observersSupplier;
    private final InFlightCalls calls = new InFlightCalls();
    private final ConcurrentMap<MethodClassKey, Optional<Gated>> resolved = new ConcurrentHashMap<>();

    // Resolved at the first call, so that the advisor does not make the elector and its store early beans.
    private volatile Leadership leadership;
    private volatile List<LeaderOnlyObserver> observers;

    /**
     * @param leadership the election to ask; called once, at the first call
     * @param observers told of every skipped call; called once, at the first skipped call
     */
    public LeaderOnlyInterceptor(
            Supplier<? extends Leadership> leadership, Supplier<List<LeaderOnlyObserver>> observers) {
        this.leadershipSupplier = leadership;
        this.observersSupplier = observers;
    }

    InFlightCalls calls() {
        return calls;
    }

    @Override
    public Object invoke(MethodInvocation invocation) throws Throwable {
        Gated gated = gated(invocation);
        if (gated == null) {
            return invocation.proceed();
        }
        if (gated.kind() == Kind.AUTO_STARTUP_OFF) {
            return Boolean.FALSE;
        }
        Leadership view = leadership();
        InFlightCalls.Call call = calls.enter(gated); // before the check: see InFlightCalls
        LeadershipTerm term;
        try {
            term = view.currentTerm().orElse(null);
        } catch (RuntimeException | Error e) {
            calls.exit(call);
            throw e;
        }
        if (term == null) {
            calls.exit(call);
            return onFollower(gated, view);
        }
        call.startedUnder(term);
        try (LeaderOnlyContext.Scope scope = LeaderOnlyContext.bind(term)) {
            return invocation.proceed();
        } finally {
            calls.exit(call);
        }
    }

    private Gated gated(MethodInvocation invocation) {
        Object target = invocation.getThis();
        Class<?> targetClass = target != null
                ? AopUtils.getTargetClass(target)
                : invocation.getMethod().getDeclaringClass();
        MethodClassKey key = new MethodClassKey(invocation.getMethod(), targetClass);
        Optional<Gated> gated = resolved.get(key);
        if (gated == null) {
            gated = resolved.computeIfAbsent(
                    key, ignored -> LeaderOnlyMethods.resolve(invocation.getMethod(), targetClass));
        }
        return gated.orElse(null);
    }

    private Object onFollower(Gated gated, Leadership view) {
        notifyObservers(gated);
        if (gated.onFollower() == OnFollower.THROW) {
            String leader = lastSeenLeader(view);
            throw new NotLeaderException(
                    gated.describe() + " runs only on the leader of '" + view.leaseName() + "', and "
                            + view.identity() + " does not lead it"
                            + (leader != null ? " (last seen leader: " + leader + ")" : " (no leader seen)"),
                    gated.method(),
                    leader);
        }
        if (gated.followerValue() == FollowerValue.NONE) {
            // Refused at start-up; reaching this means the bean escaped the check (e.g. registered by hand).
            throw new NotLeaderException(
                    gated.describe() + " was skipped (not the leader) but returns a primitive, so there is no value"
                            + " to return",
                    gated.method(),
                    lastSeenLeader(view));
        }
        if (log.isDebugEnabled()) {
            log.debug("Skipped {}: {} does not lead '{}'", gated.describe(), view.identity(), view.leaseName());
        }
        return gated.followerValue().value();
    }

    private void notifyObservers(Gated gated) {
        List<LeaderOnlyObserver> resolvedObservers = observers;
        if (resolvedObservers == null) {
            resolvedObservers = List.copyOf(observersSupplier.get());
            observers = resolvedObservers;
        }
        for (LeaderOnlyObserver observer : resolvedObservers) {
            try {
                observer.onSkipped(gated.targetClass(), gated.method());
            } catch (RuntimeException | LinkageError | AssertionError e) { // never skip the other observers
                log.warn("@LeaderOnly observer {} failed for {}", observer, gated.describe(), e);
            }
        }
    }

    private Leadership leadership() {
        Leadership view = leadership;
        if (view == null) {
            view = leadershipSupplier.get();
            leadership = view;
        }
        return view;
    }

    private static String lastSeenLeader(Leadership view) {
        return view.observedLeader().orElse(null);
    }
}
