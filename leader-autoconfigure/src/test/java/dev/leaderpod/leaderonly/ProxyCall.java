package dev.leaderpod.leaderonly;

import java.lang.reflect.AccessibleObject;
import java.lang.reflect.Method;
import org.aopalliance.intercept.MethodInvocation;

/**
 * A call of {@code method} on {@code target} as a proxy hands it to the interceptor; proceeding stands for running the
 * method and returns {@link #RAN}. {@code target} may be null (a proxy without target).
 */
record ProxyCall(Method method, Object target) implements MethodInvocation {

    /** What a call that ran returns. */
    static final String RAN = "ran";

    @Override
    public Method getMethod() {
        return method;
    }

    @Override
    public Object[] getArguments() {
        return new Object[0];
    }

    @Override
    public Object proceed() {
        return RAN;
    }

    @Override
    public Object getThis() {
        return target;
    }

    @Override
    public AccessibleObject getStaticPart() {
        return method;
    }
}
