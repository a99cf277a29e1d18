package dev.leaderpod.leaderonly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.leaderonly.LeaderOnlyLeadershipListener.GatedLifecycle;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.aop.TargetSource;
import org.springframework.aop.framework.ProxyFactory;
import org.springframework.aop.target.HotSwappableTargetSource;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.Ordered;

/** The start-up checks and bookkeeping of the post-processor, on a bare bean factory. */
@ExtendWith(OutputCaptureExtension.class)
class LeaderOnlyBeanPostProcessorTest {

    private final DefaultListableBeanFactory beanFactory = new DefaultListableBeanFactory();
    private final LeaderOnlyBeanPostProcessor postProcessor =
            new LeaderOnlyBeanPostProcessor(election -> new TestLeadership());

    LeaderOnlyBeanPostProcessorTest() {
        postProcessor.setBeanFactory(beanFactory);
    }

    @Test
    void runsAfterEveryAutoProxyCreatorWhateverItsOrderToSeeTheProxyItChecks() {
        // The final-method check needs the class proxy, and the lifecycle beans must be started through it.
        assertThat(postProcessor.getOrder()).isEqualTo(Ordered.LOWEST_PRECEDENCE);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Declarations that no proxy can gate

    @Test
    void staticLeaderOnlyMethodOfAnInterfaceIsRefusedLikeOneOfAClass() {
        // Called as Maintenance.compact(), it would run on every replica: no proxy ever sees a static call.
        assertThatThrownBy(() -> postProcessor.postProcessAfterInitialization(new MaintenanceJob(), "maintenance"))
                .isInstanceOf(LeaderOnlyDeclarationException.class)
                .hasMessageContaining(MaintenanceJob.class.getName() + ".compact()")
                .hasMessageContaining("is static");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Singletons that skipped the post-processors

    @Test
    void anUnprocessedSingletonIsAcceptedWhenItIsAlreadyALeaderOnlyProxyEvenInsideAnotherProxy() {
        beanFactory.registerSingleton("proxied", leaderOnlyProxy(new Job()));
        beanFactory.registerSingleton("wrapped", plainProxy(leaderOnlyProxy(new Job())));

        assertThatCode(postProcessor::afterSingletonsInstantiated).doesNotThrowAnyException();
    }

    @Test
    void anUnprocessedSingletonWithoutTheLeaderOnlyAdvisorIsRefused() {
        beanFactory.registerSingleton("other", plainProxy(new Job()));

        assertThatThrownBy(postProcessor::afterSingletonsInstantiated)
                .isInstanceOf(LeaderOnlyDeclarationException.class)
                .hasMessageContaining(
                        "bean 'other' (" + Job.class.getName() + ") has @LeaderOnly methods but is not" + " proxied");
    }

    @Test
    void anUnprocessedProxyWhoseTargetCanChangeIsRefusedSinceItsTargetCannotBeVouchedFor() {
        ProxyFactory factory = new ProxyFactory();
        factory.setTargetSource(new HotSwappableTargetSource(leaderOnlyProxy(new Job())));
        factory.setProxyTargetClass(true);
        factory.addAdvice(passThrough());
        beanFactory.registerSingleton("swappable", factory.getProxy());

        assertThatThrownBy(postProcessor::afterSingletonsInstantiated)
                .isInstanceOf(LeaderOnlyDeclarationException.class)
                .hasMessageContaining("'swappable'");
    }

    @Test
    void aProxyThatIsItsOwnTargetEndsTheSearchAndIsRefused() {
        Object[] self = new Object[1];
        self[0] = proxyOfStaticTarget(() -> self[0]);
        beanFactory.registerSingleton("cyclic", self[0]);

        assertThatThrownBy(postProcessor::afterSingletonsInstantiated)
                .isInstanceOf(LeaderOnlyDeclarationException.class)
                .hasMessageContaining("'cyclic'");
    }

    @Test
    void aProxyWhoseTargetCannotBeObtainedIsRefused() {
        AtomicBoolean gone = new AtomicBoolean(); // the proxy asks for its static target once, when created
        beanFactory.registerSingleton("unreachable", proxyOfStaticTarget(() -> {
            if (gone.get()) {
                throw new IllegalStateException("no target");
            }
            return new Job();
        }));
        gone.set(true);

        assertThatThrownBy(postProcessor::afterSingletonsInstantiated)
                .isInstanceOf(LeaderOnlyDeclarationException.class)
                .hasMessageContaining("'unreachable'");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Self-invocation warnings

    @Test
    void warnsOnceAboutASelfInvocationNamingParameterTypesAtTheFirstBeanOfTheClass(CapturedOutput output) {
        String warning = Purger.class.getName() + ".runAll(String) calls @LeaderOnly method " + Purger.class.getName()
                + ".purge(String, long) on 'this': such a call bypasses the Spring proxy";

        postProcessor.postProcessAfterInitialization(new Purger(), "first");
        assertThat(output).contains(warning);
        postProcessor.postProcessAfterInitialization(new Purger(), "second");

        assertThat(output.getAll().split("calls @LeaderOnly method", -1)).hasSize(2);
    }

    @Test
    void warnsThatCallsThroughAMethodReferenceToAGatedMethodBypassTheProxy(CapturedOutput output) {
        postProcessor.postProcessAfterInitialization(new Scheduler(), "scheduler");

        assertThat(output)
                .contains(Scheduler.class.getName() + ".schedule(Executor) takes a method reference to @LeaderOnly"
                        + " method " + Scheduler.class.getName() + ".refresh() on 'this': calls through it bypass the"
                        + " Spring proxy");
    }

    @Test
    void doesNotWarnAboutSelfCallsOfMethodsLeadershipDoesNotCheck(CapturedOutput output) {
        beanFactory.registerBeanDefinition("poller", new RootBeanDefinition(Poller.class));

        postProcessor.postProcessAfterInitialization(new Poller(), "poller");

        // isAutoStartup() is answered by the proxy (false), not checked against leadership: nothing to bypass.
        assertThat(output).doesNotContain("@LeaderOnly method");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Gated lifecycle beans

    @Test
    void lifecycleBeansAreTheContextsExposedBeansOrAsSeenWhenTheContextNoLongerHasThem() {
        beanFactory.registerBeanDefinition("poller", new RootBeanDefinition(Poller.class));
        Poller seen = new Poller();
        postProcessor.postProcessAfterInitialization(seen, "poller");
        assertThat(postProcessor.lifecycleBeans())
                .singleElement()
                .extracting(GatedLifecycle::bean)
                .isSameAs(seen);

        Poller exposed = new Poller();
        beanFactory.registerSingleton("poller", exposed);

        assertThat(postProcessor.lifecycleBeans()).singleElement().satisfies(gated -> {
            assertThat(gated.name()).isEqualTo("poller");
            assertThat(gated.bean()).isSameAs(exposed);
        });
    }

    @Test
    void aLifecycleBeanWithOnlyMethodLevelAnnotationsIsNotLeftToLeadership() {
        beanFactory.registerBeanDefinition("worker", new RootBeanDefinition(MethodLevelLifecycle.class));

        postProcessor.postProcessAfterInitialization(new MethodLevelLifecycle(), "worker");

        assertThat(postProcessor.lifecycleBeans()).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------

    private static Object leaderOnlyProxy(Object target) {
        ProxyFactory factory = new ProxyFactory(target);
        factory.setProxyTargetClass(true);
        factory.addAdvisor(
                new LeaderOnlyAdvisor(new LeaderOnlyInterceptor(election -> new TestLeadership(), List::of)));
        return factory.getProxy();
    }

    /** A class proxy of a {@link Job}, without the {@code @LeaderOnly} advisor, over a static target source. */
    private static Object proxyOfStaticTarget(Supplier<Object> target) {
        ProxyFactory factory = new ProxyFactory();
        factory.setProxyTargetClass(true);
        factory.setTargetSource(new TargetSource() {
            @Override
            public Class<?> getTargetClass() {
                return Job.class;
            }

            @Override
            public boolean isStatic() {
                return true;
            }

            @Override
            public Object getTarget() {
                return target.get();
            }
        });
        factory.addAdvice(passThrough());
        return factory.getProxy();
    }

    private static Object plainProxy(Object target) {
        ProxyFactory factory = new ProxyFactory(target);
        factory.setProxyTargetClass(true);
        factory.addAdvice(passThrough());
        return factory.getProxy();
    }

    private static MethodInterceptor passThrough() {
        return MethodInvocation::proceed;
    }

    static class Job {
        @LeaderOnly
        public void work() {}
    }

    interface Maintenance {
        @LeaderOnly
        static void compact() {}
    }

    static class MaintenanceJob implements Maintenance {}

    static class Purger {
        public void runAll(String region) {
            purge(region, 3L);
        }

        @LeaderOnly
        public void purge(String region, long age) {}
    }

    static class Scheduler {
        public void schedule(Executor executor) {
            executor.execute(this::refresh);
        }

        @LeaderOnly
        public void refresh() {}
    }

    @LeaderOnly
    static class Poller implements SmartLifecycle {
        private volatile boolean running;

        @Override
        public void start() {
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
            return isAutoStartup() ? DEFAULT_PHASE : 0;
        }
    }

    static class MethodLevelLifecycle implements SmartLifecycle {
        @LeaderOnly
        public void work() {}

        @Override
        public void start() {}

        @Override
        public void stop() {}

        @Override
        public boolean isRunning() {
            return false;
        }
    }
}
