package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.StoreCalls.Outcome;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link CallHistory}: the failures in a row that a failing follower backs off by (docs/design.md, "Nothing but stop
 * ends the election") and that the snapshot and the log report, the conflicts that point to a second writer, and the
 * time of the last write that landed.
 */
class CallHistoryTest {

    private final ManualTime time = new ManualTime();
    private final ElectionSettings settings = new ElectionSettings(
            "orders", "me", Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(2), null);
    private final LogCapture captured = new LogCapture();
    private final CallHistory history = new CallHistory(new ElectionLog("lease orders", settings, time.clock()));

    @AfterEach
    void detach() {
        captured.close();
    }

    @Test
    void failuresCountInARowWithTheKindOfTheLast() {
        assertThat(history.failures()).isZero();
        assertThat(history.lastFailure()).isNull();

        assertThat(history.failed(Kind.TIMEOUT)).isEqualTo(1);
        assertThat(history.failed(Kind.UNAVAILABLE)).isEqualTo(2);
        history.answered(failure(Kind.UNAVAILABLE));

        assertThat(history.failures()).as("a failed outcome ends nothing").isEqualTo(2);
        assertThat(history.lastFailure()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(captured.lines()).isEmpty();
    }

    @Test
    void anAnswerEndsTheSeriesOnceAndTheLogSaysSo() {
        history.failed(Kind.SERVER_ERROR);
        history.failed(Kind.SERVER_ERROR);
        history.failed(Kind.SERVER_ERROR);

        history.answered(new Outcome<>("a value", null));
        history.answered(new Outcome<>("a value", null));

        assertThat(history.failures()).isZero();
        assertThat(history.lastFailure()).as("kept for the snapshot").isEqualTo(Kind.SERVER_ERROR);
        assertThat(captured.lines()).containsExactly("INFO orders: store calls succeed again after 3 failures");
    }

    @Test
    void aConflictIsAnAnswerTooAndMarksTheCycleUntilTheNextBegins() {
        history.failed(Kind.TIMEOUT);
        history.cycleStarted();
        assertThat(history.conflictThisCycle()).isFalse();

        history.answered(new Outcome<>(null, new LeaseConflictException("version moved")));

        assertThat(history.failures()).isZero();
        assertThat(history.conflictThisCycle()).isTrue();
        history.answered(new Outcome<>("a value", null));
        assertThat(history.conflictThisCycle()).as("for the rest of the cycle").isTrue();
        history.cycleStarted();
        assertThat(history.conflictThisCycle()).isFalse();
        assertThat(captured.lines()).containsExactly("INFO orders: store calls succeed again after 1 failures");
    }

    @Test
    void theTimeSinceTheLastWriteThatLandedCountsFromWhenItWasSent() {
        long now = time.nanoTime();
        assertThat(history.sinceLastWrite(now)).isEmpty();

        history.landed(now - Duration.ofMillis(300).toNanos());
        history.landed(now - Duration.ofMillis(100).toNanos());

        assertThat(history.sinceLastWrite(now)).contains(Duration.ofMillis(100));
        assertThat(history.sinceLastWrite(now + Duration.ofSeconds(1).toNanos()))
                .contains(Duration.ofMillis(1100));
    }

    private static Outcome<Object> failure(Kind kind) {
        return new Outcome<>(null, new LeaseStoreException(kind, "scripted"));
    }
}
