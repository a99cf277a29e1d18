package dev.leaderpod.benchmarks.scenarios;

import dev.leaderpod.benchmarks.contenders.Candidate;
import dev.leaderpod.benchmarks.contenders.Contender;
import dev.leaderpod.benchmarks.contenders.ElectionLog;
import dev.leaderpod.benchmarks.contenders.Timings;
import dev.leaderpod.benchmarks.support.MockApiServer;
import dev.leaderpod.benchmarks.support.Report;
import dev.leaderpod.benchmarks.support.Stats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Scenario 1, graceful hand-over: three candidates; the leader's application stops (the implementation's own
 * shutdown, release included); the time from the start of that shutdown until another candidate is granted.
 * Repeated {@code rounds} times per contender, a fresh candidate replacing the stopped one each round.
 */
public final class HandOverScenario {

    private static final Duration SETTLE = Duration.ofMillis(2500);
    private static final Duration GRANT_TIMEOUT = Duration.ofSeconds(40);

    private final MockApiServer server;
    private final int rounds;

    public HandOverScenario(MockApiServer server, int rounds) {
        this.server = server;
        this.rounds = rounds;
    }

    public void run(Report report, List<Contender> contenders) {
        report.line("## 1. Graceful hand-over (3 candidates, default timings " + Timings.DEFAULTS + ")");
        report.line("");
        report.line("Time from the start of the leader's shutdown until another candidate is granted, in ms. " + rounds
                + " rounds per implementation, one after the other, on the same mock API server.");
        report.line("");
        List<String> names = new ArrayList<>();
        List<Stats> stats = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (Contender contender : contenders) {
            Result result = measure(contender);
            names.add(contender.title());
            stats.add(Stats.of(result.millis));
            notes.add(contender.title() + ": " + result.note());
        }
        report.table(
                List.of("implementation", "n", "median ms", "p90 ms", "max ms", "median vs best alternative"),
                Report.statRows(names, stats, contenders.indexOf(Contender.OURS), ""));
        notes.forEach(n -> report.line("- " + n));
        report.line("");
    }

    record Result(List<Double> millis, String note) {}

    Result measure(Contender contender) {
        String namespace = "handover-" + contender.slug();
        ElectionLog log = new ElectionLog();
        List<Candidate> candidates = new ArrayList<>();
        List<Candidate> all = new ArrayList<>();
        List<Double> millis = new ArrayList<>();
        int timeouts = 0;
        int overlaps = 0;
        int serial = 0;
        try {
            for (; serial < 3; serial++) {
                Candidate candidate = contender.create(
                        server, namespace, "handover", contender.slug() + "-" + serial, Timings.DEFAULTS, log);
                candidates.add(candidate);
                all.add(candidate);
                candidate.start();
            }
            for (int round = 0; round < rounds; round++) {
                if (!Await.until(() -> Await.leaders(candidates).size() == 1, GRANT_TIMEOUT)) {
                    timeouts++;
                    continue;
                }
                Await.sleep(SETTLE.toMillis()); // followers caught up (watch open, lease observed)
                Candidate leader = Await.leaders(candidates).get(0);
                long stopping = System.nanoTime();
                leader.stopGracefully();
                boolean oldStillLeads = leader.isLeader();
                candidates.remove(leader);
                boolean granted =
                        Await.until(() -> log.firstGrantAfter(stopping, leader.identity()) != null, GRANT_TIMEOUT);
                if (granted) {
                    millis.add((log.firstGrantAfter(stopping, leader.identity()).atNanos() - stopping) / 1e6);
                } else {
                    timeouts++;
                }
                if (oldStillLeads) {
                    overlaps++;
                }
                leader.close();
                Candidate fresh = contender.create(
                        server, namespace, "handover", contender.slug() + "-" + serial++, Timings.DEFAULTS, log);
                candidates.add(fresh);
                all.add(fresh);
                fresh.start();
            }
        } finally {
            Await.closeAll(candidates);
        }
        return new Result(
                millis,
                timeouts + " rounds without a grant within " + GRANT_TIMEOUT.toSeconds() + " s; " + overlaps
                        + " rounds where the old leader still said it led after its shutdown returned");
    }
}
