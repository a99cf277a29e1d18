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
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.aop.SpringProxy;
import org.springframework.aop.TargetClassAware;
import org.springframework.aop.support.AopUtils;
import org.springframework.util.ClassUtils;

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
    /** A resolution: the method is not gated. */
    private static final Object NOT_GATED = new Object();
    /** A resolution by the target's own class: its instances are each asked for their target class. */
    private static final Object PER_TARGET = new Object();

    private final Function<String, ? extends Leadership> elections;
    private final Supplier<List<LeaderOnlyObserver>> observersSupplier;
    private final InFlightCalls calls = new InFlightCalls();
    /** Resolutions by method and the target's own class: what a call looks up. */
    private volatile GateTable byClass = new GateTable(16);
    /** Resolutions by method and target class, each made once: what {@link #byClass} is filled from. */
    private volatile GateTable byTargetClass = new GateTable(16);

    private final ClassValue<Object> resolutionLocks = new ClassValue<>() {
        @Override
        protected Object computeValue(Class<?> type) {
            return new Object();
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
        Method method = invocation.getMethod();
        Object target = invocation.getThis();
        Object found;
        if (target == null) {
            found = onTargetClass(method, method.getDeclaringClass());
        } else {
            found = byClass.find(method, target.getClass());
            if (found == null) {
                found = resolveByClass(method, target.getClass());
            }
            if (found == PER_TARGET) {
                found = onTargetClass(method, AopUtils.getTargetClass(target));
            }
        }
        return found == NOT_GATED ? null : (Gate) found;
    }

    /**
     * What {@code method} does on targets whose class is {@code key}: what it does on the class
     * {@link AopUtils#getTargetClass} tells for any instance of {@code key} (the superclass of a CGLIB proxy class),
     * unless {@code key} is a {@link TargetClassAware} class (a proxy class, shared by proxies of different targets),
     * which is {@link #PER_TARGET}: each target is asked.
     */
    private Object resolveByClass(Method method, Class<?> key) {
        Object found;
        if (TargetClassAware.class.isAssignableFrom(key)) {
            found = PER_TARGET;
        } else {
            boolean cglibProxy =
                    SpringProxy.class.isAssignableFrom(key) && key.getName().contains(ClassUtils.CGLIB_CLASS_SEPARATOR);
            found = onTargetClass(method, cglibProxy ? key.getSuperclass() : key);
        }
        synchronized (this) {
            Object existing = byClass.find(method, key);
            if (existing != null) {
                return existing;
            }
            byClass = byClass.with(method, key, found);
        }
        return found;
    }

    /**
     * What {@code method} does on {@code targetClass}, resolved once per method and target class, its election
     * included. The resolution asks the election, which may wait for locks of the application's (the elections' own
     * declaration, bean creation): it runs under a lock of {@code targetClass} only, so that first calls of other
     * classes never wait for it, and the tables are changed under the interceptor's lock, which calls out to nothing.
     */
    private Object onTargetClass(Method method, Class<?> targetClass) {
        Object found = byTargetClass.find(method, targetClass);
        if (found != null) {
            return found;
        }
        synchronized (resolutionLocks.get(targetClass)) {
            found = byTargetClass.find(method, targetClass);
            if (found != null) {
                return found;
            }
            found = resolution(method, targetClass);
            synchronized (this) {
                // A resolution made meanwhile on this thread (the election's own first call, re-entrant) stands.
                Object existing = byTargetClass.find(method, targetClass);
                if (existing != null) {
                    return existing;
                }
                byTargetClass = byTargetClass.with(method, targetClass, found);
            }
            return found;
        }
    }

    private Object resolution(Method method, Class<?> targetClass) {
        return LeaderOnlyMethods.resolve(method, targetClass)
                .<Object>map(
                        gated -> new Gate(gated, gated.kind() == Kind.GATED ? elections.apply(gated.election()) : null))
                .orElse(NOT_GATED);
    }

    /**
     * A gated method with the election it follows, resolved once: a call finds both with no lookup by name.
     *
     * @param election null for {@link Kind#AUTO_STARTUP_OFF}, which asks no election
     */
    private record Gate(Gated gated, Leadership election) {}

    /**
     * The resolved methods, by method and target class, compared by identity: proxies pass the same {@link Method}
     * object on every call, so a call costs two identity hashes and, almost always, one probe, with no allocation and no
     * {@code Method.equals} (a class-keyed map before it cost more than the rest of the call: see
     * {@code benchmarks/README.md}, scenario 4). Immutable, replaced as a whole under the interceptor's lock (copy on
     * write); open addressing, at most half full. It holds the methods and classes called through the interceptor, as
     * the application context that owns the interceptor holds its beans.
     */
    private static final class GateTable {
        private final Entry[] entries;
        private final int size;

        private record Entry(Method method, Class<?> targetClass, Object gate) {}

        GateTable(int capacity) {
            this(new Entry[capacity], 0);
        }

        private GateTable(Entry[] entries, int size) {
            this.entries = entries;
            this.size = size;
        }

        /** The resolution of {@code method} on {@code targetClass}, or null if there is none yet. */
        Object find(Method method, Class<?> targetClass) {
            Entry[] table = entries;
            int mask = table.length - 1;
            for (int i = slot(method, targetClass) & mask; ; i = (i + 1) & mask) {
                Entry entry = table[i];
                if (entry == null) {
                    return null;
                }
                if (entry.method == method && entry.targetClass == targetClass) {
                    return entry.gate;
                }
            }
        }

        GateTable with(Method method, Class<?> targetClass, Object gate) {
            int capacity = entries.length;
            while ((size + 1) * 2 > capacity) {
                capacity *= 2;
            }
            Entry[] table = new Entry[capacity];
            for (Entry entry : entries) {
                if (entry != null) {
                    put(table, entry);
                }
            }
            put(table, new Entry(method, targetClass, gate));
            return new GateTable(table, size + 1);
        }

        /** Both identities: one method called on beans of many classes spreads over the table. */
        private static int slot(Method method, Class<?> targetClass) {
            return System.identityHashCode(method) * 31 + System.identityHashCode(targetClass);
        }

        private static void put(Entry[] table, Entry entry) {
            int mask = table.length - 1;
            int i = slot(entry.method, entry.targetClass) & mask;
            while (table[i] != null) {
                i = (i + 1) & mask;
            }
            table[i] = entry;
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
