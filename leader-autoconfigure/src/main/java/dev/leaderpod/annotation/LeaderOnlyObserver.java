package dev.leaderpod.annotation;

import java.lang.reflect.Method;

/**
 * Told about {@code @LeaderOnly} calls that did not run because this instance did not lead. Beans of this type are
 * called on the caller's thread: implementations must be fast (a Micrometer counter is fine).
 */
public interface LeaderOnlyObserver {

    /** A call of {@code method} on a bean of {@code targetClass} was skipped (or refused, in throw mode). */
    void onSkipped(Class<?> targetClass, Method method);
}
