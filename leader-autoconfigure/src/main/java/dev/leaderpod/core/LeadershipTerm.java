package dev.leaderpod.core;

import java.time.Instant;

/**
 * One continuous period of leadership of one candidate.
 *
 * @param leaseName the lease (the election) this term belongs to
 * @param identity this candidate's identity
 * @param fencingToken the lease's {@code leaseTransitions} at the start of the term; greater than the token of every
 *     earlier term this candidate has seen or held, so downstream systems can reject writes from a stale leader (what a
 *     deletion of the lease can and cannot preserve: docs/design.md, "Fencing tokens strictly increase")
 * @param acquiredAt wall-clock time the term started (informational)
 */
public record LeadershipTerm(String leaseName, String identity, long fencingToken, Instant acquiredAt) {}
