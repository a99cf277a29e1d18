package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.SteppedElection.Candidate;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/** What operators read: one line per transition on every candidate, and warnings that say what to do. */
@ExtendWith(OutputCaptureExtension.class)
class LeaseElectorLogTest {

    private final SteppedElection election = new SteppedElection();

    @Test
    void everyCandidateLogsOneLinePerTransitionWithNewAndPreviousLeaderTokenAndReason(CapturedOutput output) {
        Candidate a = election.candidate("a", true).start();
        election.candidate("b", true).start();
        election.candidate("c", false).start();

        a.elector().yieldLeadership();
        election.advance(Duration.ofSeconds(3));

        assertThat(output)
                .contains("a now leads ScriptedStore orders (fencing token 0, previous leader none, created the lease)")
                .contains("a no longer leads orders (YIELDED, fencing token was 0)")
                .contains("b now leads ScriptedStore orders (fencing token 1, previous leader a, a had released the"
                        + " lease)");
        // a (watching, saw the release) and c (polling, did not) each log b's term once.
        assertThat(count(
                        output,
                        "orders is now led by b (fencing token 1, previous leader a, a had released the lease)"))
                .isEqualTo(1);
        assertThat(count(output, "orders is now led by b (fencing token 1, previous leader a, taken over from a)"))
                .isEqualTo(1);
        assertThat(count(output, "orders is now led by b")).isEqualTo(2);
        assertThat(count(output, "orders is now led by a"))
                .as("b and c, on joining")
                .isEqualTo(2);
    }

    @Test
    void leaderLogsEveryFailedRenewWithTheTimeLeftAndWarnsWhenTheDeadlinePasses(CapturedOutput output) {
        Candidate a = election.candidate("a", false).start();
        a.failAll(Kind.UNAVAILABLE);

        election.advance(Duration.ofSeconds(10));

        assertThat(output)
                .contains("a leads ScriptedStore orders but could not renew it (1 in a row, UNAVAILABLE): scripted"
                        + " UNAVAILABLE. The store (API server) cannot be reached: check DNS, network policies and"
                        + " that it is up. Leading for at most PT8S more unless a renew succeeds.")
                .contains("(4 in a row, UNAVAILABLE)")
                .contains("WARN")
                .contains("a no longer leads orders (DEADLINE_PASSED, fencing token was 0): no renew succeeded"
                        + " within the renew deadline (PT10S;");
        assertThat(output).containsPattern("failures in a row, last UNAVAILABLE\\)\\. Another candidate takes over");
    }

    @Test
    void forbiddenCallsWarnWithWhatToGrant(CapturedOutput output) {
        election.candidate("a", false).failNext(1, Kind.FORBIDDEN).start();

        assertThat(output)
                .contains("a: ScriptedStore orders failed (1 in a row, FORBIDDEN): scripted FORBIDDEN. Grant the"
                        + " missing permission (the message names the rule) to this candidate's service account."
                        + " Staying in the election and retrying with back-off.");
    }

    @Test
    void aSecondCandidateWithTheSameIdentityIsReportedOnceAsAnErrorNamingTheFix(CapturedOutput output) {
        election.candidate("twin", false).start();
        election.candidate("twin", false).start();

        election.advance(Duration.ofSeconds(60));

        assertThat(output)
                .contains("twin: another process writes ScriptedStore orders with this candidate's identity 'twin'")
                .contains("does not lead beside it")
                .contains("Give every candidate a unique leader.identity");
        assertThat(count(output, "with this candidate's identity")).isEqualTo(1);
    }

    @Test
    void aWatchThatCannotStartIsWarnedAboutOnceAndItsRecoveryOnce(CapturedOutput output) {
        election.candidate("a", true).start();
        Candidate b =
                election.candidate("b", true).failWatchesWith(Kind.FORBIDDEN).start();

        election.advance(Duration.ofMinutes(5));
        b.failWatchesWith(null);
        election.advance(Duration.ofMinutes(1));

        assertThat(count(output, "b: cannot watch ScriptedStore orders")).isEqualTo(1);
        assertThat(output).contains("polling every PT2S instead");
        assertThat(count(output, "b: watching ScriptedStore orders again")).isEqualTo(1);
    }

    @Test
    void aSingleLostRaceIsNoWarning(CapturedOutput output) {
        AtomicInteger conflicts = new AtomicInteger();
        ElectionMonitor countConflicts = new ElectionMonitor() {
            @Override
            public void storeCall(StoreOperation operation, Duration latency, Kind failure) {
                if (failure == Kind.CONFLICT) {
                    conflicts.incrementAndGet();
                }
            }
        };
        Candidate a = election.candidate("a", true).start();
        election.candidate("b", true).monitor(countConflicts).start();
        election.candidate("c", true).monitor(countConflicts).start();

        a.elector().yieldLeadership(); // b and c race for the free lease; one loses with a conflict
        election.advance(Duration.ofSeconds(30));

        assertThat(conflicts).hasValue(1);
        assertThat(output).doesNotContain("overtaken by another writer");
    }

    private static int count(CapturedOutput output, String text) {
        Matcher matcher = Pattern.compile(Pattern.quote(text)).matcher(output.getAll());
        int count = 0;
        while (matcher.find()) {
            count++;
        }
        return count;
    }
}
