package dev.leaderpod.leaderonly;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.annotation.LeaderOnly;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.aop.TargetClassAware;

/**
 * How the interceptor finds what a call is: one {@link Method} object can be gated on one target class and not on
 * another, and a target that tells its own class (a proxy, whose class many targets share) is asked each time. The
 * interceptor's lookup is keyed by method and class; these calls give it the same {@code Method} object with
 * different targets, as a proxy shared by beans of several classes does.
 */
class LeaderOnlyInterceptorResolutionTest {

    private static final String RAN = ProxyCall.RAN;

    /** A follower: a gated call is skipped and returns null. */
    private final LeaderOnlyInterceptor interceptor =
            new LeaderOnlyInterceptor(election -> new TestLeadership(), List::of);

    @Test
    void oneMethodIsGatedOnTheClassThatAnnotatesItsTypeAndRunsOnAnother() throws Throwable {
        Method work = Base.class.getMethod("work");

        for (int round = 0; round < 3; round++) { // the first call resolves, the next ones find the resolution
            assertThat(call(work, new Base())).isEqualTo(RAN);
            assertThat(call(work, new TypeGated())).isNull();
        }
    }

    @Test
    void aTargetThatTellsItsOwnClassIsResolvedByThatClassForEachTarget() throws Throwable {
        Method work = Work.class.getMethod("work");
        Object toGated = new ClassTellingTarget(GatedWork.class);
        Object toPlain = new ClassTellingTarget(PlainWork.class);

        for (int round = 0; round < 3; round++) {
            assertThat(call(work, toGated)).isNull();
            assertThat(call(work, toPlain)).isEqualTo(RAN);
        }
    }

    @Test
    void aCallWithoutTargetIsResolvedOnTheClassThatDeclaresTheMethod() throws Throwable {
        assertThat(call(GatedWork.class.getMethod("work"), null)).isNull();
        assertThat(call(PlainWork.class.getMethod("work"), null)).isEqualTo(RAN);
        // Declared by an interface whose implementations tell their own class: with no target, nothing to ask.
        assertThat(call(TargetClassAware.class.getMethod("getTargetClass"), null))
                .isEqualTo(RAN);
    }

    @Test
    void everyResolutionIsStillFoundAfterManyMethodsWereResolved() throws Throwable {
        Method work = Base.class.getMethod("work");
        List<Method> others = new ArrayList<>(Arrays.stream(ArrayList.class.getMethods())
                .filter(method -> !Modifier.isStatic(method.getModifiers()))
                .toList());
        assertThat(others).hasSizeGreaterThan(40); // more than the lookup's first capacity

        for (Method other : others) {
            assertThat(call(other, new ArrayList<>())).isEqualTo(RAN);
            assertThat(call(work, new TypeGated())).isNull();
            assertThat(call(work, new Base())).isEqualTo(RAN);
        }
        for (Method other : others) {
            assertThat(call(other, new ArrayList<>())).isEqualTo(RAN);
        }
    }

    private Object call(Method method, Object target) throws Throwable {
        return interceptor.invoke(new ProxyCall(method, target));
    }

    public static class Base {
        public String work() {
            return RAN;
        }
    }

    @LeaderOnly
    public static class TypeGated extends Base {}

    public interface Work {
        String work();
    }

    public static class GatedWork implements Work {
        @Override
        @LeaderOnly
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

    /** Stands for a proxy: one class, and each instance tells the class of the target it stands for. */
    private record ClassTellingTarget(Class<?> targetClass) implements TargetClassAware, Work {
        @Override
        public Class<?> getTargetClass() {
            return targetClass;
        }

        @Override
        public String work() {
            return RAN;
        }
    }
}
