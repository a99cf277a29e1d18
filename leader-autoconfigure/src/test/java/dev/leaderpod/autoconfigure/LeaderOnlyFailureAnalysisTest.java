package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.autoconfigure.LeaderOnlyAutoConfigurationTest.EarlyBeanConfiguration;
import dev.leaderpod.autoconfigure.LeaderOnlyAutoConfigurationTest.FinalJob;
import dev.leaderpod.autoconfigure.LeaderOnlyAutoConfigurationTest.PrimitiveCounter;
import dev.leaderpod.autoconfigure.LeaderOnlyAutoConfigurationTest.PrivateJob;
import dev.leaderpod.autoconfigure.LeaderOnlyAutoConfigurationTest.StaticJob;
import dev.leaderpod.autoconfigure.NamedElectionsAutoConfigurationTest.BadlyNamedJob;
import dev.leaderpod.autoconfigure.NamedElectionsAutoConfigurationTest.LongNamedJob;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.leaderonly.LeaderOnlyFailureAnalyzer;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * Every message of {@link LeaderOnlyFailureAnalyzer}, in full, as a user meets it: a declaration that no proxy can
 * gate, a bean created too early, an election name that cannot be. A garbled sentence fails its test.
 */
class LeaderOnlyFailureAnalysisTest {

    private static final String README = " See the @LeaderOnly section of the Leader Election Pod README.";

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    AopAutoConfiguration.class,
                    LeaderElectionAutoConfiguration.class,
                    LeaderOnlyAutoConfiguration.class))
            .withPropertyValues("spring.application.name=billing", "leader.identity=me")
            .withBean(LeaseStore.class, InMemoryLeaseStore::new);

    @Test
    void aPrimitiveReturnType() {
        assertAnalysis(
                contextRunner.withBean("counter", PrimitiveCounter.class),
                "@LeaderOnly cannot be applied as declared: method " + PrimitiveCounter.class.getName()
                        + ".count() of bean 'counter' returns the primitive type int, but a call skipped on a"
                        + " follower has no int to return.",
                "Return void, Integer (null on followers), Optional or CompletableFuture instead, or declare"
                        + " @LeaderOnly(onFollower = THROW) on the method to make followers throw"
                        + " NotLeaderException." + README);
    }

    @Test
    void aPrivateMethod() {
        assertAnalysis(
                contextRunner.withBean("job", PrivateJob.class),
                "@LeaderOnly cannot be applied as declared: method " + PrivateJob.class.getName()
                        + ".work() of bean 'job' is private: a Spring proxy cannot intercept it, so it would never be"
                        + " gated.",
                "Make the method a non-private instance method called through the bean, or check"
                        + " Leadership.isLeader() inside it." + README);
    }

    @Test
    void aStaticMethod() {
        assertAnalysis(
                contextRunner.withBean("job", StaticJob.class),
                "@LeaderOnly cannot be applied as declared: method " + StaticJob.class.getName()
                        + ".work() of bean 'job' is static: a Spring proxy cannot intercept it, so it would never be"
                        + " gated.",
                "Make the method a non-private instance method called through the bean, or check"
                        + " Leadership.isLeader() inside it." + README);
    }

    @Test
    void aFinalMethodOfAClassProxiedBean() {
        assertAnalysis(
                contextRunner.withBean("job", FinalJob.class),
                "@LeaderOnly cannot be applied as declared: method " + FinalJob.class.getName()
                        + ".work() of bean 'job' is final: the class-based (CGLIB) proxy cannot override it, so it"
                        + " would never be gated.",
                "Remove 'final' from the method (or from its class)." + README);
    }

    @Test
    void aBeanCreatedBeforeTheAopInfrastructure() {
        assertAnalysis(
                contextRunner.withUserConfiguration(EarlyBeanConfiguration.class),
                "@LeaderOnly cannot be applied as declared: bean 'earlyJob' ("
                        + LeaderOnlyAutoConfigurationTest.EarlyJob.class.getName() + ") has @LeaderOnly methods but"
                        + " is not proxied: it was created before the AOP infrastructure, typically because a"
                        + " BeanPostProcessor or BeanFactoryPostProcessor depends on it, so its methods would run on"
                        + " every replica.",
                "Make sure no post-processor depends on 'earlyJob' (Spring logs it as 'not eligible for getting"
                        + " processed by all BeanPostProcessors'), for example by injecting it lazily (@Lazy or"
                        + " ObjectProvider) or by declaring the post-processor's @Bean method static." + README);
    }

    @Test
    void anInvalidElectionName() {
        assertAnalysis(
                contextRunner.withBean("job", BadlyNamedJob.class),
                "@LeaderOnly cannot be applied as declared: method " + BadlyNamedJob.class.getName()
                        + ".run() of bean 'job' names the election 'Reports_2', which is refused: its name must be"
                        + " lower-case letters, digits and '-', starting and ending with a letter or digit, as it names"
                        + " the lease 'billing-<name>'.",
                "Name the election with lower-case letters, digits and '-' only, starting and ending with a letter or"
                        + " digit, short enough for its lease name to stay within 253 characters, in"
                        + " @LeaderOnly(\"...\") on the method or its class." + README);
    }

    @Test
    void anElectionWhoseLeaseNameWouldBeTooLong() {
        String base = "l".repeat(230);
        assertAnalysis(
                contextRunner.withPropertyValues("leader.lease-name=" + base).withBean("job", LongNamedJob.class),
                "@LeaderOnly cannot be applied as declared: method " + LongNamedJob.class.getName()
                        + ".run() of bean 'job' names the election 'a-rather-long-election-name', which is refused:"
                        + " its name must keep its lease name '" + base + "-a-rather-long-election-name' a valid"
                        + " Kubernetes object name: at most 253 characters.",
                "Name the election with lower-case letters, digits and '-' only, starting and ending with a letter or"
                        + " digit, short enough for its lease name to stay within 253 characters, in"
                        + " @LeaderOnly(\"...\") on the method or its class." + README);
    }

    @Test
    void aNamedElectionWithoutTheElectionAutoConfiguration() {
        LeaseElector own = LeaseElector.builder(ElectionSettings.withDefaults("own", "me"), new InMemoryLeaseStore())
                .build();
        assertAnalysis(
                new ApplicationContextRunner()
                        .withConfiguration(
                                AutoConfigurations.of(AopAutoConfiguration.class, LeaderOnlyAutoConfiguration.class))
                        .withBean(LeaseElector.class, () -> own)
                        .withBean("job", ReportsJob.class),
                "@LeaderOnly cannot be applied as declared: method " + ReportsJob.class.getName()
                        + ".run() of bean 'job' names the election 'reports', which is refused: its name must be"
                        + " empty here: named elections need LeaderElectionAutoConfiguration, which builds them, and"
                        + " this application builds its own elector without it.",
                "Remove the name from @LeaderOnly(\"reports\") to follow the default election, or let"
                        + " LeaderElectionAutoConfiguration build the elector (remove the application's own"
                        + " LeaseElector bean)." + README);
    }

    private static void assertAnalysis(ApplicationContextRunner runner, String description, String action) {
        runner.run(context -> {
            assertThat(context).hasFailed();
            FailureAnalysis analysis = new LeaderOnlyFailureAnalyzer().analyze(context.getStartupFailure());
            assertThat(analysis)
                    .as("failure analysis of %s", context.getStartupFailure())
                    .isNotNull();
            assertThat(analysis.getDescription()).isEqualTo(description);
            assertThat(analysis.getAction()).isEqualTo(action);
        });
    }

    static class ReportsJob {
        @LeaderOnly("reports")
        public void run() {}
    }
}
