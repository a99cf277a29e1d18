package dev.leaderpod.benchmarks.jmh;

import dev.leaderpod.benchmarks.support.Report;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Runs {@link LeaderOnlyBenchmark} with JMH and reports it. Three forks: on a shared VM one JVM's figure for the same
 * call varies by up to 40 % from the next one's (object placement, JIT), more than within a fork.
 */
public final class LeaderOnlyScenario {

    public void run(Report report) throws Exception {
        boolean intercepted;
        try (ConfigurableApplicationContext context = LeaderOnlyBenchmark.startContext()) {
            intercepted = LeaderOnlyBenchmark.leaderOnlyIntercepted(context);
        }
        Collection<RunResult> results = new Runner(new OptionsBuilder()
                        .include(LeaderOnlyBenchmark.class.getName())
                        .forks(3)
                        .warmupIterations(4)
                        .warmupTime(TimeValue.seconds(1))
                        .measurementIterations(5)
                        .measurementTime(TimeValue.seconds(1))
                        .jvmArgsAppend("-Xmx512m")
                        .build())
                .run();
        Map<String, double[]> scores = new HashMap<>();
        for (RunResult result : results) {
            String name = result.getParams().getBenchmark();
            name = name.substring(name.lastIndexOf('.') + 1);
            scores.put(name, new double[] {
                result.getPrimaryResult().getScore(), result.getPrimaryResult().getScoreError()
            });
        }
        report.line(
                "## 4. @LeaderOnly overhead (JMH, average time per call, 3 forks, 4×1 s warm-up, 5×1 s measurement each)");
        report.line("");
        if (!intercepted) {
            report.line("**The @LeaderOnly interceptor does not exist in this build** (the annotated bean is not"
                    + " proxied), so the leader-only row is a plain call. Re-run after the interceptor is merged.");
            report.line("");
        }
        double baseline = scores.getOrDefault("emptyAdviceCall", new double[] {Double.NaN})[0];
        List<List<String>> rows = new ArrayList<>();
        for (String name : List.of(
                "leaderOnlyCall",
                "namedLeaderOnlyCall",
                "leaderOnlyCallWithoutClock",
                "emptyAdviceCall",
                "plainCall",
                "clockRead")) {
            double[] score = scores.getOrDefault(name, new double[] {Double.NaN, Double.NaN});
            rows.add(List.of(
                    name, Report.num(score[0], 2), Report.num(score[1], 2), Report.num(score[0] - baseline, 2)));
        }
        report.table(List.of("benchmark", "ns/call", "± (99.9 %)", "ns over empty advice"), rows);
        double clock = scores.getOrDefault("clockRead", new double[] {Double.NaN})[0];
        double leaderOnly = scores.getOrDefault("leaderOnlyCall", new double[] {Double.NaN})[0];
        double withoutClock = scores.getOrDefault("leaderOnlyCallWithoutClock", new double[] {Double.NaN})[0];
        report.line("Goal: a @LeaderOnly call on the leader costs ≤ 20 ns more than the empty-advice call. Overhead: "
                + Report.num(leaderOnly - baseline, 1) + " ns, of which one clock read (System.nanoTime, the"
                + " call-time deadline check) is " + Report.num(clock, 1) + " ns; the rest: "
                + Report.num(leaderOnly - baseline - clock, 1) + " ns. The interceptor with an election that reads no"
                + " clock costs " + Report.num(withoutClock - baseline, 1) + " ns over the empty advice.");
        report.line("");
    }
}
