package dev.leaderpod.spread;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The fair share of each candidate and the fewest moves that reach it. Of H elections held by N live candidates, the
 * r = H mod N candidates that lead most now (ties by identity) should lead ⌈H/N⌉ and the others ⌊H/N⌋: shares that
 * differ by at most one are already fair and never move, and a candidate that joins takes only the surplus. Every
 * candidate computes the same plan from the same view, and carries out only the moves it gives.
 */
final class FairShares {

    /** One election to hand from {@code from} to {@code to}. */
    record Move(String from, String to) {}

    private FairShares() {}

    /**
     * The moves that make {@code loads} fair.
     *
     * @param loads how many elections each live candidate leads now, candidates leading none included
     */
    static List<Move> plan(Map<String, Integer> loads) {
        int candidates = loads.size();
        if (candidates < 2) {
            return List.of();
        }
        int held = loads.values().stream().mapToInt(Integer::intValue).sum();
        int floor = held / candidates;
        int withOneMore = held % candidates;
        List<String> order = new ArrayList<>(loads.keySet());
        order.sort(Comparator.<String>comparingInt(loads::get).reversed().thenComparing(Comparator.naturalOrder()));
        List<String> givers = new ArrayList<>();
        List<String> takers = new ArrayList<>();
        for (int i = 0; i < order.size(); i++) {
            String candidate = order.get(i);
            int target = floor + (i < withOneMore ? 1 : 0);
            for (int surplus = loads.get(candidate) - target; surplus > 0; surplus--) {
                givers.add(candidate);
            }
            for (int deficit = target - loads.get(candidate); deficit > 0; deficit--) {
                takers.add(candidate);
            }
        }
        List<Move> moves = new ArrayList<>(givers.size());
        for (int i = 0; i < givers.size(); i++) {
            moves.add(new Move(givers.get(i), takers.get(i)));
        }
        return moves;
    }
}
