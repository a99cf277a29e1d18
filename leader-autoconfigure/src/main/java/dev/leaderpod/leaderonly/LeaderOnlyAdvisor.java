package dev.leaderpod.leaderonly;

import java.lang.reflect.Method;
import org.aopalliance.aop.Advice;
import org.springframework.aop.Pointcut;
import org.springframework.aop.support.AbstractPointcutAdvisor;
import org.springframework.core.Ordered;

/**
 * Applies {@link LeaderOnlyInterceptor} to {@code @LeaderOnly} methods and to the public methods of
 * {@code @LeaderOnly} types, through whichever auto-proxy creator the context has (JDK or CGLIB proxies).
 *
 * <p>Order {@link #ORDER}: outside {@code @Transactional}, caching, retry and
 * the other advisors of the auto-proxy creator, so a follower opens no transaction and the in-flight tracking covers
 * the commit; inside {@code @Async}, whose advisor Spring always puts first, so the check runs on the thread that
 * executes the method, when it starts.
 */
public final class LeaderOnlyAdvisor extends AbstractPointcutAdvisor {

    /**
     * Order of the {@code @LeaderOnly} advisor among the advisors of the auto-proxy creator: before (outside)
     * {@code @Transactional}, {@code @Cacheable}, {@code @Retryable} and aspects of default order, so that a
     * follower's skipped call opens no transaction and is not retried, and a leader's call is tracked until its
     * transaction committed. {@code @Async} is always outside it (Spring adds the async advisor first), so the
     * check runs on the executor thread when the method really starts.
     */
    public static final int ORDER = Ordered.HIGHEST_PRECEDENCE + 100;

    private final transient LeaderOnlyInterceptor interceptor;

    public LeaderOnlyAdvisor(LeaderOnlyInterceptor interceptor) {
        this.interceptor = interceptor;
        setOrder(ORDER);
    }

    @Override
    public Pointcut getPointcut() {
        return LeaderOnlyMethods.POINTCUT;
    }

    @Override
    public Advice getAdvice() {
        return interceptor;
    }

    /**
     * The election {@code method} follows when called on a bean of {@code targetClass}: {@code ""} for the default
     * one (and for a method that is not gated). For observers, which are told the method of a skipped call.
     */
    public static String electionOf(Method method, Class<?> targetClass) {
        return LeaderOnlyMethods.resolve(method, targetClass)
                .map(LeaderOnlyMethods.Gated::election)
                .orElse("");
    }

    /** The calls running now, for the end-of-term drain. */
    public InFlightCalls calls() {
        return interceptor.calls();
    }
}
