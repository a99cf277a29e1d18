package dev.leaderpod.leaderonly;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.annotation.LeaderOnly.OnFollower;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;
import org.springframework.aop.Pointcut;
import org.springframework.aop.support.AopUtils;
import org.springframework.aop.support.ComposablePointcut;
import org.springframework.aop.support.StaticMethodMatcher;
import org.springframework.aop.support.annotation.AnnotationClassFilter;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;
import org.springframework.beans.factory.Aware;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.context.Lifecycle;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.util.ClassUtils;

/**
 * Which methods {@code @LeaderOnly} gates, and what a skipped call returns: the one place these rules live, used by
 * the pointcut, the interceptor and the start-up checks alike.
 */
final class LeaderOnlyMethods {

    /** Container callbacks: never gated by a type-level annotation (they would break the bean's management). */
    private static final List<Class<?>> CONTAINER_TYPES =
            List.of(Object.class, SmartLifecycle.class, Ordered.class, InitializingBean.class, DisposableBean.class);

    /**
     * Method-level annotations (found on the method, its overridden methods and interface declarations), union the
     * public business methods of type-level annotated classes.
     */
    static final Pointcut POINTCUT = new ComposablePointcut(
                    new AnnotationMatchingPointcut(null, LeaderOnly.class, true))
            .union(new ComposablePointcut(new AnnotationClassFilter(LeaderOnly.class, true), new StaticMethodMatcher() {
                @Override
                public boolean matches(Method method, Class<?> targetClass) {
                    return typeLevelKind(AopUtils.getMostSpecificMethod(method, targetClass), targetClass) != null;
                }
            }));

    /** How the interceptor treats a method. */
    enum Kind {
        /** Runs only while leading. */
        GATED,
        /** {@code isAutoStartup()} of a gated lifecycle bean: always false, leadership starts the bean. */
        AUTO_STARTUP_OFF
    }

    /** What a follower returns instead of running a method. */
    enum FollowerValue {
        NULL,
        EMPTY_OPTIONAL,
        EMPTY_OPTIONAL_INT,
        EMPTY_OPTIONAL_LONG,
        EMPTY_OPTIONAL_DOUBLE,
        COMPLETED_FUTURE,
        /** A primitive: there is no value to return; refused at start-up unless the mode is THROW. */
        NONE;

        static FollowerValue of(Class<?> returnType) {
            if (returnType == void.class || returnType == Void.class) {
                return NULL;
            }
            if (returnType.isPrimitive()) {
                return NONE;
            }
            if (returnType == Optional.class) {
                return EMPTY_OPTIONAL;
            }
            if (returnType == OptionalInt.class) {
                return EMPTY_OPTIONAL_INT;
            }
            if (returnType == OptionalLong.class) {
                return EMPTY_OPTIONAL_LONG;
            }
            if (returnType == OptionalDouble.class) {
                return EMPTY_OPTIONAL_DOUBLE;
            }
            if (returnType == CompletableFuture.class
                    || returnType == CompletionStage.class
                    || returnType == Future.class) {
                return COMPLETED_FUTURE;
            }
            return NULL;
        }

        Object value() {
            return switch (this) {
                case NULL, NONE -> null;
                case EMPTY_OPTIONAL -> Optional.empty();
                case EMPTY_OPTIONAL_INT -> OptionalInt.empty();
                case EMPTY_OPTIONAL_LONG -> OptionalLong.empty();
                case EMPTY_OPTIONAL_DOUBLE -> OptionalDouble.empty();
                case COMPLETED_FUTURE -> CompletableFuture.completedFuture(null); // new each time: futures are mutable
            };
        }
    }

    /**
     * A gated method as resolved for one target class.
     *
     * @param method the most specific method, on the target class or its ancestors
     * @param targetClass the user class of the bean
     * @param kind how to treat calls
     * @param onFollower what a follower does (method-level annotation first, then type-level)
     * @param followerValue what a skipped call returns
     * @param election the election the method follows: empty for the default one
     */
    record Gated(
            Method method,
            Class<?> targetClass,
            Kind kind,
            OnFollower onFollower,
            FollowerValue followerValue,
            String election) {

        /** {@code Type.method(ParamType, ...)}, for messages. */
        String describe() {
            return LeaderOnlyMethods.describe(targetClass, method);
        }
    }

    private LeaderOnlyMethods() {}

    /** How {@code method}, called on a bean of {@code targetClass}, is gated; empty if it is not. */
    static Optional<Gated> resolve(Method method, Class<?> targetClass) {
        Class<?> userClass = ClassUtils.getUserClass(targetClass);
        Method specific = AopUtils.getMostSpecificMethod(method, userClass);
        Kind typeKind = typeLevelKind(specific, userClass);
        if (typeKind == Kind.AUTO_STARTUP_OFF) {
            return Optional.of(new Gated(
                    specific, userClass, typeKind, OnFollower.SKIP, FollowerValue.NULL, typeLevelElection(userClass)));
        }
        LeaderOnly annotation = AnnotatedElementUtils.findMergedAnnotation(specific, LeaderOnly.class);
        if (annotation == null && typeKind != null) {
            annotation = typeLevel(userClass);
        }
        if (annotation == null) {
            return Optional.empty();
        }
        // start() of a gated lifecycle bean only ever skips: a follower's context.start() must not fail.
        OnFollower onFollower = isLifecycleStart(specific, userClass) ? OnFollower.SKIP : annotation.onFollower();
        String election = annotation.value().isEmpty() ? typeLevelElection(userClass) : annotation.value();
        return Optional.of(new Gated(
                specific, userClass, Kind.GATED, onFollower, FollowerValue.of(specific.getReturnType()), election));
    }

    /**
     * The election of a type-level annotation of {@code targetClass}: its name, or empty (the default election) when
     * the type is not annotated or names none. A method-level annotation without a name follows it, so that adding
     * {@code onFollower = THROW} to one method of a {@code @LeaderOnly("reports")} bean cannot move that method to
     * another election.
     */
    static String typeLevelElection(Class<?> targetClass) {
        LeaderOnly typeLevel = typeLevel(targetClass);
        return typeLevel == null ? "" : typeLevel.value();
    }

    /** The type-level annotation of {@code targetClass} (or its ancestors), or null. */
    static LeaderOnly typeLevel(Class<?> targetClass) {
        return AnnotatedElementUtils.findMergedAnnotation(targetClass, LeaderOnly.class);
    }

    /** Whether leadership starts and stops beans of this class: type-level annotated and a {@link Lifecycle}. */
    static boolean isGatedLifecycle(Class<?> targetClass) {
        return Lifecycle.class.isAssignableFrom(targetClass) && typeLevel(targetClass) != null;
    }

    /** Whether a bean of {@code targetClass} has any gated method. */
    static boolean hasGatedMethods(Class<?> targetClass) {
        return AopUtils.canApply(POINTCUT, targetClass);
    }

    /** How the type-level annotation of {@code targetClass} applies to {@code method}, or null if it does not. */
    private static Kind typeLevelKind(Method method, Class<?> targetClass) {
        if (targetClass == null || typeLevel(targetClass) == null) {
            return null;
        }
        int modifiers = method.getModifiers();
        if (!Modifier.isPublic(modifiers) || Modifier.isStatic(modifiers)) {
            return null;
        }
        if (Lifecycle.class.isAssignableFrom(targetClass)) {
            if (isLifecycleStart(method, targetClass)) {
                return Kind.GATED;
            }
            if (SmartLifecycle.class.isAssignableFrom(targetClass)
                    && method.getName().equals("isAutoStartup")
                    && method.getParameterCount() == 0) {
                return Kind.AUTO_STARTUP_OFF;
            }
        }
        return isContainerCallback(method, targetClass) ? null : Kind.GATED;
    }

    private static boolean isLifecycleStart(Method method, Class<?> targetClass) {
        return Lifecycle.class.isAssignableFrom(targetClass)
                && method.getName().equals("start")
                && method.getParameterCount() == 0;
    }

    private static boolean isContainerCallback(Method method, Class<?> targetClass) {
        for (Class<?> type : CONTAINER_TYPES) {
            if (ClassUtils.hasMethod(type, method.getName(), method.getParameterTypes())) {
                return true;
            }
        }
        if (Aware.class.isAssignableFrom(targetClass)) {
            for (Class<?> type : ClassUtils.getAllInterfacesForClassAsSet(targetClass)) {
                if (Aware.class.isAssignableFrom(type)
                        && ClassUtils.hasMethod(type, method.getName(), method.getParameterTypes())) {
                    return true;
                }
            }
        }
        return false;
    }

    /** {@code Type.method(ParamType, ...)} with simple names, for messages and logs. */
    static String describe(Class<?> targetClass, Method method) {
        StringBuilder text = new StringBuilder(
                        ClassUtils.getUserClass(targetClass).getName())
                .append('.')
                .append(method.getName())
                .append('(');
        Class<?>[] parameters = method.getParameterTypes();
        for (int i = 0; i < parameters.length; i++) {
            text.append(i == 0 ? "" : ", ").append(parameters[i].getSimpleName());
        }
        return text.append(')').toString();
    }
}
