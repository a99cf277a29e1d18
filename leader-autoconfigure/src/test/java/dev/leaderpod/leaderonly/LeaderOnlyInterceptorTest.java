package dev.leaderpod.leaderonly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.annotation.LeaderOnly.OnFollower;
import dev.leaderpod.annotation.LeaderOnlyContext;
import dev.leaderpod.annotation.LeaderOnlyObserver;
import dev.leaderpod.annotation.NotLeaderException;
import dev.leaderpod.core.ElectionClock;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.RevocationReason;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.aop.framework.ProxyFactory;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/** The interceptor on a hand-made proxy, with a leadership view the test controls. */
@ExtendWith(OutputCaptureExtension.class)
class LeaderOnlyInterceptorTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private final TestLeadership leadership = new TestLeadership();
    private final List<String> skipped = new CopyOnWriteArrayList<>();
    private final LeaderOnlyInterceptor interceptor = new LeaderOnlyInterceptor(
            election -> leadership,
            () -> List.of(
                    (LeaderOnlyObserver) (type, method) -> skipped.add(type.getSimpleName() + "." + method.getName())));
    private final List<Thread> threads = new ArrayList<>();

    @AfterEach
    void stopThreads() throws InterruptedException {
        for (Thread thread : threads) {
            thread.interrupt();
            thread.join(WAIT.toMillis());
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Leader

    @Test
    void leaderRunsTheMethodWithItsTermBound() {
        Jobs jobs = proxy(new Jobs());
        leadership.grant(7);

        assertThat(jobs.tokenAndIdentity()).isEqualTo("7/me");
        assertThat(jobs.runs()).containsExactly("tokenAndIdentity");
        assertThat(LeaderOnlyContext.currentTerm()).isEmpty();
        assertThat(skipped).isEmpty();
    }

    @Test
    void nestedCallsSeeTheirOwnTermAndRestoreTheCallersAfterwards() {
        Jobs inner = proxy(new Jobs());
        Outer outer = proxy(new Outer(inner, leadership));
        leadership.grant(1);

        assertThat(outer.nested()).isEqualTo("outer=1 inner=2 after=1");
        assertThat(LeaderOnlyContext.currentTerm()).isEmpty();
    }

    @Test
    void contextIsClearedWhenTheMethodThrows() {
        Jobs jobs = proxy(new Jobs());
        leadership.grant(3);

        assertThatThrownBy(jobs::fails).isInstanceOf(IllegalArgumentException.class);
        assertThat(LeaderOnlyContext.currentTerm()).isEmpty();
        assertThat(interceptor.calls().running()).isEmpty();
    }

    @Test
    void contextOutsideACallIsEmptyAndItsAccessorsExplain() {
        assertThat(LeaderOnlyContext.currentTerm()).isEmpty();
        assertThatThrownBy(LeaderOnlyContext::fencingToken)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("No @LeaderOnly call is running");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Follower: one test per return-type rule

    @Test
    void followerSkipsAVoidMethod() {
        Jobs jobs = proxy(new Jobs());

        jobs.purge();

        assertThat(jobs.runs()).isEmpty();
        assertThat(skipped).containsExactly("Jobs.purge");
    }

    @Test
    void followerGetsEmptyOptionals() {
        Jobs jobs = proxy(new Jobs());

        assertThat(jobs.optional()).isEqualTo(Optional.empty());
        assertThat(jobs.optionalInt()).isEqualTo(OptionalInt.empty());
        assertThat(jobs.optionalLong()).isEqualTo(OptionalLong.empty());
        assertThat(jobs.optionalDouble()).isEqualTo(OptionalDouble.empty());
        assertThat(jobs.runs()).isEmpty();
    }

    @Test
    void followerGetsANewFutureCompletedWithNull() throws Exception {
        Jobs jobs = proxy(new Jobs());

        CompletableFuture<String> first = jobs.completable();
        CompletableFuture<String> second = jobs.completable();
        CompletionStage<String> stage = jobs.stage();
        Future<String> future = jobs.future();

        assertThat(first).isCompletedWithValue(null);
        assertThat(first).isNotSameAs(second);
        assertThat(stage.toCompletableFuture()).isCompletedWithValue(null);
        assertThat(future.isDone()).isTrue();
        assertThat(future.get()).isNull();
        assertThat(jobs.runs()).isEmpty();
    }

    @Test
    void followerGetsNullForOtherReferenceTypes() {
        Jobs jobs = proxy(new Jobs());

        assertThat(jobs.text()).isNull();
        assertThat(jobs.boxed()).isNull();
        assertThat(jobs.runs()).isEmpty();
        assertThat(skipped).containsExactly("Jobs.text", "Jobs.boxed");
    }

    @Test
    void throwModeRefusesWithNotLeaderExceptionNamingTheMethod() {
        Jobs jobs = proxy(new Jobs());

        assertThatThrownBy(jobs::allocate)
                .isInstanceOf(NotLeaderException.class)
                .hasMessageContaining(Jobs.class.getName() + ".allocate()")
                .hasMessageContaining("leader of 'orders'")
                .satisfies(e -> assertThat(((NotLeaderException) e).getMethod())
                        .get()
                        .extracting(method -> method.getName())
                        .isEqualTo("allocate"));
        assertThat(jobs.runs()).isEmpty();
        assertThat(skipped).containsExactly("Jobs.allocate");
    }

    @Test
    void throwModeNamesTheLeaderThisInstanceLastSaw() {
        InMemoryLeaseStore store = new InMemoryLeaseStore();
        LeaseElector a = elector("a", store, ElectionClock.system(), new LeadershipListener() {});
        LeaseElector b = elector("b", store, ElectionClock.system(), new LeadershipListener() {});
        try {
            a.start();
            await().atMost(WAIT).until(a::isLeader);
            b.start();
            await().atMost(WAIT).until(() -> b.snapshot().observedHolder().isPresent());
            Jobs jobs = proxy(new Jobs(), new LeaderOnlyInterceptor(election -> b, List::of));

            assertThatThrownBy(jobs::allocate)
                    .isInstanceOf(NotLeaderException.class)
                    .hasMessageContaining("last seen leader: a")
                    .satisfies(e ->
                            assertThat(((NotLeaderException) e).getLeader()).contains("a"));
        } finally {
            b.stop(WAIT);
            a.stop(WAIT);
        }
    }

    @Test
    void aFailingObserverDoesNotChangeTheOutcome(CapturedOutput output) {
        LeaderOnlyInterceptor failing = new LeaderOnlyInterceptor(
                election -> leadership,
                () -> List.of((type, method) -> {
                    throw new IllegalStateException("observer broke");
                }));
        Jobs jobs = proxy(new Jobs(), failing);

        assertThat(jobs.optional()).isEmpty();
        assertThat(output).contains("observer", "failed for " + Jobs.class.getName() + ".optional()");
    }

    @Test
    void methodsWithoutTheAnnotationAreNotGated() {
        Jobs jobs = proxy(new Jobs());

        assertThat(jobs.ungated()).isEqualTo("ran");
        assertThat(skipped).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------
    // docs/design.md, "Step down before anyone can take over": the check is made at call time against the deadline

    @Test
    void callDoesNotStartAfterTheRenewDeadlineEvenBeforeTheRevocationIsDelivered() {
        AtomicLong nanos = new AtomicLong(1_000_000_000L);
        ElectionClock clock = new ElectionClock() {
            @Override
            public long nanoTime() {
                return nanos.get();
            }

            @Override
            public Instant wallTime() {
                return Instant.EPOCH.plusNanos(nanos.get());
            }
        };
        List<String> events = new CopyOnWriteArrayList<>();
        // Real threads with periods far beyond the test: no renew and no step-down timer can run during it.
        LeaseElector elector = elector("me", new InMemoryLeaseStore(), clock, new LeadershipListener() {
            @Override
            public void onStartedLeading(LeadershipTerm term) {
                events.add("granted");
            }

            @Override
            public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
                events.add("revoked " + reason);
            }
        });
        try {
            elector.start();
            await().atMost(WAIT).until(() -> events.contains("granted"));
            Jobs jobs = proxy(new Jobs(), new LeaderOnlyInterceptor(election -> elector, List::of));
            jobs.purge();
            assertThat(jobs.runs()).containsExactly("purge");

            nanos.addAndGet(elector.settings().renewDeadline().toNanos());
            jobs.purge();

            assertThat(jobs.runs()).containsExactly("purge");
            assertThat(events).containsExactly("granted");
        } finally {
            elector.stop(WAIT);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // In-flight tracking and the drain

    @Test
    void runningCallsAreTrackedWithTheirTermUntilTheyReturn() {
        Blocking blocking = proxy(new Blocking());
        LeadershipTerm term = leadership.grant(4);

        start(blocking::work);
        await().atMost(WAIT).until(() -> blocking.started().getCount() == 0);

        assertThat(interceptor.calls().running()).singleElement().satisfies(call -> {
            assertThat(call.term()).isEqualTo(term);
            assertThat(call.method().describe()).isEqualTo(Blocking.class.getName() + ".work()");
        });
        blocking.release().countDown();
        await().atMost(WAIT).until(() -> interceptor.calls().running().isEmpty());
    }

    @Test
    void callIsRegisteredBeforeItsLeadershipCheckSoThatNoDrainCanMissIt() {
        Jobs jobs = proxy(new Jobs());
        leadership.grant(4);
        List<Integer> registeredAtCheck = new CopyOnWriteArrayList<>();
        leadership.onCheck(
                () -> registeredAtCheck.add(interceptor.calls().running().size()));

        jobs.purge();
        leadership.revoke();
        jobs.purge();

        assertThat(registeredAtCheck).containsExactly(1, 1);
        assertThat(interceptor.calls().running()).isEmpty();
    }

    @Test
    void endOfTermWaitsForTheTermsCallsThenReturnsWithoutWarning(CapturedOutput output) throws Exception {
        Blocking blocking = proxy(new Blocking());
        LeadershipTerm term = leadership.grant(4);
        LeaderOnlyLeadershipListener listener =
                new LeaderOnlyLeadershipListener(interceptor.calls(), ended -> List.of(), WAIT.multipliedBy(3));
        start(blocking::work);
        await().atMost(WAIT).until(() -> blocking.started().getCount() == 0);
        List<String> order = new CopyOnWriteArrayList<>();

        leadership.revoke();
        Thread drain = start(() -> {
            listener.onStoppedLeading(term, RevocationReason.YIELDED);
            order.add("drained");
        });
        await().atMost(WAIT).until(() -> interceptor.calls().isDraining());
        assertThat(order).isEmpty();
        order.add("call released");
        blocking.release().countDown();
        drain.join(WAIT.toMillis());

        assertThat(order).containsExactly("call released", "drained");
        assertThat(output).doesNotContain("still run after");
    }

    @Test
    void endOfTermWarnsNamingEachCallStillRunningAfterTheDrainTimeout(CapturedOutput output) {
        Blocking blocking = proxy(new Blocking());
        LeadershipTerm term = leadership.grant(4);
        LeaderOnlyLeadershipListener listener =
                new LeaderOnlyLeadershipListener(interceptor.calls(), ended -> List.of(), Duration.ofMillis(50));
        start(blocking::work);
        await().atMost(WAIT).until(() -> blocking.started().getCount() == 0);
        leadership.revoke();

        listener.onStoppedLeading(term, RevocationReason.LOST);

        assertThat(output)
                .contains("Leadership of 'orders' ended (LOST, fencing token 4)")
                .contains("1 @LeaderOnly call(s) still run after leader.drain-timeout (PT0.05S)")
                .contains(Blocking.class.getName() + ".work() on thread '"
                        + threads.get(0).getName() + "'");
        blocking.release().countDown();
    }

    @Test
    void endOfTermDoesNotWaitForCallsOfALaterTerm() {
        Blocking blocking = proxy(new Blocking());
        LeadershipTerm ended = leadership.grant(4);
        leadership.grant(5);
        start(blocking::work);
        await().atMost(WAIT).until(() -> blocking.started().getCount() == 0);

        assertThat(interceptor.calls().awaitCompletion(ended, WAIT)).isEmpty();
        assertThat(interceptor.calls().running()).hasSize(1);
        blocking.release().countDown();
    }

    // ---------------------------------------------------------------------------------------------------------

    private <T> T proxy(T target) {
        return proxy(target, interceptor);
    }

    @SuppressWarnings("unchecked")
    private static <T> T proxy(T target, LeaderOnlyInterceptor interceptor) {
        ProxyFactory factory = new ProxyFactory(target);
        factory.setProxyTargetClass(true);
        factory.addAdvisor(new LeaderOnlyAdvisor(interceptor));
        return (T) factory.getProxy();
    }

    private static LeaseElector elector(
            String identity, InMemoryLeaseStore store, ElectionClock clock, LeadershipListener listener) {
        return LeaseElector.builder(
                        new ElectionSettings(
                                "orders",
                                identity,
                                Duration.ofSeconds(300),
                                Duration.ofSeconds(200),
                                Duration.ofSeconds(100),
                                null),
                        store)
                .clock(clock)
                .listener(listener)
                .build();
    }

    private Thread start(Runnable task) {
        Thread thread = new Thread(task, "caller-" + threads.size());
        thread.setDaemon(true);
        threads.add(thread);
        thread.start();
        return thread;
    }

    static class Jobs {
        private final List<String> runs = new CopyOnWriteArrayList<>();

        /** Not gated; fields of a class proxy are its own, so tests read the target's through this. */
        public List<String> runs() {
            return runs;
        }

        @LeaderOnly
        public String tokenAndIdentity() {
            runs.add("tokenAndIdentity");
            return LeaderOnlyContext.fencingToken() + "/" + LeaderOnlyContext.identity();
        }

        @LeaderOnly
        public void purge() {
            runs.add("purge");
        }

        @LeaderOnly
        public void fails() {
            throw new IllegalArgumentException("boom");
        }

        @LeaderOnly
        public Optional<String> optional() {
            runs.add("optional");
            return Optional.of("x");
        }

        @LeaderOnly
        public OptionalInt optionalInt() {
            runs.add("optionalInt");
            return OptionalInt.of(1);
        }

        @LeaderOnly
        public OptionalLong optionalLong() {
            runs.add("optionalLong");
            return OptionalLong.of(1);
        }

        @LeaderOnly
        public OptionalDouble optionalDouble() {
            runs.add("optionalDouble");
            return OptionalDouble.of(1);
        }

        @LeaderOnly
        public CompletableFuture<String> completable() {
            runs.add("completable");
            return CompletableFuture.completedFuture("x");
        }

        @LeaderOnly
        public CompletionStage<String> stage() {
            runs.add("stage");
            return CompletableFuture.completedFuture("x");
        }

        @LeaderOnly
        public Future<String> future() {
            runs.add("future");
            return CompletableFuture.completedFuture("x");
        }

        @LeaderOnly
        public String text() {
            runs.add("text");
            return "x";
        }

        @LeaderOnly
        public Integer boxed() {
            runs.add("boxed");
            return 1;
        }

        @LeaderOnly(onFollower = OnFollower.THROW)
        public long allocate() {
            runs.add("allocate");
            return 1;
        }

        public String ungated() {
            return "ran";
        }
    }

    static class Outer {
        private final Jobs inner;
        private final TestLeadership leadership;

        Outer() {
            this(null, null);
        }

        Outer(Jobs inner, TestLeadership leadership) {
            this.inner = inner;
            this.leadership = leadership;
        }

        @LeaderOnly
        public String nested() {
            long outer = LeaderOnlyContext.fencingToken();
            leadership.grant(2); // a new term starts while the outer call runs
            String inside = inner.tokenAndIdentity();
            return "outer=" + outer + " inner=" + inside.substring(0, inside.indexOf('/')) + " after="
                    + LeaderOnlyContext.fencingToken();
        }
    }

    static class Blocking {
        private final CountDownLatch started = new CountDownLatch(1);
        private final CountDownLatch release = new CountDownLatch(1);

        public CountDownLatch started() {
            return started;
        }

        public CountDownLatch release() {
            return release;
        }

        @LeaderOnly
        public void work() {
            started.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
