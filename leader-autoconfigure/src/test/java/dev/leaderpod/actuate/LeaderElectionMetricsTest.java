package dev.leaderpod.actuate;

import static dev.leaderpod.core.SteppedElection.LEASE;
import static dev.leaderpod.core.SteppedElection.LEASE_DURATION;
import static dev.leaderpod.core.SteppedElection.RETRY_PERIOD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.RevocationReason;
import dev.leaderpod.core.SteppedElection;
import dev.leaderpod.core.SteppedElection.Candidate;
import dev.leaderpod.core.VersionedLease;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** Meter values along scripted elections on a stepped clock: every value is exact. */
class LeaderElectionMetricsTest {

    private final SteppedElection election = new SteppedElection();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void metersFollowGrantRenewFailuresRevokeAndGrantAgain() {
        Candidate a = measured(election.candidate("a", false)).start();

        // Granted: created the lease.
        assertThat(gauge(LeaderElectionMetrics.LEADER)).isEqualTo(1);
        assertThat(transitions("granted", "acquired")).isEqualTo(1);
        assertThat(gauge(LeaderElectionMetrics.FENCING_TOKEN)).isEqualTo(0);
        assertThat(gauge(LeaderElectionMetrics.RENEW_AGE)).isEqualTo(0);
        assertThat(renewals("success")).isZero();

        election.advance(RETRY_PERIOD);
        assertThat(renewals("success")).isEqualTo(1);
        assertThat(gauge(LeaderElectionMetrics.RENEW_AGE)).isEqualTo(0);

        // Renew failures: still leading, the age of the last successful renew grows.
        a.failNext(1, Kind.TIMEOUT).failNext(1, Kind.FORBIDDEN);
        election.advance(RETRY_PERIOD);
        assertThat(renewFailures(Kind.TIMEOUT)).isEqualTo(1);
        assertThat(gauge(LeaderElectionMetrics.RENEW_AGE)).isEqualTo(2);
        election.advance(RETRY_PERIOD);
        assertThat(renewFailures(Kind.FORBIDDEN)).isEqualTo(1);
        assertThat(gauge(LeaderElectionMetrics.LEADER)).isEqualTo(1);

        a.failAll(Kind.UNAVAILABLE);
        election.advance(RETRY_PERIOD.multipliedBy(3));

        // Revoked: the renew deadline (10 s after the last successful renew) passed.
        assertThat(gauge(LeaderElectionMetrics.LEADER)).isEqualTo(0);
        assertThat(transitions("revoked", "deadline_passed")).isEqualTo(1);
        assertThat(renewFailures(Kind.UNAVAILABLE)).isEqualTo(2);
        assertThat(renewals("failure")).isEqualTo(4);
        assertThat(renewals("success")).isEqualTo(1);
        assertThat(gauge(LeaderElectionMetrics.RENEW_AGE))
                .as("the lease still names this stuck instance: its renew age is shown")
                .isEqualTo(10);
        assertThat(gauge(LeaderElectionMetrics.FENCING_TOKEN)).isEqualTo(0);

        // Granted again, once the store answers: a new term with the next fencing token.
        a.heal();
        assertThat(election.advanceUntil(() -> a.elector().isLeader(), Duration.ofMinutes(1)))
                .isTrue();
        assertThat(gauge(LeaderElectionMetrics.LEADER)).isEqualTo(1);
        assertThat(transitions("granted", "acquired")).isEqualTo(2);
        assertThat(gauge(LeaderElectionMetrics.FENCING_TOKEN)).isEqualTo(1);
        assertThat(gauge(LeaderElectionMetrics.RENEW_AGE)).isCloseTo(0, within(0.1));
        assertThat(renewFailures(Kind.CONFLICT) + renewFailures(Kind.SERVER_ERROR) + renewFailures(Kind.OTHER))
                .isZero();
    }

    @Test
    void everyRevocationIsCountedWithItsReason() {
        Candidate a = measured(election.candidate("a", false)).start();

        // Lost: somebody else wrote the lease; the next renew conflicts and the read shows the new holder.
        VersionedLease current = election.store().get(LEASE).orElseThrow();
        election.store()
                .update(
                        LEASE,
                        new LeaseRecord("intruder", LEASE_DURATION, election.wallTime(), election.wallTime(), 1L),
                        current.version());
        election.advance(RETRY_PERIOD);
        assertThat(transitions("revoked", "lost")).isEqualTo(1);
        assertThat(renewFailures(Kind.CONFLICT)).isEqualTo(1);
        assertThat(gauge(LeaderElectionMetrics.FENCING_TOKEN))
                .as("followers show the token of the current term too")
                .isEqualTo(1);
        assertThat(gauge(LeaderElectionMetrics.RENEW_AGE)).isNaN();
        assertThat(election.advanceUntil(() -> a.elector().isLeader(), Duration.ofSeconds(30)))
                .isTrue();

        // Released: the lease was deleted under the leader; it steps down and, once the lease has been absent for a
        // lease duration, creates it again (and confirms the new term a retry period and a half later).
        election.store().delete(LEASE);
        election.advance(RETRY_PERIOD);
        assertThat(transitions("revoked", "released")).isEqualTo(1);
        assertThat(election.advanceUntil(
                        () -> a.elector().isLeader(), LEASE_DURATION.plus(RETRY_PERIOD.multipliedBy(3))))
                .isTrue();

        // Yielded, then (after the hold-off) leading again, then shut down.
        a.elector().yieldLeadership();
        election.runDue();
        assertThat(transitions("revoked", "yielded")).isEqualTo(1);
        assertThat(gauge(LeaderElectionMetrics.LEADER)).isEqualTo(0);
        assertThat(gauge(LeaderElectionMetrics.RENEW_AGE))
                .as("a released lease no longer names this instance")
                .isNaN();
        assertThat(election.advanceUntil(() -> a.elector().isLeader(), Duration.ofSeconds(30)))
                .isTrue();
        a.stop();
        assertThat(transitions("revoked", "shutdown")).isEqualTo(1);

        assertThat(transitions("granted", "acquired")).isEqualTo(4);
        assertThat(transitions("revoked", "deadline_passed")).isZero();
        assertThat(registry.get(LeaderElectionMetrics.TRANSITIONS).counters())
                .as("every direction and reason is registered up front")
                .hasSize(1 + RevocationReason.values().length);
        assertThat(registry.get(LeaderElectionMetrics.RENEW_FAILURES).counters())
                .hasSize(Kind.values().length);
    }

    @Test
    void followerGaugesShowTheLeadersTokenAndNoRenewAge() {
        election.candidate("a", false).start();
        Candidate b = measured(election.candidate("b", false)).start();

        assertThat(b.elector().isLeader()).isFalse();
        assertThat(gauge(LeaderElectionMetrics.LEADER)).isEqualTo(0);
        assertThat(gauge(LeaderElectionMetrics.FENCING_TOKEN)).isEqualTo(0);
        assertThat(gauge(LeaderElectionMetrics.RENEW_AGE)).isNaN();
        assertThat(transitions("granted", "acquired")).isZero();
    }

    /** Measures {@code candidate} into this test's registry (one pod's registry). */
    private Candidate measured(Candidate candidate) {
        LeaderElectionMetrics metrics = new LeaderElectionMetrics(candidate.elector(), registry);
        return candidate.listener(metrics).monitor(metrics);
    }

    private double gauge(String name) {
        return registry.get(name).tag("lease", LEASE).gauge().value();
    }

    private double transitions(String direction, String reason) {
        return registry.get(LeaderElectionMetrics.TRANSITIONS)
                .tag("lease", LEASE)
                .tag("direction", direction)
                .tag("reason", reason)
                .counter()
                .count();
    }

    private long renewals(String outcome) {
        return registry.get(LeaderElectionMetrics.RENEW)
                .tag("lease", LEASE)
                .tag("outcome", outcome)
                .timer()
                .count();
    }

    private double renewFailures(Kind cause) {
        return registry.get(LeaderElectionMetrics.RENEW_FAILURES)
                .tag("lease", LEASE)
                .tag("cause", cause.name().toLowerCase(Locale.ROOT))
                .counter()
                .count();
    }
}
