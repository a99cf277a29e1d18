package dev.leaderpod.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Runs the annotated method (or every public method of the annotated bean) only while this instance leads the
 * election. The check happens at call time against the renew deadline.
 *
 * <p>Policy details (return types, throw mode, lifecycle beans) are documented by the implementation of this
 * annotation's interceptor.
 */
@Target({ElementType.METHOD, ElementType.TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface LeaderOnly {

    /** What a call does when this instance does not lead. */
    OnFollower onFollower() default OnFollower.SKIP;

    /** Behaviour of a call made while this instance does not lead. */
    enum OnFollower {
        /** Do not run the method; return an empty value for its return type. */
        SKIP,
        /** Do not run the method; throw {@link NotLeaderException}. */
        THROW
    }
}
