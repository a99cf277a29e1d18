package dev.leaderpod.benchmarks.jmh;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.autoconfigure.LeaderElections;
import dev.leaderpod.core.Leadership;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.leaderonly.LeaderOnlyInterceptor;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.aopalliance.intercept.MethodInterceptor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.springframework.aop.Advisor;
import org.springframework.aop.framework.ProxyFactory;
import org.springframework.aop.support.AopUtils;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

/**
 * Scenario 4: the cost of a {@code @LeaderOnly} call on the leader, next to the same call through an empty Spring
 * AOP advice (same proxy kind, an interceptor that only proceeds), a plain call, and one read of the clock (the
 * part of the overhead no implementation can avoid while it checks the deadline at call time).
 *
 * <p>The context is a Boot application with auto-configuration, so whatever auto-configuration the starter ships
 * for {@code @LeaderOnly} applies; {@link #leaderOnlyIntercepted} tells whether one did (without it, the
 * "leader-only" bean is not proxied and its call is a plain call).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LeaderOnlyBenchmark {

    private ConfigurableApplicationContext context;
    private LeaderOnlyWork leaderOnly;
    private NamedLeaderOnlyWork namedLeaderOnly;
    private LeaderOnlyWork leaderOnlyClockFree;
    private AdvisedWork emptyAdvice;
    private PlainWork plain;
    private String input = "payload";

    @Setup(Level.Trial)
    public void start() throws Exception {
        context = startContext();
        leaderOnly = context.getBean(LeaderOnlyWork.class);
        namedLeaderOnly = context.getBean(NamedLeaderOnlyWork.class);
        emptyAdvice = context.getBean(AdvisedWork.class);
        leaderOnlyClockFree = clockFreeLeaderOnlyProxy();
        plain = new PlainWork();
    }

    @TearDown(Level.Trial)
    public void stop() {
        context.close();
    }

    @Benchmark
    public String leaderOnlyCall() {
        return leaderOnly.work(input);
    }

    /** The same call following a named election ({@code @LeaderOnly("reports")}): resolved once, no lookup by name. */
    @Benchmark
    public String namedLeaderOnlyCall() {
        return namedLeaderOnly.work(input);
    }

    /**
     * The same interceptor on the same kind of proxy, following an election whose check reads no clock (a term held
     * in a field): what the interceptor itself costs, without the one clock read a real election's check makes.
     */
    @Benchmark
    public String leaderOnlyCallWithoutClock() {
        return leaderOnlyClockFree.work(input);
    }

    @Benchmark
    public String emptyAdviceCall() {
        return emptyAdvice.work(input);
    }

    /**
     * One read of the monotonic clock, which every {@code @LeaderOnly} call needs to check the renew deadline at call
     * time: the floor of the overhead on this machine.
     */
    @Benchmark
    public long clockRead() {
        return System.nanoTime();
    }

    @Benchmark
    public String plainCall() {
        return plain.work(input);
    }

    /** Starts the application and waits until it leads (it is the only candidate). */
    public static ConfigurableApplicationContext startContext() throws Exception {
        Path directory = Files.createTempDirectory("leaderonly-jmh");
        ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class)
                .web(WebApplicationType.NONE)
                .properties(
                        "spring.main.banner-mode=off",
                        "logging.level.root=WARN",
                        "spring.application.name=jmh",
                        "leader.store=local",
                        "leader.local.directory=" + directory)
                .run();
        LeaderElections elections = context.getBean(LeaderElections.class);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!elections.election("").isLeader()
                || !elections.election("reports").isLeader()) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("the benchmark application did not become leader");
            }
            Thread.sleep(10);
        }
        return context;
    }

    /** A CGLIB proxy, as the context makes them, with a {@code @LeaderOnly} interceptor whose election reads no clock. */
    private static LeaderOnlyWork clockFreeLeaderOnlyProxy() {
        ProxyFactory factory = new ProxyFactory(new LeaderOnlyWork());
        factory.setProxyTargetClass(true);
        factory.addAdvice(new LeaderOnlyInterceptor(name -> new ClockFreeLeadership(), List::of));
        return (LeaderOnlyWork) factory.getProxy();
    }

    /** Leads with one term for ever: its check is a field read. */
    private static final class ClockFreeLeadership implements Leadership {
        private final Optional<LeadershipTerm> term = Optional.of(new LeadershipTerm("jmh", "jmh-1", 1, Instant.EPOCH));

        @Override
        public String leaseName() {
            return "jmh";
        }

        @Override
        public String identity() {
            return "jmh-1";
        }

        @Override
        public boolean isLeader() {
            return true;
        }

        @Override
        public Optional<LeadershipTerm> currentTerm() {
            return term;
        }
    }

    /** Whether the {@code @LeaderOnly} bean is proxied, i.e. an interceptor for the annotation exists. */
    public static boolean leaderOnlyIntercepted(ConfigurableApplicationContext context) {
        return AopUtils.isAopProxy(context.getBean(LeaderOnlyWork.class));
    }

    @Target(ElementType.METHOD)
    @Retention(RetentionPolicy.RUNTIME)
    public @interface EmptyAdvised {}

    public static class LeaderOnlyWork {
        @LeaderOnly
        public String work(String input) {
            return input;
        }
    }

    public static class NamedLeaderOnlyWork {
        @LeaderOnly("reports")
        public String work(String input) {
            return input;
        }
    }

    public static class AdvisedWork {
        @EmptyAdvised
        public String work(String input) {
            return input;
        }
    }

    public static class PlainWork {
        public String work(String input) {
            return input;
        }
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    public static class App {

        @Bean
        LeaderOnlyWork leaderOnlyWork() {
            return new LeaderOnlyWork();
        }

        @Bean
        NamedLeaderOnlyWork namedLeaderOnlyWork() {
            return new NamedLeaderOnlyWork();
        }

        @Bean
        AdvisedWork advisedWork() {
            return new AdvisedWork();
        }

        /** The baseline: an advice that only proceeds, on the same kind of proxy. */
        @Bean
        static Advisor emptyAdvisor() {
            return new DefaultPointcutAdvisor(
                    new AnnotationMatchingPointcut(null, EmptyAdvised.class, true),
                    (MethodInterceptor) invocation -> invocation.proceed());
        }
    }
}
