package dev.leaderpod.leaderonly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.annotation.LeaderOnly.OnFollower;
import dev.leaderpod.annotation.NotLeaderException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.aop.framework.ProxyFactory;

/** The interceptor where the leadership view fails or tells little, and on methods it does not gate. */
class LeaderOnlyInterceptorEdgeCasesTest {

    private final TestLeadership leadership = new TestLeadership();
    private final LeaderOnlyInterceptor interceptor = new LeaderOnlyInterceptor(election -> leadership, List::of);

    @Test
    void aLeadershipCheckThatThrowsLeavesNoCallInFlightForTheDrainToWaitFor() {
        Jobs jobs = proxy(new Jobs(), true);
        leadership.grant(4);
        leadership.onCheck(() -> {
            throw new IllegalStateException("store unreachable");
        });
        assertThatThrownBy(jobs::purge).hasMessage("store unreachable");
        assertThat(interceptor.calls().running()).isEmpty();

        leadership.onCheck(() -> {
            throw new AssertionError("broken view");
        });
        assertThatThrownBy(jobs::purge).hasMessage("broken view");

        // A registration left behind would hold every later drain for the whole leader.drain-timeout.
        assertThat(interceptor.calls().running()).isEmpty();
        assertThat(interceptor.calls().awaitCompletion(leadership.grant(5), Duration.ZERO))
                .isEmpty();
        assertThat(jobs.runs()).isEmpty();
    }

    @Test
    void throwModeSaysNoLeaderWasSeenWhenTheViewCannotTellWhoLeads() {
        Jobs jobs = proxy(new Jobs(), true);

        assertThatThrownBy(jobs::allocate)
                .isInstanceOfSatisfying(
                        NotLeaderException.class, e -> assertThat(e.getLeader()).isEmpty())
                .hasMessageEndingWith("and me does not lead it (no leader seen)");
    }

    @Test
    void methodsItDoesNotGateRunUnchangedWhenItAdvisesEveryMethod() {
        // Added as plain advice (no pointcut), the interceptor sees every method and must pass the others through.
        Jobs jobs = proxy(new Jobs(), false);

        assertThat(jobs.ungated()).isEqualTo("ran");
        jobs.purge();
        assertThat(jobs.runs()).isEmpty();
    }

    @SuppressWarnings("unchecked")
    private <T> T proxy(T target, boolean withPointcut) {
        ProxyFactory factory = new ProxyFactory(target);
        factory.setProxyTargetClass(true);
        if (withPointcut) {
            factory.addAdvisor(new LeaderOnlyAdvisor(interceptor));
        } else {
            factory.addAdvice(interceptor);
        }
        return (T) factory.getProxy();
    }

    static class Jobs {
        private final List<String> runs = new java.util.concurrent.CopyOnWriteArrayList<>();

        public List<String> runs() {
            return runs;
        }

        @LeaderOnly
        public void purge() {
            runs.add("purge");
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
}
