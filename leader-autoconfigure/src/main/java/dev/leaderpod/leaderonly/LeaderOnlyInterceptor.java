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
import java.lang.reflect.Method;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.aop.support.AopUtils;

/**
 * Runs a {@code @LeaderOnly} call only if this instance leads when the call starts, on the thread that runs it.
 * The check asks {@link Leadership#currentTerm()}, which is evaluated against the renew deadline at call time (docs/design.md, "Step down before anyone can take over"),
 * so a call never starts after the deadline even if the revocation has not been delivered yet. A call that runs
 * is tracked in {@link InFlightCalls} with its term and has the term bound in {@link LeaderOnlyContext}. Each
 * method follows its own election ({@code @LeaderOnly("reports")}), resolved with the method, once: the term checked
 * and bound is that election's.
 */
public final class LeaderOnlyInterceptor implements MethodInterceptor {

    private static final Logger log = LoggerFactory.getLogger(LeaderOnlyInterceptor.class);

    private final Function<String, ? extends Leadership> elections;
    private final Supplier<List<LeaderOnlyObserver>> observersSupplier;
    private final InFlightCalls calls = new InFlightCalls();
    private final ClassValue<TargetClassMethods> resolved = new ClassValue<>() {
        @Override
        protected TargetClassMethods computeValue(Class<?> targetClass) {
            return new TargetClassMethods(targetClass, elections);
        }
    };

    // Resolved at the first skipped call.
    private volatile List<LeaderOnlyObserver> observers;

    /**
     * @param elections the election of each name ({@code ""}: the default election); asked once per method and
     *     target class, at the method's first call, so that the advisor does not make the electors and their store
     *     early beans
     * @param observers told of every skipped call; called once, at the first skipped call
     */
    public LeaderOnlyInterceptor(
            Function<String, ? extends Leadership> elections, Supplier<List<LeaderOnlyObserver>> observers) {
        this.elections = elections;
        this.observersSupplier = observers;
    }

    InFlightCalls calls() {
        return calls;
    }

    @Override
    public Object invoke(MethodInvocation invocation) throws Throwable {
        Gate gate = gate(invocation);
        if (gate == null) {
            return invocation.proceed();
        }
        Gated gated = gate.gated();
        if (gated.kind() == Kind.AUTO_STARTUP_OFF) {
            return Boolean.FALSE;
        }
        Leadership view = gate.election();
        CallerThread caller = CallerThread.current();
        InFlightCalls.Call call = calls.enter(caller, gated); // before the check: see InFlightCalls
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
        LeadershipTerm outer = caller.boundTerm(); // LeaderOnlyContext.bind's work, without a second lookup
        caller.bindTerm(term);
        try {
            return invocation.proceed();
        } finally {
            caller.bindTerm(outer);
            calls.exit(call);
        }
    }

    private Gate gate(MethodInvocation invocation) {
        Object target = invocation.getThis();
        Class<?> targetClass = target != null
                ? AopUtils.getTargetClass(target)
                : invocation.getMethod().getDeclaringClass();
        return resolved.get(targetClass).gate(invocation.getMethod());
    }

    /**
     * A gated method with the election it follows, resolved once: a call finds both with no lookup by name.
     *
     * @param election null for {@link Kind#AUTO_STARTUP_OFF}, which asks no election
     */
    private record Gate(Gated gated, Leadership election) {}

    /**
     * The resolution of the methods called on beans of one target class. Proxies pass the same {@link Method}
     * object on every call, so a lookup by identity in a copy-on-write map costs no allocation and no
     * {@code Method.equals}; a method seen for the first time (or a new {@code Method} object for it) is resolved
     * once under the lock, its election included.
     */
    private static final class TargetClassMethods {
        private static final Object NOT_GATED = new Object();

        private final Class<?> targetClass;
        private final Function<String, ? extends Leadership> elections;
        private volatile Map<Method, Object> byMethod = new IdentityHashMap<>();

        TargetClassMethods(Class<?> targetClass, Function<String, ? extends Leadership> elections) {
            this.targetClass = targetClass;
            this.elections = elections;
        }

        Gate gate(Method method) {
            Object found = byMethod.get(method);
            if (found == null) {
                found = resolve(method);
            }
            return found == NOT_GATED ? null : (Gate) found;
        }

        private synchronized Object resolve(Method method) {
            Object found = byMethod.get(method);
            if (found == null) {
                found = LeaderOnlyMethods.resolve(method, targetClass)
                        .<Object>map(gated ->
                                new Gate(gated, gated.kind() == Kind.GATED ? elections.apply(gated.election()) : null))
                        .orElse(NOT_GATED);
                Map<Method, Object> next = new IdentityHashMap<>(byMethod);
                next.put(method, found);
                byMethod = next;
            }
            return found;
        }
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

    private static String lastSeenLeader(Leadership view) {
        return view.observedLeader().orElse(null);
    }
}
