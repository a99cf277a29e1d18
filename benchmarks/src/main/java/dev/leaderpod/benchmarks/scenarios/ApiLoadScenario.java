package dev.leaderpod.benchmarks.scenarios;

import dev.leaderpod.benchmarks.contenders.Candidate;
import dev.leaderpod.benchmarks.contenders.Contender;
import dev.leaderpod.benchmarks.contenders.ElectionLog;
import dev.leaderpod.benchmarks.contenders.Timings;
import dev.leaderpod.benchmarks.support.MockApiServer;
import dev.leaderpod.benchmarks.support.MockApiServer.Counts;
import dev.leaderpod.benchmarks.support.Report;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Scenario 3, API load at steady state: requests per minute counted by the mock API server, split by verb, and
 * watch events the server delivered, for 3 and 50 candidates per implementation. All groups run side by side in
 * real time, each in its own namespace (which is how the server attributes requests); counting starts after a
 * warm-up and lasts {@code window}.
 */
public final class ApiLoadScenario {

    private final MockApiServer server;
    private final Duration warmUp;
    private final Duration window;
    private final int[] sizes;

    public ApiLoadScenario(MockApiServer server, Duration warmUp, Duration window, int... sizes) {
        this.server = server;
        this.warmUp = warmUp;
        this.window = window;
        this.sizes = sizes;
    }

    record Group(Contender contender, int size, String namespace, List<Candidate> candidates) {}

    public void run(Report report, List<Contender> contenders) {
        report.line("## 3. API load at steady state (default timings " + Timings.DEFAULTS + ")");
        report.line("");
        report.line("Requests per minute counted by the API server (a counting dispatcher around the CRUD mock"
                + " server), over " + window.toSeconds() + " s of real time after a " + warmUp.toSeconds()
                + " s warm-up; all groups side by side. No scaling or injection: real elapsed time. Goal for us: ≤ 35"
                + " req/min for 3 candidates, ≤ 60 for 50, watch re-connections included.");
        report.line("");
        List<Group> groups = new ArrayList<>();
        try {
            for (int size : sizes) {
                for (Contender contender : contenders) {
                    String namespace = "load-" + contender.slug() + "-" + size;
                    ElectionLog log = new ElectionLog();
                    List<Candidate> candidates = new ArrayList<>();
                    for (int i = 0; i < size; i++) {
                        Candidate candidate = contender.create(
                                server,
                                namespace,
                                "load",
                                contender.slug() + "-" + size + "-" + i,
                                Timings.DEFAULTS,
                                log);
                        candidates.add(candidate);
                        candidate.start();
                    }
                    groups.add(new Group(contender, size, namespace, candidates));
                }
            }
            Await.sleep(warmUp.toMillis());
            List<Counts> before =
                    groups.stream().map(g -> server.counts(g.namespace())).toList();
            long start = System.nanoTime();
            Await.sleep(window.toMillis());
            double minutes = (System.nanoTime() - start) / 60e9;
            List<Counts> after =
                    groups.stream().map(g -> server.counts(g.namespace())).toList();

            TreeSet<String> verbs = new TreeSet<>();
            List<Counts> deltas = new ArrayList<>();
            for (int i = 0; i < groups.size(); i++) {
                Counts delta = after.get(i).minus(before.get(i));
                deltas.add(delta);
                delta.byVerb().forEach((verb, count) -> {
                    if (count != 0) {
                        verbs.add(verb);
                    }
                });
            }
            List<String> header = new ArrayList<>(List.of("implementation", "candidates", "total req/min"));
            verbs.forEach(v -> header.add(v + "/min"));
            header.add("watch events/min");
            header.add("leaders at end");
            header.add("total vs best alternative");
            List<List<String>> rows = new ArrayList<>();
            for (int i = 0; i < groups.size(); i++) {
                Group group = groups.get(i);
                Counts delta = deltas.get(i);
                double best = Double.NaN;
                for (int j = 0; j < groups.size(); j++) {
                    if (groups.get(j).size() == group.size() && groups.get(j).contender() != Contender.OURS) {
                        double total = deltas.get(j).total() / minutes;
                        best = Double.isNaN(best) ? total : Math.min(best, total);
                    }
                }
                List<String> row = new ArrayList<>(List.of(
                        group.contender().title(),
                        String.valueOf(group.size()),
                        Report.num(delta.total() / minutes, 1)));
                Map<String, Long> byVerb = delta.byVerb();
                verbs.forEach(v -> row.add(Report.num(byVerb.getOrDefault(v, 0L) / minutes, 1)));
                row.add(Report.num(delta.watchEvents() / minutes, 1));
                row.add(String.valueOf(Await.leaders(group.candidates()).size()));
                row.add(Report.ratio(delta.total() / minutes, best));
                rows.add(row);
            }
            report.table(header, rows);
        } finally {
            groups.parallelStream().forEach(g -> Await.closeAll(g.candidates()));
        }
    }
}
