/**
 * Observability of the election: Micrometer meters, the {@code leader} health contributor, the {@code leader}
 * actuator endpoint and info contributor, and their auto-configurations. Everything here reads the elector's
 * {@link dev.leaderpod.core.LeaseElector#snapshot() snapshot}, never the store (docs/design.md, "One write per renew").
 */
package dev.leaderpod.actuate;
