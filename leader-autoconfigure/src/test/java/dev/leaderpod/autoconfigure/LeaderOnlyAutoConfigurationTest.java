package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.annotation.LeaderOnly.OnFollower;
import dev.leaderpod.annotation.LeaderOnlyContext;
import dev.leaderpod.annotation.LeaderOnlyObserver;
import dev.leaderpod.annotation.NotLeaderException;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.leaderonly.InFlightCalls;
import dev.leaderpod.leaderonly.LeaderOnlyAdvisor;
import dev.leaderpod.leaderonly.LeaderOnlyFailureAnalyzer;
import dev.leaderpod.leaderonly.LeaderOnlyLeadershipListener;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.aop.Advisor;
import org.springframework.aop.framework.Advised;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.context.annotation.ImportCandidates;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.Lifecycle;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;
import org.springframework.core.PriorityOrdered;
import org.springframework.core.io.support.SpringFactoriesLoader;
import org.springframework.core.task.TaskExecutor;
import org.springframework.integration.leader.event.OnGrantedEvent;
import org.springframework.integration.leader.event.OnRevokedEvent;
import org.springframework.scheduling.annotation.Async;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.scheduling.annotation.EnableScheduling;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.AbstractPlatformTransactionManager;
import org.springframework.transaction.support.DefaultTransactionStatus;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * {@code @LeaderOnly} in application contexts: auto-configuration, start-up checks, and the gate together with
 * {@code @Scheduled}, {@code @Async}, {@code @EventListener}, {@code @Transactional} and lifecycle beans, on class
 * and interface proxies. Leadership changes are driven by another "pod" writing the shared in-memory store; the
 * elector watches it, so each change is seen at once, and the timings are so long that no renew or timer of the
 * elector interferes.
 */
@ExtendWith(OutputCaptureExtension.class)
class LeaderOnlyAutoConfigurationTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private final InMemoryLeaseStore store = new InMemoryLeaseStore();
    private final OtherPod otherPod = new OtherPod(store, "billing");

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    AopAutoConfiguration.class,
                    LeaderElectionAutoConfiguration.class,
                    LeaderOnlyAutoConfiguration.class))
            .withPropertyValues(
                    "spring.application.name=billing",
                    "leader.identity=me",
                    "leader.lease-duration=60s",
                    "leader.renew-deadline=40s",
                    "leader.retry-period=10s")
            .withBean(LeaseStore.class, () -> store)
            .withBean(SkipCounter.class);

    // ---------------------------------------------------------------------------------------------------------
    // Auto-configuration

    @Test
    void gatesCallsOfTheOnlyCandidateWhenTheElectionIsDisabled() {
        otherPod.takeLease(); // of the application's store, which the only candidate does not use
        contextRunner
                .withPropertyValues("leader.enabled=false")
                .withBean(TypeLevelReports.class)
                .run(context -> {
                    assertThat(context)
                            .hasSingleBean(LeaderOnlyAdvisor.class)
                            .hasSingleBean(LeaderOnlyLeadershipListener.class);
                    assertThat(context.getBean(TypeLevelReports.class).title()).isEqualTo("report");
                });
    }

    @Test
    void backsOffWhenUserDefinesTheLeadershipListener() {
        LeaderOnlyLeadershipListener own =
                new LeaderOnlyLeadershipListener(new InFlightCalls(), term -> List.of(), Duration.ZERO);
        contextRunner
                .withBean(LeaderOnlyLeadershipListener.class, () -> own)
                .run(context -> assertThat(context.getBean(LeaderOnlyLeadershipListener.class))
                        .isSameAs(own));
    }

    @Test
    void gatesWithoutAopAutoConfigurationBecauseItRegistersAnAutoProxyCreator() {
        otherPod.takeLease();
        new ApplicationContextRunner()
                .withConfiguration(
                        AutoConfigurations.of(LeaderElectionAutoConfiguration.class, LeaderOnlyAutoConfiguration.class))
                .withPropertyValues("spring.application.name=billing", "leader.lease-duration=60s")
                .withBean(LeaseStore.class, () -> store)
                .withBean(TypeLevelReports.class)
                .run(context -> assertThat(
                                context.getBean(TypeLevelReports.class).title())
                        .isNull());
    }

    @Test
    void gatesWithoutAspectJThroughTheInfrastructureAutoProxyCreator() {
        otherPod.takeLease();
        contextRunner
                .withClassLoader(new FilteredClassLoader("org.aspectj"))
                .withBean(TypeLevelReports.class)
                .run(context -> {
                    TypeLevelReports reports = context.getBean(TypeLevelReports.class);
                    assertThat(AopUtils.isCglibProxy(reports)).isTrue();
                    assertThat(reports.title()).isNull();
                });
    }

    @Test
    void isRegisteredAsAnAutoConfigurationAfterTheElection() {
        assertThat(ImportCandidates.load(AutoConfiguration.class, getClass().getClassLoader()))
                .containsSubsequence(
                        LeaderElectionAutoConfiguration.class.getName(), LeaderOnlyAutoConfiguration.class.getName());
    }

    @Test
    void failureAnalyzerIsRegistered() {
        // Others' analyzers need constructor arguments this plain lookup does not give: skip those.
        assertThat(SpringFactoriesLoader.forDefaultResourceLocation()
                        .load(FailureAnalyzer.class, SpringFactoriesLoader.FailureHandler.handleMessage((m, e) -> {})))
                .hasAtLeastOneElementOfType(LeaderOnlyFailureAnalyzer.class);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Refused at start-up, with a failure analysis naming the method

    @Test
    void primitiveReturnTypeIsRefusedAtStartUpNamingTheMethod() {
        contextRunner.withBean(PrimitiveCounter.class).run(context -> {
            FailureAnalysis analysis = analysis(context);
            assertThat(analysis.getDescription())
                    .contains(PrimitiveCounter.class.getName() + ".count()")
                    .contains("primitive type int");
            assertThat(analysis.getAction()).contains("Integer", "Optional", "onFollower = THROW");
        });
    }

    @Test
    void primitiveOfATypeLevelAnnotationIsRefusedToo() {
        contextRunner
                .withBean(TypeLevelWithPrimitive.class)
                .run(context -> assertThat(analysis(context).getDescription())
                        .contains(TypeLevelWithPrimitive.class.getName() + ".isReady()", "primitive type boolean"));
    }

    @Test
    void primitiveReturnTypeIsAllowedInThrowMode() {
        otherPod.takeLease();
        contextRunner.withBean(IdAllocator.class).run(context -> {
            assertThat(context).hasNotFailed();
            LeaseElector elector = context.getBean(LeaseElector.class);
            eventually().until(() -> elector.snapshot().observedHolder().isPresent());
            assertThatThrownBy(() -> context.getBean(IdAllocator.class).next())
                    .isInstanceOf(NotLeaderException.class)
                    .hasMessageContaining("IdAllocator.next()")
                    .hasMessageContaining("last seen leader: other");
        });
    }

    @Test
    void privateStaticAndFinalMethodsAreRefusedBecauseNoProxyCanInterceptThem() {
        contextRunner
                .withBean(PrivateJob.class)
                .run(context -> assertThat(analysis(context).getDescription())
                        .contains(PrivateJob.class.getName() + ".work()", "is private"));
        contextRunner
                .withBean(StaticJob.class)
                .run(context -> assertThat(analysis(context).getDescription())
                        .contains(StaticJob.class.getName() + ".work()", "is static"));
        contextRunner
                .withBean(FinalJob.class)
                .run(context -> assertThat(analysis(context).getDescription())
                        .contains(FinalJob.class.getName() + ".work()", "is final"));
    }

    @Test
    void beanCreatedBeforeTheAopInfrastructureIsRefusedInsteadOfRunningUngated() {
        contextRunner.withUserConfiguration(EarlyBeanConfiguration.class).run(context -> {
            FailureAnalysis analysis = analysis(context);
            assertThat(analysis.getDescription()).contains("'earlyJob'", "is not proxied");
            assertThat(analysis.getAction()).contains("not eligible for getting processed by all BeanPostProcessors");
        });
    }

    @Test
    void selfInvocationIsReportedAtStartUpNamingCallerAndCallee(CapturedOutput output) {
        contextRunner.withBean(SelfCaller.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(output)
                    .contains(SelfCaller.class.getName() + ".runAll() calls @LeaderOnly method "
                            + SelfCaller.class.getName() + ".purge() on 'this'")
                    .contains("inject the bean into itself with @Lazy");
        });
    }

    // ---------------------------------------------------------------------------------------------------------
    // @Scheduled

    @Test
    void scheduledJobRunsOnlyWhileLeaderAcrossGrantRevokeGrant() {
        contextRunner.withUserConfiguration(ScheduledJob.class).run(context -> {
            ScheduledJob job = context.getBean(ScheduledJob.class);
            SkipCounter skips = context.getBean(SkipCounter.class);
            LeaseElector elector = context.getBean(LeaseElector.class);

            eventually().until(() -> job.tokens().size() >= 3);
            assertThat(job.tokens()).containsOnly(0L);

            otherPod.takeLease();
            eventually().until(() -> job.revoked() == 1); // delivered after the drain
            int runsWhileLeader = job.tokens().size();
            int skipsBefore = skips.count("tick");
            eventually().until(() -> skips.count("tick") >= skipsBefore + 3);
            assertThat(job.tokens()).hasSize(runsWhileLeader);
            assertThat(elector.isLeader()).isFalse();

            otherPod.releaseLease();
            eventually()
                    .until(() ->
                            job.tokens().stream().filter(token -> token == 2L).count() >= 3);
            List<Long> tokens = List.copyOf(job.tokens()); // the job keeps running: look at a snapshot
            assertThat(tokens.subList(0, runsWhileLeader)).containsOnly(0L);
            assertThat(tokens.subList(runsWhileLeader, tokens.size())).containsOnly(2L);
        });
    }

    // ---------------------------------------------------------------------------------------------------------
    // Lifecycle beans

    @Test
    void lifecycleBeansStartWithLeadershipAndStopWithItOnTheEventThreadEveryTerm() {
        otherPod.takeLease(); // token 0: this instance starts as a follower
        contextRunner.withUserConfiguration(LifecycleBeans.class).run(context -> {
            Timeline timeline = context.getBean(Timeline.class);
            Worker worker = context.getBean(Worker.class);
            assertThat(worker.isRunning()).isFalse();
            context.start(); // start() is gated too: a follower's context starts nothing
            assertThat(worker.isRunning()).isFalse();
            assertThat(timeline.events).isEmpty();

            otherPod.releaseLease();
            eventually().until(() -> timeline.events.contains("granted 1"));
            otherPod.takeLease();
            eventually().until(() -> timeline.events.contains("revoked 1"));
            otherPod.releaseLease();
            eventually().until(() -> timeline.events.contains("granted 3"));
            context.close();

            assertThat(timeline.events)
                    .containsExactly(
                            "plain start on leader-events-billing",
                            "worker start token 1 on leader-events-billing",
                            "granted 1",
                            "worker stop on leader-events-billing",
                            "plain stop on leader-events-billing",
                            "revoked 1",
                            "plain start on leader-events-billing",
                            "worker start token 3 on leader-events-billing",
                            "granted 3",
                            "worker stop on leader-events-billing",
                            "plain stop on leader-events-billing",
                            "revoked 3");
        });
    }

    @Test
    void lifecycleBeanIsNotStartedByTheContextEvenWhenLeadershipCameFirst() {
        contextRunner.withUserConfiguration(EarlyLeadershipLifecycleBeans.class).run(context -> {
            Timeline timeline = context.getBean(Timeline.class);
            eventually().until(() -> timeline.events.contains("granted 0"));

            // The context started its lifecycle beans while the grant was starting SlowWorker on the event thread;
            // had it not been kept from auto-starting, the context would have started it on the main thread too.
            assertThat(timeline.events)
                    .containsExactly(
                            "election started and leading",
                            "releaser start on main",
                            "slow worker start on leader-events-billing",
                            "granted 0");
        });
    }

    // ---------------------------------------------------------------------------------------------------------
    // Type-level annotation, class and interface proxies

    @Test
    void typeLevelAnnotationGatesPublicMethodsButNotObjectMethodsOrNonPublicOnes() {
        otherPod.takeLease();
        contextRunner.withBean(TypeLevelReports.class).run(context -> {
            TypeLevelReports reports = context.getBean(TypeLevelReports.class);
            assertThat(reports.title()).isNull();
            reports.publish();
            assertThat(reports.internal()).isEqualTo("internal");
            assertThat(reports.toString()).isEqualTo("reports");
            assertThat(context.getBean(SkipCounter.class).methods).containsExactly("title", "publish");

            otherPod.releaseLease();
            eventually().until(() -> context.getBean(LeaseElector.class).isLeader());
            assertThat(reports.title()).isEqualTo("report");
        });
    }

    @Test
    void classProxiesAreGated() {
        otherPod.takeLease();
        contextRunner.withBean(TypeLevelReports.class).run(context -> {
            TypeLevelReports reports = context.getBean(TypeLevelReports.class);
            assertThat(AopUtils.isCglibProxy(reports)).isTrue();
            assertThat(reports.title()).isNull();
        });
    }

    @Test
    void interfaceProxiesAreGatedWhetherTheInterfaceOrTheClassIsAnnotated() {
        otherPod.takeLease();
        contextRunner
                .withPropertyValues("spring.aop.proxy-target-class=false")
                .withBean(BillingApi.class, Billing::new)
                .run(context -> {
                    BillingApi billing = context.getBean(BillingApi.class);
                    assertThat(AopUtils.isJdkDynamicProxy(billing)).isTrue();
                    assertThat(billing.charge()).isNull();
                    assertThat(billing.refund()).isNull();
                    assertThat(billing.balance()).isEqualTo("balance");

                    otherPod.releaseLease();
                    eventually().until(() -> context.getBean(LeaseElector.class).isLeader());
                    assertThat(billing.charge()).isEqualTo("charged 1");
                    assertThat(billing.refund()).isEqualTo("refunded");
                });
    }

    // ---------------------------------------------------------------------------------------------------------
    // @Async, @Transactional, @EventListener

    @Test
    void asyncMethodIsCheckedOnTheExecutorThreadWhenItStartsNotWhenItIsSubmitted() throws Exception {
        contextRunner.withUserConfiguration(AsyncConfiguration.class).run(context -> {
            AsyncJob job = context.getBean(AsyncJob.class);
            ManualExecutor executor = context.getBean(ManualExecutor.class);
            eventually().until(() -> context.getBean(LeaseElector.class).isLeader());

            CompletableFuture<String> whileLeader = job.work();
            assertThat(whileLeader).isNotDone();
            executor.runQueued();
            assertThat(whileLeader.get(10, TimeUnit.SECONDS)).isEqualTo("worked under token 0");

            CompletableFuture<String> submittedWhileLeader = job.work();
            otherPod.takeLease();
            eventually().until(() -> !context.getBean(LeaseElector.class).isLeader());
            executor.runQueued();

            assertThat(submittedWhileLeader.get(10, TimeUnit.SECONDS)).isNull();
            assertThat(job.runs()).isEqualTo(1);
        });
    }

    @Test
    void asyncMethodInThrowModeCompletesItsFutureExceptionally() {
        otherPod.takeLease();
        contextRunner.withUserConfiguration(AsyncConfiguration.class).run(context -> {
            CompletableFuture<String> refused = context.getBean(AsyncJob.class).strict();
            context.getBean(ManualExecutor.class).runQueued();

            assertThat(refused)
                    .failsWithin(Duration.ofSeconds(10))
                    .withThrowableOfType(java.util.concurrent.ExecutionException.class)
                    .withCauseInstanceOf(NotLeaderException.class);
        });
    }

    @Test
    void transactionalMethodOpensNoTransactionOnAFollowerAndIsTrackedUntilCommit() {
        contextRunner.withUserConfiguration(TransactionalConfiguration.class).run(context -> {
            Ledger ledger = context.getBean(Ledger.class);
            RecordingTransactionManager transactions = context.getBean(RecordingTransactionManager.class);
            eventually().until(() -> context.getBean(LeaseElector.class).isLeader());

            ledger.post();
            assertThat(transactions.events)
                    .containsExactly("begin", "post in transaction, term bound", "commit, term bound");

            otherPod.takeLease();
            eventually().until(() -> !context.getBean(LeaseElector.class).isLeader());
            transactions.events.clear();
            ledger.post();
            assertThat(transactions.events).isEmpty();
        });
    }

    @Test
    void advisorSitsInsideAsyncAndOutsideTransactions() {
        contextRunner
                .withUserConfiguration(TransactionalConfiguration.class, AsyncConfiguration.class)
                .run(context -> {
                    List<String> chain = Arrays.stream(((Advised) context.getBean(AsyncLedger.class)).getAdvisors())
                            .map(Advisor::getClass)
                            .map(Class::getSimpleName)
                            .toList();
                    assertThat(chain)
                            .containsExactly(
                                    "AsyncAnnotationAdvisor",
                                    "LeaderOnlyAdvisor",
                                    "BeanFactoryTransactionAttributeSourceAdvisor");
                });
    }

    @Test
    void eventListenerRunsOnlyOnTheLeader() {
        contextRunner.withBean(OrderEvents.class).run(context -> {
            OrderEvents events = context.getBean(OrderEvents.class);
            eventually().until(() -> context.getBean(LeaseElector.class).isLeader());
            context.publishEvent(new OrderPlaced("o-1"));

            otherPod.takeLease();
            eventually().until(() -> !context.getBean(LeaseElector.class).isLeader());
            context.publishEvent(new OrderPlaced("o-2"));

            assertThat(events.handled()).containsExactly("o-1 under token 0");
            assertThat(context.getBean(SkipCounter.class).methods).containsExactly("on");
        });
    }

    // ---------------------------------------------------------------------------------------------------------
    // docs/design.md, "Ordered graceful shutdown": running calls drain before OnRevokedEvent and the release

    @Test
    void shutdownWaitsForRunningCallsBeforePublishingRevokedAndReleasingTheLease() throws Exception {
        contextRunner.withUserConfiguration(BlockingConfiguration.class).run(context -> {
            BlockingJob job = context.getBean(BlockingJob.class);
            Timeline timeline = context.getBean(Timeline.class);
            InFlightCalls calls = context.getBean(LeaderOnlyAdvisor.class).calls();
            eventually().until(() -> timeline.events.contains("granted 0"));
            Thread caller = new Thread(job::work, "caller");
            caller.start();
            eventually().until(() -> job.started().getCount() == 0);

            Thread closer = new Thread(context::close, "closer");
            closer.start();
            eventually().until(calls::isDraining);
            assertThat(timeline.events).containsExactly("granted 0");
            assertThat(store.get("billing").orElseThrow().record().holderIdentity())
                    .isEqualTo("me");

            job.release().countDown();
            closer.join(WAIT.toMillis());
            caller.join(WAIT.toMillis());

            assertThat(timeline.events).containsExactly("granted 0", "work done", "revoked 0");
            assertThat(store.get("billing").orElseThrow().record().isHeld()).isFalse();
        });
    }

    /** Polls often: leadership changes take milliseconds here. */
    private static ConditionFactory eventually() {
        return await().atMost(WAIT).pollInterval(Duration.ofMillis(10));
    }

    private static FailureAnalysis analysis(AssertableApplicationContext context) {
        assertThat(context).hasFailed();
        FailureAnalysis analysis = new LeaderOnlyFailureAnalyzer().analyze(context.getStartupFailure());
        assertThat(analysis)
                .as("failure analysis of %s", context.getStartupFailure())
                .isNotNull();
        return analysis;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Fixtures

    /** Counts skipped calls by method name. */
    static class SkipCounter implements LeaderOnlyObserver {
        final List<String> methods = new CopyOnWriteArrayList<>();

        @Override
        public void onSkipped(Class<?> targetClass, Method method) {
            methods.add(method.getName());
        }

        int count(String method) {
            return (int) methods.stream().filter(method::equals).count();
        }
    }

    /** What happened, in order: lifecycle calls, work, and the Spring Integration events. */
    static class Timeline {
        final List<String> events = new CopyOnWriteArrayList<>();

        @EventListener
        void onGranted(OnGrantedEvent event) {
            events.add("granted " + fencingToken(event));
        }

        @EventListener
        void onRevoked(OnRevokedEvent event) {
            events.add("revoked " + fencingToken(event));
        }

        private static long fencingToken(org.springframework.integration.leader.event.AbstractLeaderEvent event) {
            return dev.leaderpod.events.LeaderContext.from(event).orElseThrow().getFencingToken();
        }
    }

    static class PrimitiveCounter {
        @LeaderOnly
        public int count() {
            return 1;
        }
    }

    @LeaderOnly
    static class TypeLevelWithPrimitive {
        public boolean isReady() {
            return true;
        }
    }

    static class IdAllocator {
        @LeaderOnly(onFollower = OnFollower.THROW)
        public long next() {
            return 1;
        }
    }

    static class PrivateJob {
        @LeaderOnly
        private void work() {}

        public void run() {
            work();
        }
    }

    static class StaticJob {
        @LeaderOnly
        public static void work() {}
    }

    static class FinalJob {
        @LeaderOnly
        public final void work() {}
    }

    static class EarlyJob {
        @LeaderOnly
        public void work() {}
    }

    @Configuration(proxyBeanMethods = false)
    static class EarlyBeanConfiguration {
        @Bean
        static EarlyJob earlyJob() {
            return new EarlyJob();
        }

        @Bean
        static NeedyPostProcessor needyPostProcessor(EarlyJob earlyJob) {
            return new NeedyPostProcessor();
        }
    }

    static class NeedyPostProcessor implements BeanPostProcessor, PriorityOrdered {
        @Override
        public int getOrder() {
            return 0;
        }
    }

    static class SelfCaller {
        private final AtomicInteger purged = new AtomicInteger();

        public void runAll() {
            purge();
        }

        @LeaderOnly
        public void purge() {
            purged.incrementAndGet();
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EnableScheduling
    static class ScheduledJob {
        private final List<Long> tokens = new CopyOnWriteArrayList<>();
        private final AtomicInteger revoked = new AtomicInteger();

        // Not gated. A class proxy has fields of its own: tests read the target's through methods.
        public List<Long> tokens() {
            return tokens;
        }

        public int revoked() {
            return revoked.get();
        }

        @Scheduled(fixedDelay = 5)
        @LeaderOnly
        void tick() { // package-private, as scheduled methods often are: the class proxy intercepts it too
            tokens.add(LeaderOnlyContext.fencingToken());
        }

        @EventListener
        void onRevoked(OnRevokedEvent event) {
            revoked.incrementAndGet();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class LifecycleBeans {
        @Bean
        Timeline timeline() {
            return new Timeline();
        }

        @Bean
        Worker worker(Timeline timeline) {
            return new Worker(timeline);
        }

        @Bean
        PlainWorker plainWorker(Timeline timeline) {
            return new PlainWorker(timeline);
        }
    }

    /** A SmartLifecycle in the default (last) phase. */
    @LeaderOnly
    static class Worker implements SmartLifecycle {
        private final Timeline timeline;
        private volatile boolean running;

        Worker(Timeline timeline) {
            this.timeline = timeline;
        }

        @Override
        public void start() {
            timeline.events.add("worker start token " + LeaderOnlyContext.fencingToken() + " on " + thread());
            running = true;
        }

        @Override
        public void stop() {
            timeline.events.add("worker stop on " + thread());
            running = false;
        }

        @Override
        public boolean isRunning() {
            return running;
        }
    }

    /** A plain Lifecycle: phase 0, so started before and stopped after {@link Worker}. */
    @LeaderOnly
    static class PlainWorker implements Lifecycle {
        private final Timeline timeline;
        private volatile boolean running;

        PlainWorker(Timeline timeline) {
            this.timeline = timeline;
        }

        @Override
        public void start() {
            timeline.events.add("plain start on " + thread());
            running = true;
        }

        @Override
        public void stop() {
            timeline.events.add("plain stop on " + thread());
            running = false;
        }

        @Override
        public boolean isRunning() {
            return running;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class EarlyLeadershipLifecycleBeans {
        @Bean
        Timeline timeline() {
            return new Timeline();
        }

        @Bean
        SlowWorker slowWorker(Timeline timeline, CountDownLatch releaseSlowWorker) {
            return new SlowWorker(timeline, releaseSlowWorker);
        }

        @Bean
        CountDownLatch releaseSlowWorker() {
            return new CountDownLatch(1);
        }

        /** Joins the election and waits to lead in phase 0, before the other lifecycle beans start. */
        @Bean
        SmartLifecycle earlyElection(LeaseElector elector, Timeline timeline) {
            return new SmartLifecycle() {
                private volatile boolean running;

                @Override
                public void start() {
                    elector.start();
                    eventually().until(elector::isLeader);
                    timeline.events.add("election started and leading");
                    running = true;
                }

                @Override
                public void stop() {
                    running = false;
                }

                @Override
                public boolean isRunning() {
                    return running;
                }

                @Override
                public int getPhase() {
                    return 0;
                }
            };
        }

        /** Starts after SlowWorker's phase, on the main thread, and lets the event thread finish starting it. */
        @Bean
        SmartLifecycle releaser(Timeline timeline, CountDownLatch releaseSlowWorker) {
            return new SmartLifecycle() {
                private volatile boolean running;

                @Override
                public void start() {
                    timeline.events.add("releaser start on " + thread());
                    releaseSlowWorker.countDown();
                    running = true;
                }

                @Override
                public void stop() {
                    running = false;
                }

                @Override
                public boolean isRunning() {
                    return running;
                }
            };
        }
    }

    /** Starting on the event thread takes until the releaser ran; so it is not running when the context looks. */
    @LeaderOnly
    static class SlowWorker implements SmartLifecycle {
        private final Timeline timeline;
        private final CountDownLatch release;
        private volatile boolean running;

        SlowWorker(Timeline timeline, CountDownLatch release) {
            this.timeline = timeline;
            this.release = release;
        }

        @Override
        public void start() {
            if (!thread().equals("main")) {
                try {
                    release.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            timeline.events.add("slow worker start on " + thread());
            running = true;
        }

        @Override
        public void stop() {
            running = false;
        }

        @Override
        public boolean isRunning() {
            return running;
        }

        @Override
        public int getPhase() {
            return SmartLifecycle.DEFAULT_PHASE - 1;
        }
    }

    private static String thread() {
        return Thread.currentThread().getName();
    }

    /** Public: the aspectj-less test proxies it from another class loader. */
    @LeaderOnly
    public static class TypeLevelReports {
        public String title() {
            return "report";
        }

        public void publish() {}

        String internal() {
            return "internal";
        }

        @Override
        public String toString() {
            return "reports";
        }
    }

    interface BillingApi {
        @LeaderOnly
        String charge();

        String refund();

        String balance();
    }

    static class Billing implements BillingApi {
        @Override
        public String charge() {
            return "charged " + LeaderOnlyContext.fencingToken();
        }

        @Override
        @LeaderOnly
        public String refund() {
            return "refunded";
        }

        @Override
        public String balance() {
            return "balance";
        }
    }

    /** Runs submitted tasks only when the test says so, on the test thread. */
    static class ManualExecutor implements TaskExecutor {
        private final BlockingQueue<Runnable> queued = new LinkedBlockingQueue<>();

        @Override
        public void execute(Runnable task) {
            queued.add(task);
        }

        void runQueued() {
            for (Runnable task = queued.poll(); task != null; task = queued.poll()) {
                task.run();
            }
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EnableAsync
    static class AsyncConfiguration {
        @Bean
        ManualExecutor taskExecutor() {
            return new ManualExecutor();
        }

        @Bean
        AsyncJob asyncJob() {
            return new AsyncJob();
        }
    }

    static class AsyncJob {
        private final AtomicInteger runs = new AtomicInteger();

        @Async
        @LeaderOnly
        public CompletableFuture<String> work() {
            runs.incrementAndGet();
            return CompletableFuture.completedFuture("worked under token " + LeaderOnlyContext.fencingToken());
        }

        @Async
        @LeaderOnly(onFollower = OnFollower.THROW)
        public CompletableFuture<String> strict() {
            runs.incrementAndGet();
            return CompletableFuture.completedFuture("strict");
        }

        public int runs() {
            return runs.get();
        }
    }

    /** Records begin and commit, and whether a @LeaderOnly term is bound when it commits. */
    static class RecordingTransactionManager extends AbstractPlatformTransactionManager {
        final List<String> events = new CopyOnWriteArrayList<>();

        @Override
        protected Object doGetTransaction() {
            return new Object();
        }

        @Override
        protected void doBegin(Object transaction, TransactionDefinition definition) {
            events.add("begin");
        }

        @Override
        protected void doCommit(DefaultTransactionStatus status) {
            events.add("commit, term " + (LeaderOnlyContext.currentTerm().isPresent() ? "bound" : "not bound"));
        }

        @Override
        protected void doRollback(DefaultTransactionStatus status) {
            events.add("rollback");
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EnableTransactionManagement
    static class TransactionalConfiguration {
        @Bean
        RecordingTransactionManager transactionManager() {
            return new RecordingTransactionManager();
        }

        @Bean
        Ledger ledger(RecordingTransactionManager transactions) {
            return new Ledger(transactions);
        }

        @Bean
        AsyncLedger asyncLedger() {
            return new AsyncLedger();
        }
    }

    static class Ledger {
        private final RecordingTransactionManager transactions;

        Ledger(RecordingTransactionManager transactions) {
            this.transactions = transactions;
        }

        @Transactional
        @LeaderOnly
        public void post() {
            transactions.events.add("post "
                    + (TransactionSynchronizationManager.isActualTransactionActive() ? "in" : "outside")
                    + " transaction, term " + (LeaderOnlyContext.currentTerm().isPresent() ? "bound" : "not bound"));
        }
    }

    static class AsyncLedger {
        @Async
        @Transactional
        @LeaderOnly
        public CompletableFuture<Void> post() {
            return CompletableFuture.completedFuture(null);
        }
    }

    record OrderPlaced(String id) {}

    static class OrderEvents {
        private final List<String> handled = new CopyOnWriteArrayList<>();

        @EventListener
        @LeaderOnly
        public void on(OrderPlaced event) {
            handled.add(event.id() + " under token " + LeaderOnlyContext.fencingToken());
        }

        public List<String> handled() {
            return handled;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class BlockingConfiguration {
        @Bean
        Timeline timeline() {
            return new Timeline();
        }

        @Bean
        BlockingJob blockingJob(Timeline timeline) {
            return new BlockingJob(timeline);
        }
    }

    static class BlockingJob {
        private final CountDownLatch started = new CountDownLatch(1);
        private final CountDownLatch release = new CountDownLatch(1);
        private final Timeline timeline;

        public CountDownLatch started() {
            return started;
        }

        public CountDownLatch release() {
            return release;
        }

        BlockingJob() {
            this(null);
        }

        BlockingJob(Timeline timeline) {
            this.timeline = timeline;
        }

        @LeaderOnly
        public void work() {
            started.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            timeline.events.add("work done");
        }
    }
}
