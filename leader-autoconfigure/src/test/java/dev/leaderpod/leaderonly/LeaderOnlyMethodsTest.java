package dev.leaderpod.leaderonly;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.annotation.LeaderOnly.OnFollower;
import dev.leaderpod.leaderonly.LeaderOnlyMethods.Gated;
import dev.leaderpod.leaderonly.LeaderOnlyMethods.Kind;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.BeanNameAware;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.Ordered;
import org.springframework.util.ReflectionUtils;

/** Which methods are gated: the pointcut and the interceptor's resolution must always agree. */
class LeaderOnlyMethodsTest {

    @ParameterizedTest
    @ValueSource(classes = {TypeLevelWorker.class, MethodLevel.class, Implementation.class, Plain.class})
    void pointcutMatchesExactlyTheMethodsTheInterceptorGates(Class<?> type) {
        for (Method method : methodsOf(type)) {
            boolean matched = LeaderOnlyMethods.POINTCUT.getClassFilter().matches(type)
                    && LeaderOnlyMethods.POINTCUT.getMethodMatcher().matches(method, type);
            assertThat(matched)
                    .as("pointcut match of %s", method)
                    .isEqualTo(LeaderOnlyMethods.resolve(method, type).isPresent());
        }
    }

    @Test
    void typeLevelGatesPublicBusinessMethodsAndTheLifecycleStartOnly() {
        assertThat(gatedMethods(TypeLevelWorker.class))
                .containsExactly(
                        Map.entry("isAutoStartup", Kind.AUTO_STARTUP_OFF),
                        Map.entry("report", Kind.GATED),
                        Map.entry("start", Kind.GATED),
                        Map.entry("work", Kind.GATED));
    }

    @Test
    void methodLevelAnnotationOverridesTheTypeLevelMode() {
        assertThat(resolve(TypeLevelWorker.class, "report").onFollower()).isEqualTo(OnFollower.THROW);
        assertThat(resolve(TypeLevelWorker.class, "work").onFollower()).isEqualTo(OnFollower.SKIP);
    }

    @Test
    void lifecycleStartAlwaysSkipsSoThatAFollowersContextStartDoesNotFail() {
        assertThat(resolve(ThrowingWorker.class, "start").onFollower()).isEqualTo(OnFollower.SKIP);
        assertThat(resolve(ThrowingWorker.class, "work").onFollower()).isEqualTo(OnFollower.THROW);
    }

    @Test
    void annotationOnAnInterfaceMethodGatesItsImplementation() {
        assertThat(gatedMethods(Implementation.class)).containsOnlyKeys("fromInterface");
    }

    @Test
    void methodLevelAnnotationGatesNonPublicMethodsThatAProxyCanIntercept() {
        assertThat(gatedMethods(MethodLevel.class)).containsOnlyKeys("packagePrivate", "publicOne", "purge");
    }

    @Test
    void describesAMethodByClassNameAndSimpleParameterTypesForMessages() {
        Method purge = ReflectionUtils.findMethod(MethodLevel.class, "purge", String.class, long.class);

        assertThat(LeaderOnlyMethods.describe(MethodLevel.class, purge))
                .isEqualTo(MethodLevel.class.getName() + ".purge(String, long)");
        assertThat(resolve(MethodLevel.class, "publicOne").describe())
                .isEqualTo(MethodLevel.class.getName() + ".publicOne()");
    }

    private static Gated resolve(Class<?> type, String name) {
        return LeaderOnlyMethods.resolve(ReflectionUtils.findMethod(type, name), type)
                .orElseThrow();
    }

    private static Map<String, Kind> gatedMethods(Class<?> type) {
        Map<String, Kind> gated = new TreeMap<>();
        for (Method method : methodsOf(type)) {
            LeaderOnlyMethods.resolve(method, type).ifPresent(resolved -> gated.put(method.getName(), resolved.kind()));
        }
        return gated;
    }

    private static Method[] methodsOf(Class<?> type) {
        return Stream.concat(
                        Arrays.stream(ReflectionUtils.getAllDeclaredMethods(type)),
                        Arrays.stream(type.getInterfaces()).flatMap(i -> Arrays.stream(i.getMethods())))
                .filter(method -> !method.isSynthetic())
                .toArray(Method[]::new);
    }

    @LeaderOnly
    static class TypeLevelWorker implements SmartLifecycle, Ordered, BeanNameAware, InitializingBean {
        public void work() {}

        @LeaderOnly(onFollower = OnFollower.THROW)
        public Optional<String> report() {
            return Optional.empty();
        }

        void packagePrivate() {}

        public static void utility() {}

        @Override
        public void start() {}

        @Override
        public void stop() {}

        @Override
        public boolean isRunning() {
            return false;
        }

        @Override
        public int getOrder() {
            return 0;
        }

        @Override
        public void setBeanName(String name) {}

        @Override
        public void afterPropertiesSet() {}

        @Override
        public String toString() {
            return "worker";
        }
    }

    @LeaderOnly(onFollower = OnFollower.THROW)
    static class ThrowingWorker implements SmartLifecycle {
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

    static class MethodLevel {
        @LeaderOnly
        void packagePrivate() {}

        @LeaderOnly
        public void publicOne() {}

        @LeaderOnly
        public void purge(String region, long age) {}

        public void notGated() {}
    }

    interface Api {
        @LeaderOnly
        void fromInterface();

        void notGated();
    }

    static class Implementation implements Api {
        @Override
        public void fromInterface() {}

        @Override
        public void notGated() {}
    }

    static class Plain {
        public void nothing() {}
    }
}
