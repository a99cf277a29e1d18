package dev.leaderpod.annotation;

import java.lang.reflect.Method;

/**
 * Told about {@code @LeaderOnly} calls that did not run because this instance did not lead. Beans of this type are
 * called on the caller's thread: implementations must be fast (a Micrometer counter is fine). An exception thrown
 * by an observer is logged and does not change the outcome of the call.
 */
public interface LeaderOnlyObserver {

    /**
     * A call of {@code method} on a bean of {@code targetClass} was skipped (or refused, in throw mode).
     *
     * @param targetClass the user class of the bean (not a proxy class)
     * @param method the method as declared on {@code targetClass} or its ancestors
     */
    void onSkipped(Class<?> targetClass, Method method);
}
