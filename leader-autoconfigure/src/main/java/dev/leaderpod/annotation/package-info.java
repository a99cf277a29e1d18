/**
 * {@link dev.leaderpod.annotation.LeaderOnly}: run methods and lifecycle beans only on the leader. The interceptor
 * and the lifecycle gate are auto-configured by {@code dev.leaderpod.autoconfigure.LeaderOnlyAutoConfiguration}.
 */
package dev.leaderpod.annotation;
