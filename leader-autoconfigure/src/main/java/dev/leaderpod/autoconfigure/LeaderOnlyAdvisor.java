package dev.leaderpod.autoconfigure;

import org.aopalliance.aop.Advice;
import org.springframework.aop.Pointcut;
import org.springframework.aop.support.AbstractPointcutAdvisor;

/**
 * Applies {@link LeaderOnlyInterceptor} to {@code @LeaderOnly} methods and to the public methods of
 * {@code @LeaderOnly} types, through whichever auto-proxy creator the context has (JDK or CGLIB proxies).
 *
 * <p>Order {@link LeaderOnlyAutoConfiguration#ADVISOR_ORDER}: outside {@code @Transactional}, caching, retry and
 * the other advisors of the auto-proxy creator, so a follower opens no transaction and the in-flight tracking covers
 * the commit; inside {@code @Async}, whose advisor Spring always puts first, so the check runs on the thread that
 * executes the method, when it starts.
 */
final class LeaderOnlyAdvisor extends AbstractPointcutAdvisor {

    private final transient LeaderOnlyInterceptor interceptor;

    LeaderOnlyAdvisor(LeaderOnlyInterceptor interceptor) {
        this.interceptor = interceptor;
        setOrder(LeaderOnlyAutoConfiguration.ADVISOR_ORDER);
    }

    @Override
    public Pointcut getPointcut() {
        return LeaderOnlyMethods.POINTCUT;
    }

    @Override
    public Advice getAdvice() {
        return interceptor;
    }

    /** The calls running now, for the end-of-term drain. */
    InFlightCalls calls() {
        return interceptor.calls();
    }
}
