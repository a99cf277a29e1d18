/**
 * The test kit: leader election in tests, granted and revoked by the test ({@link dev.leaderpod.test.TestLeadership})
 * on an in-memory lease, with no background timing. Add {@code dev.leaderpod:leader-test} with test scope: every
 * {@code @SpringBootTest} context gets it, a test slice with {@link dev.leaderpod.test.AutoConfigureLeaderElection}.
 */
package dev.leaderpod.test;
