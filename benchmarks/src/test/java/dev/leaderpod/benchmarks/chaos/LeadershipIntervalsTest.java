package dev.leaderpod.benchmarks.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.benchmarks.chaos.LeadershipIntervals.Recorder;
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
}
