package dev.leaderpod.benchmarks;

import dev.leaderpod.benchmarks.contenders.Contender;
import dev.leaderpod.benchmarks.contenders.Timings;
import dev.leaderpod.benchmarks.footprint.FootprintScenario;
import dev.leaderpod.benchmarks.jmh.LeaderOnlyScenario;
import dev.leaderpod.benchmarks.scenarios.ApiLoadScenario;
import dev.leaderpod.benchmarks.scenarios.FailOverScenario;
import dev.leaderpod.benchmarks.scenarios.HandOverScenario;
import dev.leaderpod.benchmarks.scenarios.LocalHandOverScenario;
import dev.leaderpod.benchmarks.scenarios.SpreadScenario;
import dev.leaderpod.benchmarks.support.MockApiServer;
import dev.leaderpod.benchmarks.support.Report;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Runs the benchmark scenarios for our elector and the alternatives, in one process, against one CRUD mock API
 * server, and writes the results as Markdown to standard output and {@code target/benchmark-results.md}.
 *
 * <pre>
 * BenchmarkMain [all | handover,failover,load,leaderonly,footprint,localhandover,spread] [--rounds=10] [--elections=6]
 *               [--warmup=30] [--window=90] [--footprint-runs=5]
 *               [--spread-elections=12] [--spread-candidates=3,50] [--spread-warmup=20] [--spread-window=60]
 *               [--spread-settle=180]
 * </pre>
 */
public final class BenchmarkMain {

    public static void main(String[] args) {
        try {
            run(args);
        } catch (Throwable e) {
            e.printStackTrace();
            System.exit(1);
        }
        System.exit(0); // candidates' clients may leave non-daemon threads behind
    }

    private static void run(String[] args) throws Exception {
        Map<String, String> options = new HashMap<>();
        Set<String> scenarios = new TreeSet<>();
        for (String arg : args) {
            if (arg.startsWith("--")) {
                String[] kv = arg.substring(2).split("=", 2);
                options.put(kv[0], kv.length > 1 ? kv[1] : "true");
            } else {
                scenarios.addAll(Arrays.asList(arg.split(",")));
            }
        }
        if (scenarios.isEmpty() || scenarios.contains("all")) {
            scenarios = Set.of("handover", "failover", "load", "leaderonly", "footprint", "localhandover", "spread");
        }
        Report report = new Report(Path.of(options.getOrDefault("out", "target/benchmark-results.md")));
        long start = System.nanoTime();
        report.line("# Benchmark run " + Instant.now());
        report.line("");
        report.line("Machine: " + Runtime.getRuntime().availableProcessors() + " CPUs, "
                + ManagementFactory.getOperatingSystemMXBean().getName() + " "
                + ManagementFactory.getOperatingSystemMXBean().getArch() + ", JDK "
                + System.getProperty("java.vm.vendor") + " " + Runtime.version() + ", max heap "
                + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB, load average at start "
                + ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        report.line("");
        List<Contender> all = List.of(Contender.OURS, Contender.FABRIC8, Contender.CONFIG_MAP);
        try (MockApiServer server = new MockApiServer()) {
            if (scenarios.contains("handover")) {
                new HandOverScenario(server, Integer.parseInt(options.getOrDefault("rounds", "10"))).run(report, all);
            }
            if (scenarios.contains("failover")) {
                new FailOverScenario(server, Integer.parseInt(options.getOrDefault("elections", "6")), Timings.DEFAULTS)
                        .run(report, all);
            }
            if (scenarios.contains("load")) {
                new ApiLoadScenario(
                                server,
                                Duration.ofSeconds(Long.parseLong(options.getOrDefault("warmup", "30"))),
                                Duration.ofSeconds(Long.parseLong(options.getOrDefault("window", "90"))),
                                3,
                                50)
                        .run(report, all);
            }
            if (scenarios.contains("leaderonly")) {
                new LeaderOnlyScenario().run(report);
            }
            if (scenarios.contains("footprint")) {
                new FootprintScenario(server, Integer.parseInt(options.getOrDefault("footprint-runs", "5")))
                        .run(report);
            }
            if (scenarios.contains("spread")) {
                SpreadScenario.Settings settings = SpreadScenario.Settings.defaults(
                                Integer.parseInt(options.getOrDefault("spread-elections", "12")),
                                Arrays.stream(options.getOrDefault("spread-candidates", "3,50")
                                                .split(","))
                                        .map(String::trim)
                                        .map(Integer::valueOf)
                                        .toList(),
                                Duration.ofSeconds(Long.parseLong(options.getOrDefault("spread-warmup", "20"))),
                                Duration.ofSeconds(Long.parseLong(options.getOrDefault("spread-window", "60"))))
                        .withSettleTimeout(
                                Duration.ofSeconds(Long.parseLong(options.getOrDefault("spread-settle", "180"))));
                new SpreadScenario(server, settings).run(report);
            }
            if (scenarios.contains("localhandover")) {
                new LocalHandOverScenario(Integer.parseInt(options.getOrDefault("rounds", "10"))).run(report);
            }
        }
        report.line("Whole run took " + (System.nanoTime() - start) / 1_000_000_000 + " s; load average at the end "
                + ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage() + ".");
    }
}
