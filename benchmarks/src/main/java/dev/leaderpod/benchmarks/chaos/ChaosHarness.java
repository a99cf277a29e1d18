package dev.leaderpod.benchmarks.chaos;

import dev.leaderpod.benchmarks.contenders.Candidate;
import dev.leaderpod.benchmarks.contenders.ElectionLog;
import dev.leaderpod.benchmarks.contenders.Fabric8Candidate;
import dev.leaderpod.benchmarks.contenders.OurCandidate;
import dev.leaderpod.benchmarks.contenders.SpreadCandidate;
import dev.leaderpod.benchmarks.contenders.Timings;
import dev.leaderpod.benchmarks.support.FaultProxy;
import dev.leaderpod.benchmarks.support.MockApiServer;
import dev.leaderpod.core.LeaseStore;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Runs N in-process candidates of one elector against the mock API server (or, for ours, the local file store)
 * under faults, and checks that no two ever lead at once and that a leader is back soon after the faults stop.
 *
 * <p>Each candidate slot has its own clock, offset by hours and running up to ±1 % fast or slow, its own
 * fault-injecting TCP proxy and store-level faults. The faults come in classes ({@link FaultClass}), each on by
 * default and switched off as a whole; the harness picks one fault at a time at random, weighted by class, half of
 * them aimed at the current leader. A sampler thread per slot asks the candidate whether it leads, as user code
 * would, about every millisecond, and the candidates' listener callbacks are stamped too ({@link
 * LeadershipIntervals} explains how both become intervals compared in the harness's real time).
 *
 * <p>After the faults (which end with an outage of the store longer than a lease) a leader must be back within
 * lease duration + retry period + 1 s, or one lease duration more if the lease is absent then (a deleted lease may
 * only be created again a lease duration after it was seen gone); there must be exactly one leader after a quiet
 * stretch; and in the final hand-over rounds the leader leaves, gracefully, until one candidate is left, and each
 * time another must take over: every candidate still in the election shows that it is.
 */
public final class ChaosHarness {

    /** Which elector runs. */
    public enum Elector {
        OURS,
        FABRIC8
    }

    /** Where the candidates keep the lease. */
    public enum Store {
        /** A Lease object in the mock API server, each candidate talking through its own proxy. */
        KUBERNETES,
        /** Lease files in a temporary directory ({@code FileLeaseStore}); ours only. */
        LOCAL
    }

    /** The lease's name in every run. */
    static final String LEASE = "chaos";

    /**
     * One run.
     *
     * @param faultPhase how long faults are injected; then everything heals and crashed candidates restart
     * @param maxClockOffset slot clocks are offset by up to this much, alternately ahead and behind
     * @param maxRateError slot clocks run between this much slow and this much fast, spread evenly
     * @param finalOutage how long the store fails every request at the end of the fault phase, so that nobody
     *     leads when the faults stop
     * @param faultClasses the classes switched on; those that cannot apply to the elector and store are left out
     * @param elections how many elections each candidate takes part in; more than one (ours only) runs them as named
     *     elections spread over the candidates ({@link SpreadCandidate}), each checked on its own
     */
    public record Config(
            Elector elector,
            Store store,
            int candidates,
            Duration faultPhase,
            Timings timings,
            long seed,
            Duration maxClockOffset,
            double maxRateError,
            Duration finalOutage,
            Set<FaultClass> faultClasses,
            int elections) {

        public Config {
            if (elector == Elector.FABRIC8 && store == Store.LOCAL) {
                throw new IllegalArgumentException("fabric8 has no local store");
            }
            if (elections < 1) {
                throw new IllegalArgumentException("at least one election, not " + elections);
            }
            if (elector == Elector.FABRIC8 && elections > 1) {
                throw new IllegalArgumentException("several elections are ours only (fabric8 has no spreading)");
            }
            faultClasses = Collections.unmodifiableSet(
                    faultClasses.isEmpty() ? EnumSet.noneOf(FaultClass.class) : EnumSet.copyOf(faultClasses));
        }

        /**
         * The configuration CI runs: 5 candidates, 3 s / 2 s / 500 ms, 50 s of faults of every class, clocks up
         * to 6 h apart and ±1 %, a 3.5 s outage at the end.
         */
        public static Config ci(Elector elector, long seed) {
            return new Config(
                    elector,
                    Store.KUBERNETES,
                    5,
                    Duration.ofSeconds(50),
                    new Timings(Duration.ofSeconds(3), Duration.ofSeconds(2), Duration.ofMillis(500)),
                    seed,
                    Duration.ofHours(6),
                    0.01,
                    Duration.ofMillis(3500),
                    EnumSet.allOf(FaultClass.class),
                    1);
        }

        public Config withStore(Store newStore) {
            return new Config(
                    elector,
                    newStore,
                    candidates,
                    faultPhase,
                    timings,
                    seed,
                    maxClockOffset,
                    maxRateError,
                    finalOutage,
                    faultClasses,
                    elections);
        }

        public Config withFaultPhase(Duration duration) {
            return new Config(
                    elector,
                    store,
                    candidates,
                    duration,
                    timings,
                    seed,
                    maxClockOffset,
                    maxRateError,
                    finalOutage,
                    faultClasses,
                    elections);
        }

        public Config withCandidates(int count) {
            return new Config(
                    elector,
                    store,
                    count,
                    faultPhase,
                    timings,
                    seed,
                    maxClockOffset,
                    maxRateError,
                    finalOutage,
                    faultClasses,
                    elections);
        }

        public Config withClocks(Duration maxOffset, double maxRate) {
            return new Config(
                    elector,
                    store,
                    candidates,
                    faultPhase,
                    timings,
                    seed,
                    maxOffset,
                    maxRate,
                    finalOutage,
                    faultClasses,
                    elections);
        }

        public Config withFinalOutage(Duration outage) {
            return new Config(
                    elector,
                    store,
                    candidates,
                    faultPhase,
                    timings,
                    seed,
                    maxClockOffset,
                    maxRateError,
                    outage,
                    faultClasses,
                    elections);
        }

        public Config withFaultClasses(Set<FaultClass> classes) {
            return new Config(
                    elector,
                    store,
                    candidates,
                    faultPhase,
                    timings,
                    seed,
                    maxClockOffset,
                    maxRateError,
                    finalOutage,
                    classes,
                    elections);
        }

        public Config withElections(int count) {
            return new Config(
                    elector,
                    store,
                    candidates,
                    faultPhase,
                    timings,
                    seed,
                    maxClockOffset,
                    maxRateError,
                    finalOutage,
                    faultClasses,
                    count);
        }

        /** The leases of the elections: {@value ChaosHarness#LEASE} alone, or {@code chaos-0}, {@code chaos-1}, .... */
        public List<String> leases() {
            if (elections == 1) {
                return List.of(LEASE);
            }
            List<String> leases = new ArrayList<>();
            for (int i = 0; i < elections; i++) {
                leases.add(LEASE + "-" + i);
            }
            return leases;
        }

        /** How often a candidate of several elections announces itself: every second (the smallest allowed). */
        Duration presenceInterval() {
            return Duration.ofSeconds(1);
        }

        /** The classes switched on that can hit this elector on this store. */
        public Set<FaultClass> activeFaultClasses() {
            Set<FaultClass> active = EnumSet.noneOf(FaultClass.class);
            faultClasses.stream().filter(c -> c.appliesTo(elector, store)).forEach(active::add);
            return active;
        }

        /** After the faults stop, a leader must appear within lease duration + retry period + this slack. */
        Duration restartSlack() {
            return Duration.ofSeconds(1);
        }

        /** Lease duration + retry period + slack. */
        Duration livenessBound() {
            return timings.leaseDuration().plus(timings.retryPeriod()).plus(restartSlack());
        }
    }

    /** What a run saw. */
    public record Result(
            Config config,
            List<String> clocks,
            Map<String, Integer> faults,
            int terms,
            long samples,
            List<LeadershipIntervals.Overlap> overlaps,
            List<LeadershipIntervals.Overlap> listenerOverlaps,
            List<String> tokenRegressions,
            Duration timeToLeaderAfterFaults,
            Duration livenessBound,
            boolean leaseAbsentAtHeal,
            int leadersAtEnd,
            int handOvers,
            List<String> handOverFailures,
            List<String> lifecycleFailures,
            Duration longestLeaderlessGap,
            List<String> livenessFailures,
            long moves) {

        public boolean noOverlap() {
            return overlaps.isEmpty() && listenerOverlaps.isEmpty();
        }

        public boolean leaderBackInTime() {
            return timeToLeaderAfterFaults != null && timeToLeaderAfterFaults.compareTo(livenessBound) <= 0;
        }

        public boolean passed() {
            return failures().isEmpty();
        }

        /** Why the run failed, one line per check that failed; empty if it passed. */
        public List<String> failures() {
            List<String> failures = new ArrayList<>();
            if (!overlaps.isEmpty()) {
                failures.add(overlaps.size() + " overlap(s) as polled through currentTerm()/isLeader()");
            }
            if (!listenerOverlaps.isEmpty()) {
                failures.add(listenerOverlaps.size() + " overlap(s) as leadership listeners were told");
            }
            if (!leaderBackInTime()) {
                failures.add(
                        timeToLeaderAfterFaults == null
                                ? "no leader within " + 3 * livenessBound.toMillis() + " ms after the faults stopped"
                                : "leader back after " + timeToLeaderAfterFaults.toMillis() + " ms, bound "
                                        + livenessBound.toMillis() + " ms");
            }
            if (leadersAtEnd != 1) {
                failures.add(leadersAtEnd + " leaders at the end" + (config.elections() > 1 ? " of an election" : ""));
            }
            if (!livenessFailures.isEmpty()) {
                failures.add(
                        "leaderless past the bound after the faults stopped: " + String.join("; ", livenessFailures));
            }
            if (!handOverFailures.isEmpty()) {
                failures.add("hand-over rounds: " + String.join("; ", handOverFailures));
            }
            if (!lifecycleFailures.isEmpty()) {
                failures.add(
                        lifecycleFailures.size() + " failed context stop/start(s), first: " + lifecycleFailures.get(0));
            }
            return failures;
        }

        public String summary() {
            StringBuilder out = new StringBuilder();
            out.append(String.format(
                    Locale.ROOT,
                    "chaos %s on %s: %d candidates%s, timings %s, %d s of faults ending with a %d ms outage, seed %d%n",
                    config.elector(),
                    config.store(),
                    config.candidates(),
                    config.elections() == 1
                            ? ""
                            : " × " + config.elections() + " elections (spread, presence every "
                                    + config.presenceInterval().toMillis() + " ms)",
                    config.timings(),
                    config.faultPhase().toSeconds(),
                    config.finalOutage().toMillis(),
                    config.seed()));
            Set<FaultClass> active = config.activeFaultClasses();
            Set<FaultClass> inapplicable = EnumSet.noneOf(FaultClass.class);
            config.faultClasses().stream().filter(c -> !active.contains(c)).forEach(inapplicable::add);
            out.append("  fault classes: ")
                    .append(names(active))
                    .append(inapplicable.isEmpty() ? "" : " (not applicable here: " + names(inapplicable) + ")")
                    .append('\n');
            out.append("  clocks: ").append(String.join("; ", clocks)).append('\n');
            out.append("  faults injected: ").append(faults).append('\n');
            out.append(String.format(
                    Locale.ROOT,
                    "  leadership terms observed: %d; samples: %,d; longest time without a leader%s: %d ms%n",
                    terms,
                    samples,
                    config.elections() == 1 ? "" : " (any election)",
                    longestLeaderlessGap.toMillis()));
            if (config.elections() > 1) {
                out.append("  moves made by the spreaders (information): ")
                        .append(moves)
                        .append('\n');
            }
            out.append("  overlaps, polled (currentTerm()): ")
                    .append(describe(overlaps))
                    .append('\n');
            out.append("  overlaps, as listeners were told (onStarted/onStoppedLeading): ")
                    .append(describe(listenerOverlaps))
                    .append('\n');
            if (config.elector() == Elector.OURS) {
                out.append("  fencing tokens that did not grow (information, not checked): ")
                        .append(tokenRegressions.size())
                        .append(tokenRegressions.isEmpty() ? "" : " (first: " + tokenRegressions.get(0) + ")")
                        .append('\n');
            }
            out.append(String.format(
                    Locale.ROOT,
                    "  leader after faults stopped%s: %s (bound %d ms%s); leaders at end%s: %d%n",
                    config.elections() == 1 ? "" : " (the last election to get one)",
                    timeToLeaderAfterFaults == null ? "none" : timeToLeaderAfterFaults.toMillis() + " ms",
                    livenessBound.toMillis(),
                    leaseAbsentAtHeal
                            ? ", one lease duration more where the lease was absent when the faults stopped"
                            : "",
                    config.elections() == 1 ? "" : " (per election, 1 unless one had another count)",
                    leadersAtEnd));
            out.append("  elections leaderless past their bound after the faults stopped: ")
                    .append(livenessFailures.isEmpty() ? "none" : String.join("; ", livenessFailures))
                    .append('\n');
            out.append(String.format(
                    Locale.ROOT,
                    "  hand-over rounds: %d of %d%s%n",
                    handOvers,
                    config.candidates() - 1,
                    handOverFailures.isEmpty() ? "" : "; " + String.join("; ", handOverFailures)));
            out.append("  failed context stop/starts: ").append(lifecycleFailures.size());
            if (!lifecycleFailures.isEmpty()) {
                out.append(" (first: ").append(lifecycleFailures.get(0)).append(')');
            }
            out.append('\n');
            List<String> failures = failures();
            out.append("  verdict: ").append(failures.isEmpty() ? "PASSED" : "FAILED: " + String.join("; ", failures));
            return out.toString();
        }

        private static String names(Set<FaultClass> classes) {
            return classes.isEmpty()
                    ? "none"
                    : classes.stream().map(FaultClass::cliName).collect(Collectors.joining(", "));
        }

        private static String describe(List<LeadershipIntervals.Overlap> overlaps) {
            if (overlaps.isEmpty()) {
                return "0";
            }
            long longest = overlaps.stream()
                    .mapToLong(LeadershipIntervals.Overlap::overlapNanos)
                    .max()
                    .orElse(0);
            long total = overlaps.stream()
                    .mapToLong(LeadershipIntervals.Overlap::overlapNanos)
                    .sum();
            return String.format(
                    Locale.ROOT,
                    "%d (longest %d ms, total %d ms; first: %s)",
                    overlaps.size(),
                    longest / 1_000_000,
                    total / 1_000_000,
                    overlaps.get(0));
        }
    }

    private final MockApiServer server;
    private final Config config;
    private final Set<FaultClass> active;
    private final SplittableRandom random;
    private final String namespace;
    private final Path leaseDirectory;
    private final Map<String, Integer> faultCounts = new ConcurrentHashMap<>();
    private final List<String> leases;
    /** Each election's polled leadership intervals, by election index. */
    private final List<LeadershipIntervals> intervals = new ArrayList<>();
    /** Each election's grants and revocations as the listeners were told, by lease. */
    private final Map<String, ElectionLog> logs = new ConcurrentHashMap<>();

    private final Map<String, Long> crashedAt = new ConcurrentHashMap<>();
    private final List<String> lifecycleFailures = new CopyOnWriteArrayList<>();
    private final AtomicInteger bodyFaultsApplied = new AtomicInteger();
    private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2, runnable -> {
        Thread thread = new Thread(runnable, "chaos-scheduler");
        thread.setDaemon(true);
        return thread;
    });
    /** Context stops and starts block for up to their timeout: they run here, not on the scheduler. */
    private final ExecutorService lifecycle = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "chaos-lifecycle");
        thread.setDaemon(true);
        return thread;
    });
    /** Slots crashed or context-stopped: at most N − 1 at once. */
    private final AtomicInteger down = new AtomicInteger();

    private volatile boolean faultsActive;
    private volatile boolean running = true;
    private volatile boolean outage;
    private volatile double serverErrorRate;
    private volatile double serverConflictRate;
    private final SplittableRandom serverRandom;
    /** Every candidate of several elections made, for the moves of their spreaders. */
    private final List<SpreadCandidate> spreadCandidates = new CopyOnWriteArrayList<>();
    /** One per election lease. */
    private final List<ThirdPartyWriter> thirdParties = new ArrayList<>();

    /**
     * A harness for {@code config}; {@code server} may be {@code null} for the local store.
     *
     * @throws IllegalArgumentException for the Kubernetes store without a server
     */
    public ChaosHarness(MockApiServer server, Config config) {
        if (server == null && config.store() == Store.KUBERNETES) {
            throw new IllegalArgumentException("the Kubernetes store needs the mock API server");
        }
        this.server = server;
        this.config = config;
        this.active = config.activeFaultClasses();
        this.random = new SplittableRandom(config.seed());
        this.serverRandom = new SplittableRandom(config.seed() ^ 0x5DEECE66DL);
        this.namespace = "chaos-" + config.elector().name().toLowerCase(Locale.ROOT) + "-" + config.seed()
                + (config.elections() == 1 ? "" : "-e" + config.elections());
        this.leases = config.leases();
        for (String lease : leases) {
            intervals.add(new LeadershipIntervals());
            logs.put(lease, new ElectionLog());
        }
        if (config.store() == Store.LOCAL) {
            try {
                this.leaseDirectory = Files.createTempDirectory("chaos-leases-").resolve("leases");
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        } else {
            this.leaseDirectory = null;
        }
    }

    private final class Slot {
        final int index;
        final DriftingClock clock;
        final Faults faults;
        volatile Candidate current;
        /** The current generation's store or lock wrapper, to kill on a crash. */
        volatile Runnable killStore = () -> {};

        int generation;
        /** Context-stopped, to be started again. */
        boolean contextStopped;
        /** A context stop/start is in progress: no other lifecycle fault for this slot meanwhile. */
        boolean busy;
        /** When the context stop in progress began ({@link System#nanoTime()}). */
        long stopBeganAt;
        /** Completes when the context stop in progress has returned. */
        CompletableFuture<Void> stopping = CompletableFuture.completedFuture(null);

        final Thread sampler;
        long samples;

        Slot(int index) {
            this.index = index;
            int n = config.candidates();
            double rate = n == 1 ? 0 : -config.maxRateError() + 2 * config.maxRateError() * index / (n - 1);
            long offsetNanos = config.maxClockOffset().toNanos() * (index + 1) / n;
            this.clock = new DriftingClock(Duration.ofNanos(index % 2 == 0 ? offsetNanos : -offsetNanos), rate);
            this.faults = new Faults(config.seed() * 31 + index);
            this.sampler = new Thread(this::sample, "chaos-sampler-" + index);
            this.sampler.setDaemon(true);
        }

        /** A new generation under a new identity. */
        synchronized void start() {
            String identity = "slot" + index + "-gen" + generation++;
            ElectionLog log = logs.get(leases.get(0));
            Candidate candidate =
                    switch (config.elector()) {
                        case OURS -> {
                            if (leases.size() > 1) {
                                yield spreadCandidate(identity);
                            }
                            UnaryOperator<LeaseStore> wrapper = store -> {
                                FaultyLeaseStore faulty = new FaultyLeaseStore(store, faults);
                                killStore = faulty::kill;
                                return faulty;
                            };
                            yield config.store() == Store.LOCAL
                                    ? OurCandidate.onLocalStore(
                                            leaseDirectory, LEASE, identity, config.timings(), log, clock, wrapper)
                                    : new OurCandidate(
                                            server, namespace, LEASE, identity, config.timings(), log, clock, wrapper);
                        }
                        case FABRIC8 ->
                            new Fabric8Candidate(server, namespace, LEASE, identity, config.timings(), log, lock -> {
                                FaultyLock faulty = new FaultyLock(lock, faults, clock);
                                killStore = faulty::kill;
                                return faulty;
                            });
                    };
            candidate.start();
            current = candidate;
        }

        /** Ours in every election, spread, its lease and presence stores both behind this slot's faults. */
        private Candidate spreadCandidate(String identity) {
            List<Runnable> kills = new CopyOnWriteArrayList<>();
            killStore = () -> kills.forEach(Runnable::run);
            SpreadCandidate.Builder builder = SpreadCandidate.builder(identity, LEASE, leases, config.timings())
                    .presenceInterval(config.presenceInterval())
                    .clock(clock)
                    .logs(logs::get)
                    .storeWrapper(store -> {
                        FaultyLeaseStore faulty = new FaultyLeaseStore(store, faults);
                        kills.add(faulty::kill);
                        return faulty;
                    })
                    .presenceWrapper(store -> {
                        FaultyPresenceStore faulty = new FaultyPresenceStore(store, faults);
                        kills.add(faulty::kill);
                        return faulty;
                    });
            SpreadCandidate candidate = (config.store() == Store.LOCAL
                            ? builder.local(leaseDirectory)
                            : builder.kubernetes(server, namespace, true, null))
                    .build();
            spreadCandidates.add(candidate);
            return candidate;
        }

        /** Cut off and stopped without release; the sampler stops asking it, as a dead process runs no code. */
        synchronized void crash() {
            Candidate candidate = current;
            current = null;
            if (candidate != null) {
                crashedAt.put(candidate.identity(), System.nanoTime());
                killStore.run();
                retire(candidate);
            }
        }

        private void sample() {
            Candidate sampled = null;
            List<LeadershipIntervals.Recorder> recorders = List.of();
            while (running) {
                Candidate candidate = current;
                if (candidate != sampled) {
                    recorders.forEach(LeadershipIntervals.Recorder::close);
                    sampled = candidate;
                    List<LeadershipIntervals.Recorder> fresh = new ArrayList<>();
                    if (candidate != null) {
                        for (int e = 0; e < leases.size(); e++) {
                            fresh.add(new LeadershipIntervals.Recorder(intervals.get(e), candidate.identity()));
                        }
                    }
                    recorders = fresh;
                }
                if (candidate != null) {
                    for (int e = 0; e < recorders.size(); e++) {
                        long t0 = System.nanoTime();
                        long term = candidate.currentTermId(e);
                        long t1 = System.nanoTime();
                        recorders.get(e).sample(t0, term, t1);
                        samples++;
                    }
                }
                LockSupport.parkNanos(1_000_000);
            }
            recorders.forEach(LeadershipIntervals.Recorder::close);
        }
    }

    /** Closes a candidate in the background, counting what its proxy saw. */
    private void retire(Candidate candidate) {
        FaultProxy proxy = candidate.proxy();
        if (proxy != null) {
            bodyFaultsApplied.addAndGet(proxy.bodyFaultsApplied());
        }
        Thread closer = new Thread(candidate::close, "chaos-close-" + candidate.identity());
        closer.setDaemon(true);
        closer.start();
    }

    public Result run() {
        List<Slot> slots = new ArrayList<>();
        if (server != null) {
            server.injectFaults(this::serverFault);
            for (String lease : leases) {
                thirdParties.add(new ThirdPartyWriter(server, namespace, lease));
            }
        }
        try {
            for (int i = 0; i < config.candidates(); i++) {
                Slot slot = new Slot(i);
                slots.add(slot);
                slot.start();
                slot.sampler.start();
            }
            sleep(config.timings().leaseDuration().toMillis()); // a first leader
            faultsActive = true;
            long faultEnd = System.nanoTime() + config.faultPhase().toNanos();
            long outageFrom = faultEnd - config.finalOutage().toNanos();
            while (System.nanoTime() - outageFrom < 0) {
                sleep(150 + random.nextInt(450));
                if (!active.isEmpty()) {
                    injectOne(slots);
                }
            }
            // The finale: the store fails every request for longer than a lease, so nobody leads when the
            // faults stop and every candidate has just failed several times in a row: the hardest start for recovery.
            outage = true;
            if (config.store() == Store.LOCAL) {
                slots.forEach(s -> s.faults.outage(true));
            }
            count("final outage");
            sleep(Math.max(0, (faultEnd - System.nanoTime()) / 1_000_000));
            faultsActive = false;

            // Heal everything; crashed and context-stopped candidates come back at once.
            outage = false;
            serverErrorRate = 0;
            serverConflictRate = 0;
            for (Slot slot : slots) {
                slot.faults.heal();
                Candidate candidate = slot.current;
                if (candidate != null && candidate.proxy() != null) {
                    candidate.proxy().heal();
                }
            }
            long healedAt = System.nanoTime();
            List<Boolean> absentAtHeal =
                    leases.stream().map(lease -> !leaseExists(lease)).toList();
            boolean leaseAbsent = absentAtHeal.contains(true);
            List<Future<?>> starts = new ArrayList<>();
            for (Slot slot : slots) {
                synchronized (slot) {
                    if (slot.current == null) {
                        slot.start();
                        down.decrementAndGet();
                    }
                }
                starts.add(lifecycle.submit(() -> contextStart(slot)));
            }
            for (Future<?> start : starts) {
                await(start, config.livenessBound().multipliedBy(2));
            }
            Duration bound = config.livenessBound();
            if (leaseAbsent) {
                bound = bound.plus(config.timings().leaseDuration());
            }
            Duration timeToLeader = awaitEveryElectionLed(slots, Set.of(), bound.multipliedBy(3))
                    .map(at -> Duration.ofNanos(at - healedAt))
                    .orElse(null);
            sleep(3 * config.timings().retryPeriod().toMillis()); // a quiet stretch, still sampled
            int leadersAtEnd = leadersAtEnd(slots);
            List<String> handOverFailures = new ArrayList<>();
            int handOvers = handOverRounds(slots, handOverFailures);
            running = false;
            long endNanos = System.nanoTime();
            for (Slot slot : slots) {
                slot.sampler.join(2000);
            }
            for (Slot slot : slots) {
                Candidate candidate = slot.current;
                if (candidate != null && candidate.proxy() != null) {
                    bodyFaultsApplied.addAndGet(candidate.proxy().bodyFaultsApplied());
                }
            }
            if (active.contains(FaultClass.STALLS)) {
                faultCounts.put("stalled/trickled/cut responses that hit a response", bodyFaultsApplied.get());
            }
            int terms = 0;
            List<LeadershipIntervals.Overlap> polledOverlaps = new ArrayList<>();
            List<LeadershipIntervals.Overlap> heardOverlaps = new ArrayList<>();
            List<String> tokenRegressions = new ArrayList<>();
            List<String> livenessFailures = new ArrayList<>();
            Duration longestGap = Duration.ZERO;
            for (int e = 0; e < leases.size(); e++) {
                String lease = leases.get(e);
                LeadershipIntervals polled = intervals.get(e);
                List<LeadershipIntervals.Interval> all = polled.intervals();
                terms += all.size();
                polledOverlaps.addAll(labelled(polled.overlaps(), lease));
                heardOverlaps.addAll(labelled(
                        LeadershipIntervals.fromEvents(logs.get(lease).events(), crashedAt, endNanos)
                                .overlaps(),
                        lease));
                polled.tokenRegressions().forEach(r -> tokenRegressions.add(leases.size() == 1 ? r : lease + ": " + r));
                Duration gap = longestGap(all, endNanos);
                if (gap.compareTo(longestGap) > 0) {
                    longestGap = gap;
                }
                Duration firstBound = absentAtHeal.get(e)
                        ? config.livenessBound().plus(config.timings().leaseDuration())
                        : config.livenessBound();
                leaderlessAfter(all, healedAt, endNanos, firstBound, config.livenessBound())
                        .ifPresent(failure -> livenessFailures.add(lease + " " + failure));
            }
            long moves = spreadCandidates.stream()
                    .mapToLong(c -> c.spreader().moves())
                    .sum();
            return new Result(
                    config,
                    slots.stream().map(s -> "slot" + s.index + " " + s.clock).toList(),
                    new TreeMap<>(faultCounts),
                    terms,
                    slots.stream().mapToLong(s -> s.samples).sum(),
                    polledOverlaps,
                    heardOverlaps,
                    tokenRegressions,
                    timeToLeader,
                    bound,
                    leaseAbsent,
                    leadersAtEnd,
                    handOvers,
                    handOverFailures,
                    List.copyOf(lifecycleFailures),
                    longestGap,
                    livenessFailures,
                    moves);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            running = false;
            if (server != null) {
                server.injectFaults(null);
            }
            scheduler.shutdownNow();
            lifecycle.shutdownNow();
            // Closing may block in an elector's own stop (fabric8's waits for a hung call): never for long here.
            List<Thread> closers = new ArrayList<>();
            for (Slot slot : slots) {
                Candidate candidate = slot.current;
                if (candidate != null) {
                    slot.killStore.run();
                    Thread closer = new Thread(candidate::close, "chaos-close-" + candidate.identity());
                    closer.setDaemon(true);
                    closer.start();
                    closers.add(closer);
                }
            }
            long closeUntil = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            for (Thread closer : closers) {
                try {
                    closer.join(Math.max(1, (closeUntil - System.nanoTime()) / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            thirdParties.forEach(ThirdPartyWriter::close);
            if (leaseDirectory != null) {
                deleteRecursively(leaseDirectory.getParent());
            }
        }
    }

    /**
     * When every election was first led at once by candidates not in {@code except}, within {@code limit}; empty if
     * that did not happen. With one election: when a candidate first led.
     */
    private Optional<Long> awaitEveryElectionLed(List<Slot> slots, Set<Slot> except, Duration limit)
            throws InterruptedException {
        long until = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() - until < 0) {
            if (unled(slots, except).isEmpty()) {
                return Optional.of(System.nanoTime());
            }
            sleep(2);
        }
        return Optional.empty();
    }

    /** The elections that no candidate outside {@code except} leads now. */
    private List<String> unled(List<Slot> slots, Set<Slot> except) {
        List<String> unled = new ArrayList<>();
        for (int e = 0; e < leases.size(); e++) {
            boolean led = false;
            for (Slot slot : slots) {
                Candidate candidate = slot.current;
                if (!except.contains(slot) && candidate != null && candidate.isLeader(e)) {
                    led = true;
                    break;
                }
            }
            if (!led) {
                unled.add(leases.get(e));
            }
        }
        return unled;
    }

    /** How many elections {@code slot}'s candidate leads now. */
    private int leads(Slot slot) {
        Candidate candidate = slot.current;
        int led = 0;
        for (int e = 0; candidate != null && e < leases.size(); e++) {
            if (candidate.isLeader(e)) {
                led++;
            }
        }
        return led;
    }

    /**
     * Leaders at the end: with one election, how many candidates lead now. With several, moves may be under way, so
     * it waits up to the liveness bound for a moment when each has exactly one; 1 if it came, else the count of the
     * first election that had another.
     */
    private int leadersAtEnd(List<Slot> slots) throws InterruptedException {
        long until = System.nanoTime() + config.livenessBound().toNanos();
        while (true) {
            int odd = 1;
            for (int e = 0; e < leases.size() && odd == 1; e++) {
                int leaders = 0;
                for (Slot slot : slots) {
                    Candidate candidate = slot.current;
                    if (candidate != null && candidate.isLeader(e)) {
                        leaders++;
                    }
                }
                odd = leaders;
            }
            if (odd == 1 || leases.size() == 1 || System.nanoTime() - until > 0) {
                return odd;
            }
            sleep(2);
        }
    }

    /**
     * The candidate leading the most elections leaves gracefully, and every election must have a leader among those
     * left within the liveness bound; again, until one candidate is left. A candidate whose election ended unnoticed
     * (its loop died) never takes over, so it is found at the latest when only such candidates are left.
     *
     * @return how many hand-overs succeeded
     */
    private int handOverRounds(List<Slot> slots, List<String> failures) throws InterruptedException {
        Set<Slot> left = new HashSet<>();
        Duration bound = config.livenessBound();
        int handOvers = 0;
        for (int attempt = 0; handOvers < slots.size() - 1 && attempt < 3 * slots.size(); attempt++) {
            Slot leader = slots.stream()
                    .filter(s -> !left.contains(s) && s.current != null && leads(s) > 0)
                    .max(Comparator.comparingInt(this::leads))
                    .orElse(null);
            if (leader == null) {
                if (awaitEveryElectionLed(slots, left, bound).isEmpty()) {
                    failures.add("round " + (handOvers + 1) + ": no leader to hand over from among "
                            + names(slots, left) + (leases.size() == 1 ? "" : "; unled: " + unled(slots, left)));
                    return handOvers;
                }
                continue; // someone leads now: look again
            }
            Candidate leaving = leader.current;
            if (!await(CompletableFuture.runAsync(leaving::stopGracefully, lifecycle), bound)) {
                failures.add("the graceful stop of " + leaving.identity() + " did not return within " + bound.toMillis()
                        + " ms");
            }
            left.add(leader);
            if (awaitEveryElectionLed(slots, left, bound).isEmpty()) {
                failures.add("after " + leaving.identity() + " left, none of " + names(slots, left)
                        + " took over" + (leases.size() == 1 ? "" : " " + unled(slots, left)) + " within "
                        + bound.toMillis() + " ms");
                return handOvers;
            }
            handOvers++;
        }
        return handOvers;
    }

    /** Whether {@code future} completed within {@code limit}. */
    private static boolean await(Future<?> future, Duration limit) {
        try {
            future.get(limit.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true; // returned, by throwing
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static String names(List<Slot> slots, Set<Slot> except) {
        return slots.stream()
                .filter(s -> !except.contains(s) && s.current != null)
                .map(s -> s.current.identity())
                .collect(Collectors.joining(", ", "[", "]"));
    }

    private boolean leaseExists(String lease) {
        if (config.store() == Store.LOCAL) {
            return Files.exists(leaseDirectory.resolve(lease + ".lease"));
        }
        return thirdParties.get(leases.indexOf(lease)).exists();
    }

    /** {@code overlaps} with each interval's candidate prefixed by {@code lease}, when there are several elections. */
    private List<LeadershipIntervals.Overlap> labelled(List<LeadershipIntervals.Overlap> overlaps, String lease) {
        if (leases.size() == 1) {
            return overlaps;
        }
        return overlaps.stream()
                .map(o -> new LeadershipIntervals.Overlap(
                        labelled(o.first(), lease), labelled(o.second(), lease), o.overlapNanos()))
                .toList();
    }

    private static LeadershipIntervals.Interval labelled(LeadershipIntervals.Interval interval, String lease) {
        return new LeadershipIntervals.Interval(
                lease + "/" + interval.candidate(),
                interval.term(),
                interval.start(),
                interval.end(),
                interval.samples());
    }

    /**
     * The first stretch without a leader, from {@code healedAt} to {@code endNanos}, longer than its bound: {@code
     * firstBound} for the one that starts when the faults stop, {@code bound} for every later one (moves, hand-over
     * rounds); empty if none was.
     */
    static Optional<String> leaderlessAfter(
            List<LeadershipIntervals.Interval> intervals,
            long healedAt,
            long endNanos,
            Duration firstBound,
            Duration bound) {
        List<LeadershipIntervals.Interval> sorted = new ArrayList<>(intervals);
        sorted.removeIf(i -> i.end() - i.start() <= 0 || i.end() - healedAt <= 0);
        sorted.sort(Comparator.comparingLong(LeadershipIntervals.Interval::start));
        long coveredUntil = healedAt;
        boolean first = true;
        for (LeadershipIntervals.Interval interval : sorted) {
            long gap = interval.start() - coveredUntil;
            Duration allowed = first ? firstBound : bound;
            if (gap > allowed.toNanos()) {
                return Optional.of(String.format(
                        Locale.ROOT,
                        "had no leader for %d ms, %d ms after the faults stopped (bound %d ms)",
                        gap / 1_000_000,
                        (coveredUntil - healedAt) / 1_000_000,
                        allowed.toMillis()));
            }
            first = false;
            if (interval.end() - coveredUntil > 0) {
                coveredUntil = interval.end();
            }
        }
        long tail = endNanos - coveredUntil;
        Duration allowed = first ? firstBound : bound;
        if (tail > allowed.toNanos()) {
            return Optional.of(String.format(
                    Locale.ROOT,
                    "had no leader for the last %d ms of the run (bound %d ms)",
                    tail / 1_000_000,
                    allowed.toMillis()));
        }
        return Optional.empty();
    }

    /** The longest stretch without a leader from the first leadership on, up to {@code endNanos}. */
    private static Duration longestGap(List<LeadershipIntervals.Interval> intervals, long endNanos) {
        List<LeadershipIntervals.Interval> sorted = new ArrayList<>(intervals);
        sorted.sort(Comparator.comparingLong(LeadershipIntervals.Interval::start));
        long longest = 0;
        long coveredUntil = Long.MIN_VALUE;
        for (LeadershipIntervals.Interval interval : sorted) {
            if (coveredUntil != Long.MIN_VALUE && interval.start() - coveredUntil > longest) {
                longest = interval.start() - coveredUntil;
            }
            if (coveredUntil == Long.MIN_VALUE || interval.end() - coveredUntil > 0) {
                coveredUntil = Math.max(interval.end(), interval.start());
            }
        }
        if (coveredUntil != Long.MIN_VALUE && endNanos - coveredUntil > longest) {
            longest = endNanos - coveredUntil;
        }
        return Duration.ofNanos(longest);
    }

    private FaultClass pickClass() {
        int total = active.stream().mapToInt(FaultClass::weight).sum();
        int roll = random.nextInt(total);
        for (FaultClass faultClass : active) {
            roll -= faultClass.weight();
            if (roll < 0) {
                return faultClass;
            }
        }
        throw new IllegalStateException();
    }

    private void injectOne(List<Slot> slots) {
        FaultClass faultClass = pickClass();
        // Half the faults aimed at a candidate hit the leader, so that hand-overs happen often.
        Slot slot = slots.get(random.nextInt(slots.size()));
        if (random.nextBoolean()) {
            int election = leases.size() == 1 ? 0 : random.nextInt(leases.size());
            for (Slot candidateSlot : slots) {
                Candidate candidate = candidateSlot.current;
                if (candidate != null && candidate.isLeader(election)) {
                    slot = candidateSlot;
                }
            }
        }
        Candidate candidate = slot.current;
        FaultProxy proxy = candidate == null ? null : candidate.proxy();
        long leaseMs = config.timings().leaseDuration().toMillis();
        long renewMs = config.timings().renewDeadline().toMillis();
        switch (faultClass) {
            case NETWORK -> {
                if (proxy == null) {
                    return;
                }
                switch (random.nextInt(3)) {
                    case 0 -> {
                        proxy.latency(Duration.ofMillis(20 + random.nextInt(400)));
                        later(() -> proxy.latency(Duration.ZERO), 1000 + random.nextInt(3000));
                        count("latency");
                    }
                    case 1 -> {
                        proxy.dropConnections();
                        count("dropped connections");
                    }
                    default -> {
                        proxy.hang(true); // a partition: the candidate runs on, its calls hang
                        later(() -> proxy.hang(false), 500 + random.nextLong(2 * leaseMs));
                        count("partition (hung connections)");
                    }
                }
            }
            case SERVER -> {
                if (random.nextBoolean()) {
                    serverErrorRate = 0.5;
                    later(() -> serverErrorRate = 0, 1000 + random.nextInt(2000));
                    count("server 5xx storm");
                } else {
                    serverConflictRate = 0.6;
                    later(() -> serverConflictRate = 0, 1000 + random.nextInt(2000));
                    count("server 409 storm");
                }
            }
            case STORE -> {
                Faults faults = slot.faults;
                if (random.nextBoolean()) {
                    faults.serverErrors(0.5);
                    later(() -> faults.serverErrors(0), 1000 + random.nextInt(2000));
                    count("store 5xx");
                } else {
                    faults.conflicts(0.7);
                    later(() -> faults.conflicts(0), 1000 + random.nextInt(2000));
                    count("store 409 storm");
                }
            }
            case PAUSES -> {
                long pauseMs = 200 + random.nextLong(renewMs * 3 / 2);
                slot.faults.pauseNextCall(pauseMs * 1_000_000, random.nextBoolean());
                count("election-thread pause (GC)");
            }
            case CRASHES -> crash(slot, leaseMs);
            case STALLS -> {
                if (proxy == null) {
                    return;
                }
                int kind = random.nextInt(10);
                FaultProxy.BodyFaultKind bodyFault = kind < 6
                        ? FaultProxy.BodyFaultKind.STALL
                        : kind < 8 ? FaultProxy.BodyFaultKind.TRICKLE : FaultProxy.BodyFaultKind.CUT;
                // Up to 2.5 lease durations: longer than a lease, shorter than the fault phase.
                Duration duration = Duration.ofMillis(200 + random.nextLong(leaseMs * 5 / 2));
                proxy.breakNextResponse(new FaultProxy.BodyFault(bodyFault, duration));
                count("response body " + bodyFault.name().toLowerCase(Locale.ROOT) + " after the headers (armed)");
            }
            case THIRD_PARTY -> thirdPartyWrite(slots);
            case SILENT_WATCH -> {
                if (proxy == null) {
                    return;
                }
                int silenced = proxy.silenceWatches();
                count(silenced > 0 ? "watch gone silent" : "watch gone silent (every open watch already was)");
            }
            case ERRORS -> {
                Error error =
                        switch (random.nextInt(3)) {
                            case 0 -> new OutOfMemoryError("injected by the chaos harness");
                            case 1 -> new StackOverflowError("injected by the chaos harness");
                            default -> new AssertionError("injected by the chaos harness");
                        };
                slot.faults.throwOnNextCall(error, random.nextBoolean());
                count(error.getClass().getSimpleName() + " from a store call");
            }
            case RESTARTS -> contextStopThenStart(slot, leaseMs);
            case DIRECTORY -> {
                if (deleteRecursively(leaseDirectory)) {
                    count("lease directory deleted");
                }
            }
        }
    }

    private void crash(Slot slot, long leaseMs) {
        synchronized (slot) {
            if (slot.current == null || slot.busy || down.get() >= config.candidates() - 1) {
                return;
            }
            down.incrementAndGet();
            slot.crash();
        }
        count("crash");
        later(
                () -> {
                    synchronized (slot) {
                        if (slot.current == null && faultsActive) {
                            slot.start();
                            down.decrementAndGet();
                            count("restart");
                        }
                    }
                },
                500 + random.nextLong(leaseMs));
    }

    /** {@code context.stop()}, a pause (0.2 s to 1.5 lease durations), {@code context.start()}: same objects. */
    private void contextStopThenStart(Slot slot, long leaseMs) {
        Candidate candidate;
        synchronized (slot) {
            candidate = slot.current;
            if (candidate == null || slot.busy || down.get() >= config.candidates() - 1) {
                return;
            }
            down.incrementAndGet();
            slot.busy = true;
            slot.contextStopped = true;
            slot.stopping = new CompletableFuture<>();
            slot.stopBeganAt = System.nanoTime();
        }
        count("context stop/start");
        long pauseMs = 200 + random.nextLong(leaseMs * 3 / 2);
        CompletableFuture<Void> stopping = slot.stopping;
        lifecycle.execute(() -> {
            try {
                candidate.contextStop();
            } catch (RuntimeException e) {
                lifecycleFailures.add(candidate.identity() + ": context.stop() threw " + e);
            } finally {
                stopping.complete(null);
            }
            later(() -> lifecycle.execute(() -> contextStart(slot)), pauseMs);
        });
    }

    /**
     * Starts a context-stopped slot's candidate again. If it refuses, or its stop never returned, that is recorded as
     * a failure, and a new candidate takes the slot so that the rest of the run still has N candidates.
     */
    private void contextStart(Slot slot) {
        CompletableFuture<Void> stopping;
        long stopBeganAt;
        synchronized (slot) {
            if (!slot.contextStopped) {
                return;
            }
            stopping = slot.stopping;
            stopBeganAt = slot.stopBeganAt;
        }
        // context.start() comes after context.stop() has returned; a stop that does not return within the
        // liveness bound (of its start) is a failure too.
        long left = stopBeganAt + config.livenessBound().toNanos() - System.nanoTime();
        boolean stopped = await(stopping, Duration.ofNanos(Math.max(1, left)));
        synchronized (slot) {
            if (!slot.contextStopped) {
                return;
            }
            Candidate candidate = slot.current;
            String failure = null;
            if (!stopped) {
                failure = candidate.identity() + ": context.stop() did not return within "
                        + config.livenessBound().toMillis() + " ms";
            } else {
                try {
                    candidate.contextStart();
                } catch (RuntimeException e) {
                    failure = candidate.identity() + ": context.start() after context.stop() threw " + e;
                }
            }
            if (failure != null) {
                lifecycleFailures.add(failure);
                // Replaced, but not counted as crashed: whatever its listener was told last still stands (a stop
                // that never returned may leave it leading), and the listener view keeps it until told otherwise.
                slot.current = null;
                slot.killStore.run();
                retire(candidate);
                slot.start();
                count("new candidate after a failed context stop/start");
            }
            slot.contextStopped = false;
            slot.busy = false;
            down.decrementAndGet();
        }
    }

    private void thirdPartyWrite(List<Slot> slots) {
        if (thirdParties.isEmpty()) {
            return;
        }
        ThirdPartyWriter thirdParty =
                thirdParties.size() == 1 ? thirdParties.get(0) : thirdParties.get(random.nextInt(thirdParties.size()));
        try {
            if (random.nextInt(4) == 0) {
                count(thirdParty.delete() ? "third party: lease deleted" : "third party: nothing to delete");
                return;
            }
            List<String> live = slots.stream()
                    .map(s -> s.current)
                    .filter(c -> c != null)
                    .map(Candidate::identity)
                    .toList();
            List<String> changes =
                    thirdParty.edit(random, live, config.timings().leaseDuration());
            if (changes.isEmpty()) {
                count("third party: edit found no lease or lost a race");
            }
            changes.forEach(change -> count("third party: " + change));
        } catch (RuntimeException e) {
            count("third party: request failed");
        }
    }

    /** Deletes {@code directory} and everything in it, even while candidates write there; whether it was there. */
    private static boolean deleteRecursively(Path directory) {
        boolean existed = Files.exists(directory);
        for (int attempt = 0; attempt < 5 && Files.exists(directory); attempt++) {
            try (Stream<Path> paths = Files.walk(directory)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    try {
                        Files.deleteIfExists(path);
                    } catch (DirectoryNotEmptyException | NoSuchFileException e) {
                        // a candidate wrote meanwhile: the next attempt takes it
                    }
                }
            } catch (IOException | UncheckedIOException e) {
                // files vanished under the walk: try again
            }
        }
        return existed;
    }

    private Optional<MockResponse> serverFault(RecordedRequest request) {
        String path = request.getPath();
        if (path == null || !path.contains("/namespaces/" + namespace + "/")) {
            return Optional.empty();
        }
        if (request.getHeader(ThirdPartyWriter.ACTOR_HEADER) != null) {
            return Optional.empty(); // not a candidate
        }
        if (outage) {
            return Optional.of(status(500, "InternalError"));
        }
        double errors = serverErrorRate;
        double conflicts = serverConflictRate;
        synchronized (serverRandom) {
            if (errors > 0 && serverRandom.nextDouble() < errors) {
                return Optional.of(status(500, "InternalError"));
            }
            if (conflicts > 0 && "PUT".equals(request.getMethod()) && serverRandom.nextDouble() < conflicts) {
                return Optional.of(status(409, "Conflict"));
            }
        }
        return Optional.empty();
    }

    private static MockResponse status(int code, String reason) {
        return new MockResponse()
                .setResponseCode(code)
                .setHeader("Content-Type", "application/json")
                .setBody(
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"injected\","
                                + "\"reason\":\"" + reason + "\",\"code\":" + code + "}");
    }

    private void later(Runnable task, long delayMillis) {
        try {
            scheduler.schedule(
                    () -> {
                        try {
                            task.run();
                        } catch (RuntimeException e) {
                            // a candidate closed meanwhile
                        }
                    },
                    delayMillis,
                    TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // the run is over
        }
    }

    private void count(String fault) {
        faultCounts.merge(fault, 1, Integer::sum);
    }

    private static void sleep(long millis) throws InterruptedException {
        Thread.sleep(millis);
    }
}
