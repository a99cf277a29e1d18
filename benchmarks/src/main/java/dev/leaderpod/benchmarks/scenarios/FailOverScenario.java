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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Scenario 2, crash fail-over: the leader is cut off the API server (its proxy turns into a black hole, as for a
 * crashed or partitioned node) without releasing. Measured from the leader's last successful renew (its response
 * received) until another candidate is granted. To keep the run short, {@code elections} independent elections of
 * three candidates run side by side per implementation, each crashing its leader once.
 *
 * <p>Also recorded: the grant minus the moment that last renew was <em>sent</em> (never less than the lease
 * duration for a safe elector), and how long the cut-off leader still said it led after the new one was granted.
 */
public final class FailOverScenario {

    private final MockApiServer server;
    private final int elections;
    private final Timings timings;

    public FailOverScenario(MockApiServer server, int elections, Timings timings) {
        this.server = server;
        this.elections = elections;
        this.timings = timings;
    }

    record Sample(double failoverMs, double sinceSentMs, double twoLeadersMs, boolean granted) {}

    public void run(Report report, List<Contender> contenders) throws Exception {
        long lease = timings.leaseDuration().toMillis();
        Duration wait = timings.leaseDuration().multipliedBy(3);
        report.line("## 2. Crash fail-over (3 candidates, timings " + timings + ")");
        report.line("");
        report.line("The leader is cut off (its proxy becomes a black hole) without releasing. Fail-over = time from"
                + " its last successful renew to another candidate's grant. " + elections
                + " elections per implementation side by side, one crash each. Goal for us: lease duration ("
                + lease + " ms) ≤ fail-over ≤ lease duration + 250 ms.");
        report.line("");
        ExecutorService pool = Executors.newCachedThreadPool();
        List<List<Future<Sample>>> futures = new ArrayList<>();
        for (Contender contender : contenders) {
            List<Future<Sample>> perContender = new ArrayList<>();
            for (int e = 0; e < elections; e++) {
                int election = e;
                perContender.add(pool.submit(() -> measure(contender, election, wait)));
            }
            futures.add(perContender);
        }
        List<List<String>> rows = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        List<Stats> failovers = new ArrayList<>();
        for (int i = 0; i < contenders.size(); i++) {
            List<Sample> samples = new ArrayList<>();
            for (Future<Sample> future : futures.get(i)) {
                samples.add(future.get());
            }
            List<Double> granted = samples.stream()
                    .filter(Sample::granted)
                    .map(Sample::failoverMs)
                    .toList();
            failovers.add(Stats.of(granted));
            Stats sinceSent = Stats.of(samples.stream()
                    .filter(Sample::granted)
                    .map(Sample::sinceSentMs)
                    .toList());
            Stats twoLeaders = Stats.of(samples.stream()
                    .filter(Sample::granted)
                    .map(Sample::twoLeadersMs)
                    .toList());
            long missing = samples.stream().filter(s -> !s.granted()).count();
            notes.add(contenders.get(i).title() + ": " + missing + " of " + samples.size()
                    + " elections had no new leader within " + wait.toSeconds() + " s of the crash"
                    + (granted.isEmpty()
                            ? ""
                            : "; grant − last renew *sent*: min " + Report.ms(sinceSent.min()) + " ms; old leader"
                                    + " still said it led after the new grant: max " + Report.ms(twoLeaders.max())
                                    + " ms (median " + Report.ms(twoLeaders.median()) + ")"));
        }
        double best = Double.NaN;
        for (int i = 0; i < contenders.size(); i++) {
            Stats s = failovers.get(i);
            if (contenders.get(i) != Contender.OURS && s.count() > 0 && (Double.isNaN(best) || s.median() < best)) {
                best = s.median();
            }
        }
        for (int i = 0; i < contenders.size(); i++) {
            Stats s = failovers.get(i);
            rows.add(List.of(
                    contenders.get(i).title(),
                    String.valueOf(s.count()),
                    Report.ms(s.median()),
                    Report.ms(s.p90()),
                    Report.ms(s.max()),
                    Report.ms(s.median() - lease),
                    Report.ratio(s.median(), best)));
        }
        pool.shutdown();
        report.table(
                List.of(
                        "implementation",
                        "n",
                        "median ms",
                        "p90 ms",
                        "max ms",
                        "median − lease ms",
                        "median vs best alternative"),
                rows);
        notes.forEach(n -> report.line("- " + n));
        report.line("");
    }

    private Sample measure(Contender contender, int election, Duration wait) {
        String namespace = "failover-" + contender.slug();
        String name = "failover-" + election;
        ElectionLog log = new ElectionLog();
        List<Candidate> candidates = new CopyOnWriteArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                Candidate candidate = contender.create(
                        server, namespace, name, contender.slug() + "-" + election + "-" + i, timings, log);
                candidates.add(candidate);
                candidate.start();
            }
            if (!Await.until(() -> Await.leaders(candidates).size() == 1, Duration.ofSeconds(60))) {
                return new Sample(Double.NaN, Double.NaN, Double.NaN, false);
            }
            // Let the followers see a few renews, and spread the crashes over one retry period.
            Await.sleep(3 * timings.retryPeriod().toMillis()
                    + election * timings.retryPeriod().toMillis() / elections);
            Candidate leader = Await.leaders(candidates).get(0);
            long crashAt = System.nanoTime();
            leader.crash();
            boolean granted = Await.until(() -> log.firstGrantAfter(crashAt, leader.identity()) != null, wait);
            if (!granted) {
                return new Sample(Double.NaN, Double.NaN, Double.NaN, false);
            }
            ElectionLog.Event grant = log.firstGrantAfter(crashAt, leader.identity());
            // What the cut-off leader said at the moment of the grant, and until when.
            long oldLeadsUntil = grant.atNanos();
            while (leader.isLeader() && System.nanoTime() - grant.atNanos() < wait.toNanos()) {
                Await.sleep(5);
                oldLeadsUntil = System.nanoTime();
            }
            ElectionLog.Event lastRenew = log.lastRenewBefore(leader.identity(), grant.atNanos());
            if (lastRenew == null) {
                return new Sample(Double.NaN, Double.NaN, Double.NaN, false);
            }
            return new Sample(
                    (grant.atNanos() - lastRenew.atNanos()) / 1e6,
                    (grant.atNanos() - lastRenew.sentNanos()) / 1e6,
                    Math.max(0, (oldLeadsUntil - grant.atNanos()) / 1e6),
                    true);
        } finally {
            Await.closeAll(candidates);
        }
    }
}
