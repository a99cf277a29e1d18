/**
 * {@link dev.leaderpod.annotation.LeaderOnly}: run methods and lifecycle beans only on the leader. How it works is
 * in {@code dev.leaderpod.leaderonly}, auto-configured by {@code dev.leaderpod.autoconfigure.LeaderOnlyAutoConfiguration}.
 */
package dev.leaderpod.annotation;
