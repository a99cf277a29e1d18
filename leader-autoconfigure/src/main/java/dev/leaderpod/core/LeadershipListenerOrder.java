package dev.leaderpod.core;

/**
 * The order of the starter's own {@link LeadershipListener}s, stated once. Listeners are called in ascending order
 * (Spring's {@code Ordered}: lower runs first), on every callback, start and end of a term alike:
 *
 * <ol>
 *   <li>{@link #METRICS}: counts and times the transition before anything else can fail or take long, so the gauges
 *       never lag behind what the rest of the application already reacts to;
 *   <li>{@link #LEADER_ONLY}: starts the term's {@code @LeaderOnly} lifecycle beans, or stops them and waits for the
 *       term's {@code @LeaderOnly} calls to drain (docs/design.md, "Ordered graceful shutdown");
 *   <li>{@link #POD_LABEL}: labels the pod as leader once its leader-only work runs, and removes the label after
 *       that work stopped;
 *   <li>the application's listeners that declare no order ({@code Ordered.LOWEST_PRECEDENCE}), in bean
 *       registration order;
 *   <li>{@link #EVENTS}: publishes {@code OnGrantedEvent} / {@code OnRevokedEvent} last (same value as an undeclared
 *       order, registered after the application's beans): when a Spring Integration endpoint hears of a grant,
 *       leader-only beans already run; when it hears of a revocation, they have drained.
 * </ol>
 *
 * A listener of the application that must run before the pod label or before the {@code @LeaderOnly} drain declares
 * an order below {@link #POD_LABEL} or {@link #LEADER_ONLY}.
 *
 * The values equal Spring's {@code Ordered} precedences so that listeners written against Spring interleave as
 * documented; this class does not depend on Spring.
 */
public final class LeadershipListenerOrder {

    /** First: {@code Ordered.HIGHEST_PRECEDENCE}. */
    public static final int METRICS = Integer.MIN_VALUE;

    /** Right after the metrics. */
    public static final int LEADER_ONLY = Integer.MIN_VALUE + 100;

    /** Just before the events. */
    public static final int POD_LABEL = Integer.MAX_VALUE - 100;

    /** Last: {@code Ordered.LOWEST_PRECEDENCE}. */
    public static final int EVENTS = Integer.MAX_VALUE;

    private LeadershipListenerOrder() {}
}
