package dev.leaderpod.leaderonly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.core.Leadership;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.springframework.aop.framework.ProxyFactory;
import org.springframework.aop.support.AopUtils;

/**
 * An outsider's attack on how the interceptor finds what a call is (gated or not, and which election) from the
 * {@link Method} object and the target: the same method on many target classes, targets that are Spring proxies
 * (shared JDK proxy classes, opaque CGLIB proxies), many first calls at once, and the lock the first call of a
 * method resolves it under.
 *
 * <p>Every call here is made as a follower: a gated call is skipped (returns null) after asking its election, and the
 * election asked is recorded, so each call tells whether it was gated and under which election.
 */
class LeaderOnlyGateLookupAttackTest {

    private static final String RAN = ProxyCall.RAN;
    private static final String NOT_GATED = "(not gated)";

    /** Each election name asked of the elections function, with how many times it was asked. */
    private final Map<String, AtomicInteger> asked = new ConcurrentHashMap<>();

    private final Map<String, TestLeadership> leaderships = new ConcurrentHashMap<>();

    /** The election whose leadership the last call on this thread checked. */
    private final ThreadLocal<String> checked = new ThreadLocal<>();

    private final LeaderOnlyInterceptor interceptor = new LeaderOnlyInterceptor(this::election, List::of);

    // ---------------------------------------------------------------------------------------------------------------
    // Findings: each failed on the first version of the method table (one lock for all classes, one resolution per
    // raw class) and passes since its fix.
    // ---------------------------------------------------------------------------------------------------------------

    /**
     * The first call of a method resolves its election under a lock. Before, the lock was the target class's own:
     * a first call of class X waiting in its election (the elections function takes {@code LeaderElections}' monitor
     * and builds and starts an elector, or makes a bean) did not hold up the first call of another class. The first
     * version of the table made every first call of every class wait on the interceptor's one monitor, so a thread
     * that holds what X's election waits for and makes the first call of Y deadlocked with the thread resolving X.
     */
    @Test
    void aFirstCallWaitingInItsElectionDoesNotHoldUpTheFirstCallOfAnotherClass() throws Exception {
        Method work = Base.class.getMethod("work");
        ReentrantLock electionsLock = new ReentrantLock(); // stands for what the elections function waits for
        CountDownLatch xInElection = new CountDownLatch(1);
        CountDownLatch yHoldsLock = new CountDownLatch(1);
        LeaderOnlyInterceptor lockingInterceptor = new LeaderOnlyInterceptor(
                name -> {
                    if (name.equals("x")) {
                        xInElection.countDown();
                        try {
                            electionsLock.lockInterruptibly();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IllegalStateException("interrupted while waiting for the elections", e);
                        }
                        electionsLock.unlock();
                    }
                    return new TestLeadership();
                },
                List::of);
        CompletableFuture<Object> x = new CompletableFuture<>();
        CompletableFuture<Object> y = new CompletableFuture<>();
        Thread yThread = new Thread(
                () -> {
                    electionsLock.lock();
                    try {
                        yHoldsLock.countDown();
                        xInElection.await();
                        y.complete(lockingInterceptor.invoke(new ProxyCall(work, new YGated())));
                    } catch (Throwable e) {
                        y.completeExceptionally(e);
                    } finally {
                        electionsLock.unlock();
                    }
                },
                "first-call-of-Y");
        Thread xThread = new Thread(
                () -> {
                    try {
                        yHoldsLock.await();
                        x.complete(lockingInterceptor.invoke(new ProxyCall(work, new XGated())));
                    } catch (Throwable e) {
                        x.completeExceptionally(e);
                    }
                },
                "first-call-of-X");
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        yThread.start();
        xThread.start();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> y.isDone() || deadlocked(threads, yThread));

            assertThat(deadlocked(threads, yThread))
                    .as(
                            "the first call of Y (holding what X's election waits for) deadlocked with the first call"
                                    + " of X (waiting in its election): %s",
                            threadStates(threads, xThread, yThread))
                    .isFalse();
            assertThat(y.get(60, TimeUnit.SECONDS)).isNull(); // skipped: a follower
            assertThat(x.get(60, TimeUnit.SECONDS)).isNull();
        } finally {
            xThread.interrupt(); // breaks a deadlock: X's election gives up, its lock is released, Y then runs
            xThread.join(60_000);
            yThread.join(60_000);
        }
    }

    /**
     * The elections function is documented as asked "once per method and target class". The target class of an
     * opaque CGLIB proxy (a Spring proxy that is not {@code Advised}) is its superclass, so a method called on such a
     * proxy and on a bean of that superclass has one target class, and is resolved once. The first version of the table
     * resolved once per raw class: the election was asked again, and the call got another {@code Gate}.
     */
    @Test
    void theElectionIsAskedOncePerMethodAndTargetClassWhenATargetIsAnOpaqueClassProxy() throws Throwable {
        Method work = Base.class.getMethod("work");
        ProxyFactory factory = new ProxyFactory(new G0());
        factory.setProxyTargetClass(true);
        factory.setOpaque(true);
        Object opaqueProxy = factory.getProxy();
        assertThat(AopUtils.getTargetClass(opaqueProxy)).isEqualTo(G0.class); // the same target class as a G0

        assertThat(electionOf(work, new G0())).isEqualTo("e0");
        assertThat(electionOf(work, opaqueProxy)).isEqualTo("e0");

        assertThat(asked.get("e0"))
                .as("times the election of %s was asked", LeaderOnlyMethods.describe(G0.class, work))
                .hasValue(1);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Attacks that held: regression guards, passing on both.
    // ---------------------------------------------------------------------------------------------------------------

    /**
     * One {@link Method} object on many target classes: every entry has the same identity hash, so they all probe
     * the same run of the table, through two growths; each class keeps its own answer and its own election.
     */
    @Test
    void oneMethodOnManyClassesKeepsEachClassItsOwnElectionThroughGrowth() throws Throwable {
        Method work = Base.class.getMethod("work");
        Method other = Base.class.getMethod("other");
        Method toString = Object.class.getMethod("toString");

        for (int round = 0; round < 3; round++) { // the first round resolves, the next ones find
            for (int i = 0; i < TARGETS.size(); i++) {
                Object target = TARGETS.get(i);
                assertThat(electionOf(work, target))
                        .as("work on %s", target.getClass())
                        .isEqualTo(EXPECTED.get(i));
                assertThat(electionOf(other, target))
                        .as("other on %s", target.getClass())
                        .isEqualTo(EXPECTED.get(i));
                assertThat(electionOf(toString, target))
                        .as("toString on %s", target.getClass())
                        .isEqualTo(NOT_GATED); // a container method: never gated by the type
            }
        }
        for (int i = 0; i < GATED_NAMES.size(); i++) {
            assertThat(asked.get(GATED_NAMES.get(i))).as(GATED_NAMES.get(i)).hasValue(2); // work and other, once each
        }
    }

    /** Many first calls at once, of many methods on many classes: every answer right, every election asked once. */
    @Test
    void manyThreadsResolvingAtOnceLoseNoEntryAndResolveEachOnce() throws Exception {
        List<Method> methods =
                List.of(Base.class.getMethod("work"), Base.class.getMethod("other"), Base.class.getMethod("third"));
        int threadCount = 8;
        CountDownLatch start = new CountDownLatch(1);
        List<CompletableFuture<List<String>>> results = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < threadCount; t++) {
            int offset = t;
            CompletableFuture<List<String>> result = new CompletableFuture<>();
            results.add(result);
            threads.add(new Thread(() -> {
                try {
                    start.await();
                    List<String> seen = new ArrayList<>(Collections.nCopies(TARGETS.size() * methods.size(), null));
                    for (int n = 0; n < seen.size(); n++) {
                        int k = (n + offset * 7) % seen.size(); // each thread in its own order
                        seen.set(k, electionOf(methods.get(k % methods.size()), TARGETS.get(k / methods.size())));
                    }
                    result.complete(seen);
                } catch (Throwable e) {
                    result.completeExceptionally(e);
                }
            }));
        }
        threads.forEach(Thread::start);
        start.countDown();

        List<String> expected = new ArrayList<>();
        for (String election : EXPECTED) {
            for (int m = 0; m < methods.size(); m++) {
                expected.add(election);
            }
        }
        for (CompletableFuture<List<String>> result : results) {
            assertThat(result.get(60, TimeUnit.SECONDS)).isEqualTo(expected);
        }
        for (Thread thread : threads) {
            thread.join(60_000);
        }
        for (String name : GATED_NAMES) {
            assertThat(asked.get(name)).as(name).hasValue(methods.size());
        }
    }

    /**
     * Targets that are Spring proxies themselves: JDK proxies of one interface share their class whatever they stand
     * for, so each is asked for its target's class; an opaque JDK proxy tells nothing, its class is its target class;
     * an opaque CGLIB proxy's target class is its superclass.
     */
    @Test
    void targetsThatAreSpringProxiesAreResolvedOnTheClassTheyStandFor() throws Throwable {
        Method work = Work.class.getMethod("work");
        Object toGated = jdkProxy(new GatedWork(), false);
        Object toPlain = jdkProxy(new PlainWork(), false);
        Object opaqueToGated = jdkProxy(new GatedWork(), true);
        Object opaqueToPlain = jdkProxy(new PlainWork(), true);
        assertThat(toGated.getClass()).isSameAs(toPlain.getClass());
        assertThat(opaqueToGated.getClass()).isSameAs(opaqueToPlain.getClass());
        Method baseWork = Base.class.getMethod("work");
        Object opaqueG1 = cglibProxy(new G1(), true);
        Object opaqueP1 = cglibProxy(new P1(), true);
        Object advisedG1 = cglibProxy(new G1(), false);
        Object advisedP1 = cglibProxy(new P1(), false);

        for (int round = 0; round < 3; round++) {
            assertThat(electionOf(work, toGated)).isEqualTo("work");
            assertThat(electionOf(work, toPlain)).isEqualTo(NOT_GATED);
            assertThat(electionOf(work, opaqueToGated)).isEqualTo(NOT_GATED); // as AopUtils.getTargetClass tells
            assertThat(electionOf(work, opaqueToPlain)).isEqualTo(NOT_GATED);
            assertThat(electionOf(baseWork, opaqueG1)).isEqualTo("e1");
            assertThat(electionOf(baseWork, opaqueP1)).isEqualTo(NOT_GATED);
            assertThat(electionOf(baseWork, advisedG1)).isEqualTo("e1");
            assertThat(electionOf(baseWork, advisedP1)).isEqualTo(NOT_GATED);
            assertThat(electionOf(work, null)).isEqualTo(NOT_GATED); // the interface declares it, unannotated
            assertThat(electionOf(GatedWork.class.getMethod("work"), null)).isEqualTo("work");
        }
    }

    /** A call made through the interceptor's own proxies: a proxy in front of a proxy shared by two targets. */
    @Test
    void aProxyInFrontOfASharedProxyClassGatesByTheInnerTarget() throws Throwable {
        Work gated = outerProxy(jdkProxy(new GatedWork(), false));
        Work plain = outerProxy(jdkProxy(new PlainWork(), false));

        for (int round = 0; round < 3; round++) {
            checked.remove();
            assertThat(gated.work()).isNull();
            assertThat(checked.get()).isEqualTo("work");
            checked.remove();
            assertThat(plain.work()).isEqualTo(RAN);
            assertThat(checked.get()).isNull();
        }
    }

    /**
     * An election that makes a first call of its own, on the same thread, while the first call of another method is
     * resolved (the lock is re-entered): both resolutions are kept.
     */
    @Test
    void aResolutionMadeWhileAnotherIsResolvedOnTheSameThreadIsKept() throws Throwable {
        Method work = Base.class.getMethod("work");
        Method other = Base.class.getMethod("other");
        AtomicInteger outer = new AtomicInteger();
        AtomicInteger inner = new AtomicInteger();
        LeaderOnlyInterceptor[] self = new LeaderOnlyInterceptor[1];
        self[0] = new LeaderOnlyInterceptor(
                name -> {
                    if (name.equals("e2")) {
                        outer.incrementAndGet();
                        try {
                            assertThat(self[0].invoke(new ProxyCall(other, new G3())))
                                    .isNull();
                        } catch (Throwable e) {
                            throw new IllegalStateException(e);
                        }
                    } else {
                        inner.incrementAndGet();
                    }
                    return new TestLeadership();
                },
                List::of);

        for (int round = 0; round < 3; round++) {
            assertThat(self[0].invoke(new ProxyCall(work, new G2()))).isNull();
            assertThat(self[0].invoke(new ProxyCall(other, new G3()))).isNull();
        }
        assertThat(outer).hasValue(1);
        assertThat(inner).hasValue(1);
    }

    // ---------------------------------------------------------------------------------------------------------------

    private Leadership election(String name) {
        asked.computeIfAbsent(name, n -> new AtomicInteger()).incrementAndGet();
        return leaderships.computeIfAbsent(name, n -> {
            TestLeadership leadership = new TestLeadership(); // never leads: a gated call is skipped
            leadership.onCheck(() -> checked.set(n));
            return leadership;
        });
    }

    /** The election {@code method} called on {@code target} checked, or {@link #NOT_GATED} if it ran unchecked. */
    private String electionOf(Method method, Object target) throws Throwable {
        checked.remove();
        Object result = interceptor.invoke(new ProxyCall(method, target));
        String election = checked.get();
        if (election == null) {
            assertThat(result).as("an unchecked call runs").isEqualTo(RAN);
            return NOT_GATED;
        }
        assertThat(result).as("a follower skips").isNull();
        return election;
    }

    private static boolean deadlocked(ThreadMXBean threads, Thread thread) {
        long[] ids = threads.findDeadlockedThreads();
        return ids != null && LongStream.of(ids).anyMatch(id -> id == thread.getId());
    }

    private static String threadStates(ThreadMXBean threads, Thread... of) {
        StringBuilder text = new StringBuilder();
        for (Thread thread : of) {
            text.append(threads.getThreadInfo(new long[] {thread.getId()}, true, true)[0]);
        }
        return text.toString();
    }

    private static Object jdkProxy(Work target, boolean opaque) {
        ProxyFactory factory = new ProxyFactory(target);
        factory.setInterfaces(Work.class);
        factory.setOpaque(opaque);
        return factory.getProxy();
    }

    private static Object cglibProxy(Base target, boolean opaque) {
        ProxyFactory factory = new ProxyFactory(target);
        factory.setProxyTargetClass(true);
        factory.setOpaque(opaque);
        return factory.getProxy();
    }

    private Work outerProxy(Object inner) {
        ProxyFactory factory = new ProxyFactory(inner);
        factory.setInterfaces(Work.class);
        factory.addAdvice(interceptor);
        return (Work) factory.getProxy();
    }

    public static class Base {
        public String work() {
            return RAN;
        }

        public String other() {
            return RAN;
        }

        public String third() {
            return RAN;
        }
    }

    @LeaderOnly("x")
    public static class XGated extends Base {}

    @LeaderOnly("y")
    public static class YGated extends Base {}

    @LeaderOnly("e0")
    public static class G0 extends Base {}

    @LeaderOnly("e1")
    public static class G1 extends Base {}

    @LeaderOnly("e2")
    public static class G2 extends Base {}

    @LeaderOnly("e3")
    public static class G3 extends Base {}

    @LeaderOnly("e4")
    public static class G4 extends Base {}

    @LeaderOnly("e5")
    public static class G5 extends Base {}

    @LeaderOnly("e6")
    public static class G6 extends Base {}

    @LeaderOnly("e7")
    public static class G7 extends Base {}

    @LeaderOnly("e8")
    public static class G8 extends Base {}

    @LeaderOnly("e9")
    public static class G9 extends Base {}

    @LeaderOnly
    public static class GDefault extends Base {}
    /** Type-level on a subclass of a gated class: its own election wins. */
    @LeaderOnly("e10")
    public static class G10 extends G0 {}
    /** A subclass of a gated class, unannotated: the inherited type-level election. */
    public static class G0Child extends G0 {}

    public static class P0 extends Base {}

    public static class P1 extends Base {}

    public static class P2 extends Base {}

    public static class P3 extends Base {}

    public static class P4 extends Base {}

    public static class P5 extends Base {}

    public static class P6 extends Base {}

    public static class P7 extends Base {}

    public static class P8 extends Base {}

    public static class P9 extends Base {}

    private static final List<Object> TARGETS = List.of(
            new G0(),
            new P0(),
            new G1(),
            new P1(),
            new G2(),
            new P2(),
            new G3(),
            new P3(),
            new G4(),
            new P4(),
            new G5(),
            new P5(),
            new G6(),
            new P6(),
            new G7(),
            new P7(),
            new G8(),
            new P8(),
            new G9(),
            new P9(),
            new GDefault(),
            new G10(),
            new G0Child(),
            new Base());

    private static final List<String> EXPECTED = List.of(
            "e0", NOT_GATED, "e1", NOT_GATED, "e2", NOT_GATED, "e3", NOT_GATED, "e4", NOT_GATED, "e5", NOT_GATED, "e6",
            NOT_GATED, "e7", NOT_GATED, "e8", NOT_GATED, "e9", NOT_GATED, "", "e10", "e0", NOT_GATED);

    /** The elections of the gated targets, each asked once per method (G0 and G0Child share "e0"). */
    private static final List<String> GATED_NAMES =
            List.of("e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "", "e10");

    public interface Work {
        String work();
    }

    public static class GatedWork implements Work {
        @Override
        @LeaderOnly("work")
        public String work() {
            return RAN;
        }
    }

    public static class PlainWork implements Work {
        @Override
        public String work() {
            return RAN;
        }
    }
}
