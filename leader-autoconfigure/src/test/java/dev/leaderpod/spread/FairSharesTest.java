package dev.leaderpod.spread;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.spread.FairShares.Move;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The fair shares and the fewest moves to them (docs/design.md, "Spreading elections"). */
class FairSharesTest {

    @Test
    void aJoiningCandidateTakesOnlyTheSurplus() {
        assertThat(FairShares.plan(Map.of("a", 4, "b", 4, "c", 4, "d", 0)))
                .containsExactlyInAnyOrder(new Move("a", "d"), new Move("b", "d"), new Move("c", "d"));
    }

    @Test
    void sharesThatDifferByAtMostOneNeverMove() {
        assertThat(FairShares.plan(Map.of("a", 4, "b", 3, "c", 3))).isEmpty();
        assertThat(FairShares.plan(Map.of("a", 1, "b", 0, "c", 1, "d", 0))).isEmpty();
        assertThat(FairShares.plan(Map.of("a", 0, "b", 0))).isEmpty();
        assertThat(FairShares.plan(Map.of("a", 12))).isEmpty();
    }

    @Test
    void theCandidatesThatLeadMostKeepTheExtraElection() {
        // 10 over 4: two lead 3, two lead 2; a and b already lead most, so only c's surplus and a's move.
        assertThat(FairShares.plan(Map.of("a", 4, "b", 3, "c", 3, "d", 0)))
                .containsExactlyInAnyOrder(new Move("a", "d"), new Move("c", "d"));
    }

    @Test
    void everyPlanReachesFairSharesWithTheFewestMoves() {
        SplittableRandom random = new SplittableRandom(7);
        for (int round = 0; round < 2_000; round++) {
            Map<String, Integer> loads = new HashMap<>();
            int candidates = 1 + random.nextInt(8);
            for (int i = 0; i < candidates; i++) {
                loads.put("c" + i, random.nextInt(10));
            }
            List<Move> moves = FairShares.plan(loads);
            Map<String, Integer> after = new HashMap<>(loads);
            for (Move move : moves) {
                after.merge(move.from(), -1, Integer::sum);
                after.merge(move.to(), 1, Integer::sum);
            }
            int max = after.values().stream().mapToInt(Integer::intValue).max().orElseThrow();
            int min = after.values().stream().mapToInt(Integer::intValue).min().orElseThrow();
            assertThat(max - min).as("shares after %s from %s", moves, loads).isLessThanOrEqualTo(1);
            int held = loads.values().stream().mapToInt(Integer::intValue).sum();
            int ceiling = (held + candidates - 1) / candidates;
            int floor = held / candidates;
            // Fewest moves: each candidate above the ceiling must give its excess, each below the floor must take its
            // deficit; a plan may not move more than the larger of the two sums plus the ties it breaks.
            int mustGive = loads.values().stream()
                    .mapToInt(l -> Math.max(0, l - ceiling))
                    .sum();
            int mustTake = loads.values().stream()
                    .mapToInt(l -> Math.max(0, floor - l))
                    .sum();
            assertThat(moves.size())
                    .as("moves for %s", loads)
                    .isLessThanOrEqualTo(Math.max(mustGive, mustTake) + (held % candidates == 0 ? 0 : candidates));
            assertThat(moves).allSatisfy(move -> assertThat(move.from()).isNotEqualTo(move.to()));
            assertThat(FairShares.plan(after)).as("a fair plan is stable").isEmpty();
        }
    }
}
