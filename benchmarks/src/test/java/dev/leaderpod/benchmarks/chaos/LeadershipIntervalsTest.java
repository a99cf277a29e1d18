package dev.leaderpod.benchmarks.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.benchmarks.chaos.LeadershipIntervals.Interval;
import dev.leaderpod.benchmarks.chaos.LeadershipIntervals.Recorder;
import dev.leaderpod.benchmarks.contenders.ElectionLog.Event;
import dev.leaderpod.benchmarks.contenders.ElectionLog.Kind;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LeadershipIntervalsTest {

    private final LeadershipIntervals intervals = new LeadershipIntervals();

    @Test
    void aRunOfSamplesIsCertainFromTheEndOfItsFirstSampleToTheStartOfItsLast() {
        Recorder a = new Recorder(intervals, "a");
        a.sample(100, 1, 110);
        a.sample(200, 1, 210);
        a.sample(300, 1, 310);
        a.sample(400, -1, 410);

        assertThat(intervals.intervals()).singleElement().satisfies(interval -> {
            assertThat(interval.start()).isEqualTo(110);
            assertThat(interval.end()).isEqualTo(300);
            assertThat(interval.samples()).isEqualTo(3);
        });
    }

    @Test
    void aNewTermStartsANewInterval() {
        Recorder a = new Recorder(intervals, "a");
        a.sample(100, 1, 110);
        a.sample(200, 1, 210);
        a.sample(300, 2, 310);
        a.sample(400, 2, 410);
        a.close();

        assertThat(intervals.intervals())
                .extracting(LeadershipIntervals.Interval::term)
                .containsExactly(1L, 2L);
    }

    @Test
    void intervalsThatOnlyTouchWithinSamplingErrorAreNoOverlap() {
        Recorder a = new Recorder(intervals, "a");
        Recorder b = new Recorder(intervals, "b");
        a.sample(100, 1, 110);
        a.sample(200, 1, 260); // a slow call: a may have stopped leading anywhere up to 260
        a.sample(300, -1, 310);
        b.sample(210, 2, 220); // b may have started leading as early as 210
        b.sample(400, 2, 410);
        b.close();

        assertThat(intervals.overlaps()).isEmpty();
    }

    @Test
    void certainPartsThatOverlapAreReported() {
        Recorder a = new Recorder(intervals, "a");
        Recorder b = new Recorder(intervals, "b");
        a.sample(100, 1, 110);
        a.sample(300, 1, 310);
        a.close();
        b.sample(200, 2, 210);
        b.sample(400, 2, 410);
        b.close();

        assertThat(intervals.overlaps())
                .singleElement()
                .satisfies(overlap -> assertThat(overlap.overlapNanos()).isEqualTo(300 - 210));
    }

    @Test
    void aSingleSampleProvesNoOverlap() {
        Recorder a = new Recorder(intervals, "a");
        Recorder b = new Recorder(intervals, "b");
        a.sample(100, 1, 110);
        a.sample(500, 1, 510);
        a.close();
        b.sample(200, 2, 210);
        b.close();

        assertThat(intervals.overlaps()).isEmpty();
    }

    private static Event event(String candidate, Kind kind, long at) {
        return new Event(candidate, kind, at, at);
    }

    @Test
    void aListenerLeadsFromItsGrantToItsRevocation() {
        LeadershipIntervals heard = LeadershipIntervals.fromEvents(
                List.of(
                        event("a", Kind.GRANTED, 100),
                        event("a", Kind.RENEWED, 150),
                        event("a", Kind.REVOKED, 300),
                        event("a", Kind.GRANTED, 500),
                        event("a", Kind.REVOKED, 600)),
                Map.of(),
                1000);

        assertThat(heard.intervals())
                .extracting(Interval::candidate, Interval::term, Interval::start, Interval::end)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("a", 1L, 100L, 300L),
                        org.assertj.core.groups.Tuple.tuple("a", 2L, 500L, 600L));
        assertThat(heard.overlaps()).isEmpty();
    }

    @Test
    void aListenerTheElectorNeverToldToStopLeadsUntilTheEndOfTheRun() {
        LeadershipIntervals heard = LeadershipIntervals.fromEvents(
                List.of(event("a", Kind.GRANTED, 100), event("b", Kind.GRANTED, 400), event("b", Kind.REVOKED, 700)),
                Map.of(),
                1000);

        assertThat(heard.overlaps()).singleElement().satisfies(overlap -> {
            assertThat(overlap.first().candidate()).isEqualTo("a");
            assertThat(overlap.first().end()).isEqualTo(1000);
            assertThat(overlap.overlapNanos()).isEqualTo(700 - 400);
        });
    }

    @Test
    void aCrashedCandidateStopsLeadingWhenItCrashesWhateverItsListenerHearsLater() {
        LeadershipIntervals heard = LeadershipIntervals.fromEvents(
                List.of(
                        event("a", Kind.GRANTED, 100),
                        event("b", Kind.GRANTED, 400), // after a's crash at 300
                        event("a", Kind.REVOKED, 450), // a's elector stopped by the harness after the crash
                        event("a", Kind.GRANTED, 460)), // and whatever else it said: a dead process runs no code
                Map.of("a", 300L),
                1000);

        assertThat(heard.intervals())
                .extracting(Interval::candidate, Interval::start, Interval::end)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("a", 100L, 300L),
                        org.assertj.core.groups.Tuple.tuple("b", 400L, 1000L));
        assertThat(heard.overlaps()).isEmpty();
    }

    @Test
    void aSecondGrantWithoutARevocationEndsTheEarlierTermThere() {
        LeadershipIntervals heard = LeadershipIntervals.fromEvents(
                List.of(event("a", Kind.GRANTED, 100), event("a", Kind.GRANTED, 200), event("a", Kind.REVOKED, 300)),
                Map.of(),
                1000);

        assertThat(heard.intervals())
                .extracting(Interval::term, Interval::start, Interval::end)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(1L, 100L, 200L),
                        org.assertj.core.groups.Tuple.tuple(2L, 200L, 300L));
    }

    @Test
    void eventsAreOrderedByTheirStampsNotByWhenTheyWereLogged() {
        LeadershipIntervals heard = LeadershipIntervals.fromEvents(
                List.of(event("a", Kind.REVOKED, 300), event("a", Kind.GRANTED, 100)), Map.of(), 1000);

        assertThat(heard.intervals())
                .singleElement()
                .satisfies(interval -> assertThat(interval.end()).isEqualTo(300));
    }

    @Test
    void fencingTokensMustGrowFromTermToTerm() {
        intervals.add(new Interval("a", 4, 100, 200, 10));
        intervals.add(new Interval("b", 5, 300, 400, 10));
        intervals.add(new Interval("b", 5, 450, 500, 10)); // the same term seen again after a gap: fine
        intervals.add(new Interval("c", 5, 600, 700, 10)); // another candidate with the same token
        intervals.add(new Interval("a", 1, 800, 900, 10)); // lower than before

        assertThat(intervals.tokenRegressions())
                .containsExactly(
                        "c led with token 5 after b had led with token 5",
                        "a led with token 1 after b had led with token 5");
    }
}
