package dev.leaderpod.autoconfigure;

import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.ElectionSettings.InvalidSettingException;
import dev.leaderpod.core.Leadership;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.spread.ElectionSpreader;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Every election of the application, by name: the default election ({@link #DEFAULT}, the {@link LeaseElector}
 * bean) and the named ones, which {@code leader.elections.<name>} configures and {@code @LeaderOnly("<name>")}
 * takes part in. Inject it to ask about a named election:
 *
 * <pre>{@code
 * if (elections.election("reports").isLeader()) { ... }
 * }</pre>
 *
 * <p>Each named election is an elector of its own on its own lease, {@code <leader.lease-name>-<name>}, with every
 * guarantee of the default one (docs/design.md, "Named elections"); they share the application's store, identity
 * and threads ({@code ElectionRuntime}). An election disabled with {@code leader.elections.<name>.enabled=false}
 * is known but this instance is no candidate: its view never leads.
 */
public final class LeaderElections {

    /** The name of the default election: empty, as in {@code @LeaderOnly}. */
    public static final String DEFAULT = "";

    private static final Pattern ELECTION_NAME = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

    private final LeaseElector defaultElector;
    private final Function<String, Leadership> namedElections;
    private final Function<LeaseElector, Duration> stopTimeout;
    private final ElectionSpreader spreader;
    private final Map<String, Leadership> named = new TreeMap<>();
    private boolean running;

    /**
     * @param defaultElector the default election's elector
     * @param namedElections builds the election of a name: its elector, or a view that never leads where this
     *     instance is no candidate; throws {@link IllegalArgumentException} for a name no election can have
     * @param configured the names of the elections configured under {@code leader.elections}, which run even if
     *     no annotation names them
     * @param stopTimeout how long the stop of an elector may take: its drain, then its release
     * @param spreader spreads the elections over the live candidates, or null
     */
    LeaderElections(
            LeaseElector defaultElector,
            Function<String, Leadership> namedElections,
            Set<String> configured,
            Function<LeaseElector, Duration> stopTimeout,
            ElectionSpreader spreader) {
        this.defaultElector = defaultElector;
        this.spreader = spreader;
        this.namedElections = namedElections;
        this.stopTimeout = stopTimeout;
        for (String name : configured) {
            try {
                declare(name);
            } catch (IllegalArgumentException e) {
                throw LeaderConfigurationException.describedAs(
                        "leader.elections." + name,
                        name,
                        "the election '" + name + "' under leader.elections cannot have that name: it "
                                + e.getMessage(),
                        "Rename the election under leader.elections: lower-case letters, digits and '-', starting"
                                + " and ending with a letter or digit, short enough for '<lease-name>-<name>' to stay"
                                + " within 253 characters.");
            }
        }
    }

    /**
     * The lease of the election {@code name} of an application whose default election's lease is {@code base}.
     *
     * @throws IllegalArgumentException saying the rule the name breaks: lower-case letters, digits and '-', starting
     *     and ending with a letter or digit, and a lease name no longer than a Kubernetes object name may be
     */
    static String leaseName(String base, String name) {
        if (name == null || !ELECTION_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("must be lower-case letters, digits and '-', starting and ending with a"
                    + " letter or digit, as it names the lease '" + base + "-<name>'");
        }
        String leaseName = base + "-" + name;
        try {
            ElectionSettings.requireValidLeaseName(leaseName);
        } catch (InvalidSettingException e) {
            throw new IllegalArgumentException(
                    "must keep its lease name '" + leaseName + "' a valid Kubernetes object name: at most 253"
                            + " characters",
                    e);
        }
        return leaseName;
    }

    /**
     * The election {@code name}: {@link #DEFAULT} (or null) for the default one.
     *
     * @throws IllegalArgumentException if there is no such election; the message lists those there are
     */
    public Leadership election(String name) {
        if (name == null || name.equals(DEFAULT)) {
            return defaultElector;
        }
        synchronized (this) {
            Leadership election = named.get(name);
            if (election == null) {
                throw new IllegalArgumentException("No election named '" + name + "'. Known elections: "
                        + names().stream()
                                .map(known -> known.isEmpty() ? "'' (the default)" : "'" + known + "'")
                                .collect(Collectors.joining(", "))
                        + ". A named election exists when leader.elections." + name + " is configured or a"
                        + " @LeaderOnly(\"" + name + "\") bean was created.");
            }
            return election;
        }
    }

    /** The names of every election, {@link #DEFAULT} first, then in alphabetical order. */
    public synchronized Set<String> names() {
        Set<String> names = new TreeSet<>(named.keySet());
        names.add(DEFAULT);
        return Collections.unmodifiableSet(names);
    }

    /**
     * The electors of the elections this instance is a candidate in, by name: {@link #DEFAULT} first, then in
     * alphabetical order. For what {@link Leadership} does not give: snapshots, settings,
     * {@link LeaseElector#isCurrent}, {@link LeaseElector#yieldLeadership}.
     */
    public synchronized Map<String, LeaseElector> electors() {
        Map<String, LeaseElector> electors = new LinkedHashMap<>();
        electors.put(DEFAULT, defaultElector);
        named.forEach((name, election) -> {
            if (election instanceof LeaseElector elector) {
                electors.put(name, elector);
            }
        });
        return Collections.unmodifiableMap(electors);
    }

    /**
     * The election {@code name}, made known if it was not: built, and started if the elections run. For the names
     * annotations give.
     *
     * @throws IllegalArgumentException if no election can have that name
     */
    synchronized Leadership declare(String name) {
        if (name.equals(DEFAULT)) {
            return defaultElector;
        }
        Leadership election = named.get(name);
        if (election == null) {
            election = namedElections.apply(name);
            named.put(name, election);
            if (running && election instanceof LeaseElector elector) {
                elector.start();
            }
        }
        return election;
    }

    /** The name of the election whose lease is {@code leaseName}: {@link #DEFAULT} unless a named one has it. */
    synchronized String nameOfLease(String leaseName) {
        for (Map.Entry<String, Leadership> election : named.entrySet()) {
            if (election.getValue().leaseName().equals(leaseName)) {
                return election.getKey();
            }
        }
        return DEFAULT;
    }

    /** Joins every election this instance is a candidate in. */
    synchronized void start() {
        running = true;
        for (LeaseElector elector : electors().values()) {
            if (!elector.isRunning()) {
                elector.start();
            }
        }
        if (spreader != null) {
            spreader.start();
        }
    }

    /** Spreads the elections over the live candidates, if this instance takes part in two or more; else empty. */
    public Optional<ElectionSpreader> spreader() {
        return Optional.ofNullable(spreader).filter(ElectionSpreader::isRunning);
    }

    /**
     * Leaves every election, one after another: the default one first, then the named ones in name order, each
     * draining its leader-only work and releasing its lease before the next stops. Their drains run on the shared
     * event thread in any case, so stopping them at once would not end sooner. Each stop is bounded by its {@code stopTimeout}; it is quick
     * unless leader-only work outlives the drain timeout.
     */
    void stop() {
        if (spreader != null) {
            spreader.leave(); // nobody hands this instance an election while it stops; its releases name successors
        }
        List<LeaseElector> electors;
        synchronized (this) {
            running = false;
            electors =
                    electors().values().stream().filter(LeaseElector::isRunning).toList();
        }
        for (LeaseElector elector : electors) {
            elector.stop(stopTimeout.apply(elector));
        }
    }

    /**
     * Whether this instance stands for leadership may have changed (leadership follows readiness): every running
     * election acts on it now ({@link LeaseElector#standingChanged()}). Returns at once.
     */
    void standingChanged() {
        for (LeaseElector elector : electors().values()) {
            if (elector.isRunning()) {
                elector.standingChanged();
            }
        }
    }

    /** Whether an election this instance is a candidate in runs. */
    boolean isRunning() {
        return electors().values().stream().anyMatch(LeaseElector::isRunning);
    }
}
