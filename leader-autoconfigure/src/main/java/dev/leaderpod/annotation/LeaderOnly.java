package dev.leaderpod.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Runs the annotated method only while this instance leads the election. On a type, gates every public instance
 * method of the bean, except those of {@link Object} and the container callbacks ({@code Lifecycle},
 * {@code SmartLifecycle}, {@code Phased}, {@code Ordered}, {@code InitializingBean}, {@code DisposableBean},
 * {@code *Aware}); a method-level annotation overrides the type-level one.
 *
 * <h2>When a call runs</h2>
 *
 * The check happens when the method is about to start, on the thread that runs it (for an {@code @Async} method:
 * the executor's thread), against the renew deadline: a call does not start once the deadline has passed, even
 * if the revocation has not been delivered yet. A call that started is tracked until it returns; when leadership
 * ends (revocation or shutdown) the election waits up to {@code leader.drain-timeout} for such calls before
 * {@code OnRevokedEvent} is published and the lease released, and logs a warning naming each call still running.
 *
 * <p>Inside the call, {@link LeaderOnlyContext#currentTerm()} gives the term the call started under: its fencing
 * token and this instance's identity.
 *
 * <h2>When this instance does not lead</h2>
 *
 * With {@link OnFollower#SKIP} (the default) the method does not run and the call returns:
 *
 * <table>
 *   <caption>Value returned by a skipped call</caption>
 *   <tr><th>Declared return type</th><th>Returned</th></tr>
 *   <tr><td>{@code void}, {@code Void}</td><td>nothing ({@code null})</td></tr>
 *   <tr><td>{@code Optional}, {@code OptionalInt}, {@code OptionalLong}, {@code OptionalDouble}</td>
 *       <td>the empty optional</td></tr>
 *   <tr><td>{@code CompletableFuture}, {@code CompletionStage}, {@code Future}</td>
 *       <td>a new future, already completed with {@code null}</td></tr>
 *   <tr><td>any other reference type</td><td>{@code null}</td></tr>
 *   <tr><td>a primitive ({@code int}, {@code boolean}, ...)</td>
 *       <td>refused at start-up: the application does not start, and the error names the method</td></tr>
 * </table>
 *
 * <p>With {@link OnFollower#THROW} the method does not run and the call throws {@link NotLeaderException}, naming
 * the method and the leader this instance last saw; primitive return types are allowed then. Either way every
 * {@link LeaderOnlyObserver} bean is told.
 *
 * <h2>Lifecycle beans</h2>
 *
 * A bean annotated on its type that implements {@code Lifecycle} or {@code SmartLifecycle} is not started with the
 * application context: it is started when this instance is granted leadership and stopped when leadership ends,
 * every time, on the election's event thread (never the thread that renews the lease), before
 * {@code OnGrantedEvent} and {@code OnRevokedEvent} respectively.
 *
 * <h2>Named elections</h2>
 *
 * {@link #value()} names the election the method follows: {@code @LeaderOnly("reports")} runs only on the leader
 * of the election {@code reports}, whose lease is {@code <leader.lease-name>-reports}; empty (the default) is the
 * application's default election. A method-level name overrides the type-level one; a method-level annotation
 * without a name follows the type's election. A {@code @LeaderOnly("reports")} lifecycle bean starts and stops with
 * the terms of {@code reports} only. Names are lower-case letters, digits and {@code '-'}, starting and ending with a
 * letter or digit; any other name stops start-up with an error naming the method. With
 * {@code leader.elections.<name>.enabled=false} this instance stays out of that election: its calls are skipped
 * as a follower's and its lifecycle beans never start.
 *
 * <h2>Limits</h2>
 *
 * Calls are intercepted by a Spring AOP proxy: a call on {@code this} from inside the same bean is not checked.
 * Start-up warns about such calls it can see; call through the proxy instead (inject the bean into itself with
 * {@code @Lazy}, or move the method to another bean), or check {@code Leadership.isLeader()} yourself. Private
 * and static methods, and final methods of class-proxied beans, cannot be intercepted and are refused at
 * start-up. A lease is not a mutex across a pause longer than the renew deadline: pass the fencing token to the
 * systems you write to.
 */
@Target({ElementType.METHOD, ElementType.TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface LeaderOnly {

    /**
     * The election: empty for the application's default election, else the name of a named election (lease
     * {@code <leader.lease-name>-<name>}). On a method, a name overrides the type-level one.
     */
    String value() default "";

    /** What a call does when this instance does not lead. */
    OnFollower onFollower() default OnFollower.SKIP;

    /** Behaviour of a call made while this instance does not lead. */
    enum OnFollower {
        /** Do not run the method; return an empty value for its return type (see {@link LeaderOnly}). */
        SKIP,
        /** Do not run the method; throw {@link NotLeaderException}. */
        THROW
    }
}
