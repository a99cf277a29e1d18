package dev.leaderpod.actuate;

import static dev.leaderpod.core.SteppedElection.RENEW_DEADLINE;
import static dev.leaderpod.core.SteppedElection.RETRY_PERIOD;
import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.SteppedElection;
import dev.leaderpod.core.SteppedElection.Candidate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.Status;

/** The {@code leader} health contributor along scripted elections on a stepped clock. */
class LeaderHealthIndicatorTest {

    private static final Duration STEP = Duration.ofMillis(100);

    private final SteppedElection election = new SteppedElection();

    @Test
    void followerIsUp() {
        election.candidate("a", false).start();
        Candidate b = election.candidate("b", false).start();

        Health health = health(b);

        assertThat(health.getStatus()).isEqualTo(Status.UP);
        assertThat(health.getDetails())
                .containsEntry("role", "follower")
                .containsEntry("holder", "a")
                .containsEntry("fencingToken", 0L)
                .doesNotContainKey("lastRenewAge");
    }

    @Test
    void leaderThatRenewsIsUp() {
        Candidate a = election.candidate("a", false).start();
        election.advance(RETRY_PERIOD.plusMillis(500));

        Health health = health(a);

        assertThat(health.getStatus()).isEqualTo(Status.UP);
        assertThat(health.getDetails())
                .containsEntry("role", "leader")
                .containsEntry("holder", "a")
                .containsEntry("fencingToken", 0L)
                .containsEntry("lastRenewAge", "PT0.5S");
    }

    @Test
    void leaderWhoseRenewsFailIsUpUntilRenewDeadlinePlusRetryPeriodThenDown() {
        Candidate a = election.candidate("a", false).start();
        a.failAll(Kind.UNAVAILABLE);

        election.advance(RENEW_DEADLINE.minus(STEP));
        assertThat(health(a).getStatus()).as("still leading, renews failing").isEqualTo(Status.UP);
        election.advance(STEP.plus(RETRY_PERIOD));
        assertThat(a.elector().isLeader()).isFalse();
        assertThat(health(a).getStatus())
                .as("stepped down at the deadline; overdue only after one more retry period")
                .isEqualTo(Status.UP);

        election.advance(STEP);
        Health health = health(a);
        assertThat(health.getStatus()).isEqualTo(Status.DOWN);
        assertThat(health.getDetails())
                .containsEntry("role", "follower")
                .containsEntry("holder", "a")
                .containsEntry("lastRenewAge", "PT12.1S");
        assertThat((String) health.getDetails().get("reason")).contains("renewal overdue", "PT12.1S", "PT12S");

        a.heal();
        assertThat(election.advanceUntil(() -> a.elector().isLeader(), Duration.ofMinutes(1)))
                .isTrue();
        assertThat(health(a).getStatus()).as("renewing again").isEqualTo(Status.UP);
    }

    @Test
    void leaderStuckInARenewCallIsDownUntilItSeesTheNewLeader() {
        Candidate a = election.candidate("a", false).start();
        Candidate b = election.candidate("b", false).start();
        List<Health> whileStuck = new ArrayList<>();
        a.hangNextWriteFor(Duration.ofSeconds(20), () -> whileStuck.add(health(a)));

        // a's renew at 2 s hangs until 22 s; b takes over meanwhile; a's call fails and it reads again.
        election.advance(Duration.ofSeconds(30));

        assertThat(whileStuck).singleElement().satisfies(health -> {
            assertThat(health.getStatus()).isEqualTo(Status.DOWN);
            assertThat(health.getDetails()).containsEntry("role", "follower").containsEntry("holder", "a");
        });
        assertThat(b.elector().isLeader()).isTrue();
        assertThat(health(b).getStatus()).isEqualTo(Status.UP);

        assertThat(health(a).getStatus()).as("a saw b's lease").isEqualTo(Status.UP);
        assertThat(health(a).getDetails()).containsEntry("holder", "b").containsEntry("fencingToken", 1L);
    }

    private static Health health(Candidate candidate) {
        return new LeaderHealthIndicator(candidate.elector()).health();
    }
}
