package dev.leaderpod.benchmarks.chaos;

import dev.leaderpod.benchmarks.support.MockApiServer;
import java.time.Duration;

/**
 * Runs the chaos harness from the command line:
 * {@code ChaosMain [ours|fabric8] [faultSeconds=60] [candidates=5] [seed=1] [finalOutageMillis=3500]
 * [maxClockOffsetSeconds=21600] [maxRateErrorPercent=1]}. Exits 1 if the run failed.
 */
public final class ChaosMain {

    public static void main(String[] args) {
        ChaosHarness.Elector elector = args.length > 0
                ? ChaosHarness.Elector.valueOf(args[0].toUpperCase(java.util.Locale.ROOT))
                : ChaosHarness.Elector.OURS;
        long seconds = args.length > 1 ? Long.parseLong(args[1]) : 60;
        int candidates = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        long seed = args.length > 3 ? Long.parseLong(args[3]) : 1;
        long outage = args.length > 4 ? Long.parseLong(args[4]) : 3500;
        ChaosHarness.Config config = ChaosHarness.Config.ci(elector, seed)
                .withFaultPhase(Duration.ofSeconds(seconds))
                .withCandidates(candidates)
                .withFinalOutage(Duration.ofMillis(outage));
        if (args.length > 5) {
            double rateError = args.length > 6 ? Double.parseDouble(args[6]) / 100 : 0.01;
            config = config.withClocks(Duration.ofSeconds(Long.parseLong(args[5])), rateError);
        }
        ChaosHarness.Result result;
        try (MockApiServer server = new MockApiServer()) {
            result = new ChaosHarness(server, config).run();
        }
        System.out.println(result.summary());
        result.overlaps().stream().limit(20).forEach(o -> System.out.println("  overlap: " + o));
        System.exit(result.passed() ? 0 : 1);
    }
}
