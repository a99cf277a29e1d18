/**
 * How {@link dev.leaderpod.annotation.LeaderOnly} works: the advisor and interceptor that gate each call and track
 * it while it runs ({@link dev.leaderpod.leaderonly.InFlightCalls}), the resolution of annotated methods and what a
 * follower's call returns, the bean post-processor and self-invocation scanner that check declarations at start-up,
 * the leadership listener that starts and stops gated lifecycle beans and drains a term's calls, and the failure
 * analyzer for declarations that cannot work. Auto-configured by
 * {@code dev.leaderpod.autoconfigure.LeaderOnlyAutoConfiguration}.
 */
package dev.leaderpod.leaderonly;
