package dev.leaderpod.benchmarks.chaos;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The kinds of fault the chaos harness injects, each switched on or off as a whole. Every class is on by default;
 * one that cannot apply to the elector or store of a run ({@link #appliesTo}) is left out of it and reported so.
 */
public enum FaultClass {
    /** Added latency, reset connections (the watch's too), partitions that hang every call. */
    NETWORK("network", true, false, 24),
    /** 5xx storms and 409 storms on writes, answered by the API server for every candidate. */
    SERVER("server", true, false, 10),
    /** HTTP 500s and 409 storms of one candidate's store calls (its store or lock wrapper). */
    STORE("store", false, true, 12),
    /** The election thread blocked for 0.2–1.5 renew deadlines before a request or after its answer (a GC). */
    PAUSES("pauses", false, true, 10),
    /** A candidate cut off and stopped without release; back later under a new identity. */
    CRASHES("crashes", false, true, 8),
    /** A response whose headers arrive and whose body then stalls, trickles or is cut. */
    STALLS("stalls", true, false, 10),
    /** Someone else edits the Lease as {@code kubectl edit} would, or deletes it. */
    THIRD_PARTY("third-party", true, false, 10),
    /** The watch connections of a candidate stop delivering events without closing. */
    SILENT_WATCH("silent-watch", true, false, 5),
    /** An {@link Error} ({@code OutOfMemoryError}, {@code StackOverflowError}, {@code AssertionError}) from a store call. */
    ERRORS("errors", false, true, 5),
    /** {@code context.stop()} then {@code context.start()} of a candidate: the same objects, stopped and started. */
    RESTARTS("restarts", false, true, 6),
    /** The local store's lease directory deleted, with everything in it. */
    DIRECTORY("directory", false, true, 6);

    /** The faults of the harness before these classes were added. */
    public static final Set<FaultClass> CLASSIC = EnumSet.of(NETWORK, SERVER, STORE, PAUSES, CRASHES);

    private final String cliName;
    private final boolean needsApiServer;
    private final boolean anyStore;
    private final int weight;

    FaultClass(String cliName, boolean needsApiServer, boolean anyStore, int weight) {
        this.cliName = cliName;
        this.needsApiServer = needsApiServer;
        this.anyStore = anyStore;
        this.weight = weight;
    }

    /** The name on the command line, such as {@code third-party}. */
    public String cliName() {
        return cliName;
    }

    /** Relative share of the injected faults while this class is on. */
    int weight() {
        return weight;
    }

    /**
     * Whether this class can hit a run of {@code elector} on {@code store}: faults of the API server, the network
     * and the Lease object need the Kubernetes store; the lease directory is the local store's; fabric8 does not
     * watch, so a silent watch cannot touch it.
     */
    public boolean appliesTo(ChaosHarness.Elector elector, ChaosHarness.Store store) {
        if (this == DIRECTORY) {
            return store == ChaosHarness.Store.LOCAL;
        }
        if (this == SILENT_WATCH && elector == ChaosHarness.Elector.FABRIC8) {
            return false;
        }
        return anyStore || (needsApiServer && store == ChaosHarness.Store.KUBERNETES);
    }

    /** The class named {@code name} on the command line. */
    public static FaultClass parse(String name) {
        String wanted = name.strip().toLowerCase(Locale.ROOT);
        return Arrays.stream(values())
                .filter(c -> c.cliName.equals(wanted) || c.name().equalsIgnoreCase(wanted.replace('-', '_')))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown fault class '" + name + "'; known: "
                        + Arrays.stream(values()).map(FaultClass::cliName).collect(Collectors.joining(", "))));
    }

    /**
     * A set of classes from a comma-separated list: class names, {@code all}, {@code none} or {@code classic}.
     */
    public static Set<FaultClass> parseSet(String list) {
        Set<FaultClass> set = EnumSet.noneOf(FaultClass.class);
        for (String item : list.split(",")) {
            String name = item.strip().toLowerCase(Locale.ROOT);
            switch (name) {
                case "" -> {}
                case "all" -> set.addAll(EnumSet.allOf(FaultClass.class));
                case "none" -> {}
                case "classic" -> set.addAll(CLASSIC);
                default -> set.add(parse(name));
            }
        }
        return set;
    }
}
