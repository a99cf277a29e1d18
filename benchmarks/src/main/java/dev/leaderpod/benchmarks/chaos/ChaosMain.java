package dev.leaderpod.benchmarks.chaos;

import dev.leaderpod.benchmarks.support.MockApiServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Runs the chaos harness from the command line:
 *
 * <pre>
 * ChaosMain [ours|fabric8] [faultSeconds=60] [candidates=5] [seed=1] [finalOutageMillis=3500]
 *           [maxClockOffsetSeconds=21600] [maxRateErrorPercent=1]
 *           [--store=kubernetes|local] [--faults=all|classic|none|CLASS,...] [--without=CLASS,...]
 *           [--elections=1]
 * </pre>
 *
 * Fault classes ({@link FaultClass}): network, server, store, pauses, crashes, stalls, third-party, silent-watch,
 * errors, restarts, directory; {@code classic} is the first five. All are on by default; a class that cannot apply
 * to the elector and store is left out and reported. {@code --elections=E} (ours only) gives every candidate E
 * elections, spread over the candidates, each checked on its own. Exits 1 if the run failed, 2 on bad arguments.
 */
public final class ChaosMain {

    public static void main(String[] args) {
        ChaosHarness.Config config;
        try {
            config = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("chaos: " + e.getMessage());
            System.exit(2);
            return;
        }
        ChaosHarness.Result result;
        if (config.store() == ChaosHarness.Store.KUBERNETES) {
            try (MockApiServer server = new MockApiServer()) {
                result = new ChaosHarness(server, config).run();
            }
        } else {
            result = new ChaosHarness(null, config).run();
        }
        System.out.println(result.summary());
        result.overlaps().stream().limit(20).forEach(o -> System.out.println("  overlap (polled): " + o));
        result.listenerOverlaps().stream().limit(20).forEach(o -> System.out.println("  overlap (listeners): " + o));
        result.lifecycleFailures().stream()
                .limit(5)
                .forEach(f -> System.out.println("  failed context stop/start: " + f));
        System.exit(result.passed() ? 0 : 1);
    }

    /** The configuration the arguments describe. */
    static ChaosHarness.Config parse(String[] args) {
        List<String> positional = new ArrayList<>();
        ChaosHarness.Store store = ChaosHarness.Store.KUBERNETES;
        Set<FaultClass> classes = EnumSet.allOf(FaultClass.class);
        Set<FaultClass> without = EnumSet.noneOf(FaultClass.class);
        int elections = 1;
        for (String arg : args) {
            if (arg.startsWith("--")) {
                int equals = arg.indexOf('=');
                if (equals < 0) {
                    throw new IllegalArgumentException("options take a value: " + arg);
                }
                String name = arg.substring(2, equals);
                String value = arg.substring(equals + 1);
                switch (name) {
                    case "store" -> store = ChaosHarness.Store.valueOf(value.toUpperCase(Locale.ROOT));
                    case "faults" -> classes = FaultClass.parseSet(value);
                    case "without" -> without = FaultClass.parseSet(value);
                    case "elections" -> elections = Integer.parseInt(value);
                    default -> throw new IllegalArgumentException("unknown option " + arg);
                }
            } else {
                positional.add(arg);
            }
        }
        ChaosHarness.Elector elector = positional.size() > 0
                ? ChaosHarness.Elector.valueOf(positional.get(0).toUpperCase(Locale.ROOT))
                : ChaosHarness.Elector.OURS;
        long seconds = positional.size() > 1 ? Long.parseLong(positional.get(1)) : 60;
        int candidates = positional.size() > 2 ? Integer.parseInt(positional.get(2)) : 5;
        long seed = positional.size() > 3 ? Long.parseLong(positional.get(3)) : 1;
        long outage = positional.size() > 4 ? Long.parseLong(positional.get(4)) : 3500;
        Set<FaultClass> enabled = EnumSet.noneOf(FaultClass.class);
        enabled.addAll(classes);
        enabled.removeAll(without);
        ChaosHarness.Config config = ChaosHarness.Config.ci(elector, seed)
                .withStore(store)
                .withFaultPhase(Duration.ofSeconds(seconds))
                .withCandidates(candidates)
                .withFinalOutage(Duration.ofMillis(outage))
                .withFaultClasses(enabled)
                .withElections(elections);
        if (positional.size() > 5) {
            double rateError = positional.size() > 6 ? Double.parseDouble(positional.get(6)) / 100 : 0.01;
            config = config.withClocks(Duration.ofSeconds(Long.parseLong(positional.get(5))), rateError);
        }
        return config;
    }
}
