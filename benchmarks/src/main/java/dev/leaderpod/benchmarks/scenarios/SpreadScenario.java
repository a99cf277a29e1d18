package dev.leaderpod.benchmarks.scenarios;

import dev.leaderpod.benchmarks.chaos.LeadershipIntervals;
import dev.leaderpod.benchmarks.contenders.Candidate;
import dev.leaderpod.benchmarks.contenders.ElectionLog;
import dev.leaderpod.benchmarks.contenders.Fabric8JobsCandidate;
import dev.leaderpod.benchmarks.contenders.SpreadCandidate;
import dev.leaderpod.benchmarks.contenders.Timings;
import dev.leaderpod.benchmarks.support.MockApiServer;
import dev.leaderpod.benchmarks.support.MockApiServer.Counts;
import dev.leaderpod.benchmarks.support.Report;
import dev.leaderpod.benchmarks.support.Stats;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.vertx.core.Vertx;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

/**
 * Scenario 7, named elections spread over the replicas: E elections (jobs) × N replicas, our elector with spreading
 * ({@link SpreadCandidate}) side by side with what users hand-roll with fabric8, one {@code LeaderElector} per job per
 * replica ({@link Fabric8JobsCandidate}), each group in its own namespace of the mock API server.
 *
 * <p>For each N: all replicas of both groups start together; time until every election is led and until the shares
 * are balanced (differ by at most one, every election led); then, after a warm-up, a window at steady state: requests
 * per minute by verb and resource counted by the server (presence Leases apart from election Leases), watch
 * connections each replica holds open (counted by the server, per replica, from a header its client sends), watch
 * events the server delivered, and the threads of each replica, sampled. For the small sizes the replicas talk through
 * proxies and three more phases follow: a replica joins (N → N+1), one stops gracefully, one is cut off without
 * release (a crash); for each, the moves, the leaderless time of every change of hands as the listeners were told it
 * (from one leader's {@code onStoppedLeading} to the next one's {@code onStartedLeading}), the shares before and
 * after, and the time to balance again.
 */
public final class SpreadScenario {

    /** The two ways of running E jobs on N replicas. */
    public enum Kind {
        OURS("Leader Election Pod, spread", "ours"),
        FABRIC8("fabric8 LeaderElector per job", "fabric8");

        final String title;
        final String slug;

        Kind(String title, String slug) {
            this.title = title;
            this.slug = slug;
        }

        public String title() {
            return title;
        }
    }

    /**
     * What to run.
     *
     * @param phasesUpTo the join, stop and crash phases (and proxies) for sizes up to this
     * @param settleTimeout how long to wait for our group to balance after start
     */
    public record Settings(
            int elections,
            List<Integer> sizes,
            Timings timings,
            Duration presenceInterval,
            Duration warmUp,
            Duration window,
            Duration settleTimeout,
            int phasesUpTo,
            List<Kind> kinds) {

        /** Default timings (15 s / 10 s / 2 s), presence every 30 s, as the auto-configuration sets them. */
        public static Settings defaults(int elections, List<Integer> sizes, Duration warmUp, Duration window) {
            return new Settings(
                    elections,
                    sizes,
                    Timings.DEFAULTS,
                    Duration.ofSeconds(30),
                    warmUp,
                    window,
                    Duration.ofSeconds(180),
                    10,
                    List.of(Kind.OURS, Kind.FABRIC8));
        }

        public Settings withSettleTimeout(Duration timeout) {
            return new Settings(
                    elections, sizes, timings, presenceInterval, warmUp, window, timeout, phasesUpTo, kinds);
        }

        /** Wait for a phase: the dead presence lingers three intervals, leases expire, moves take retry periods. */
        Duration phaseTimeout() {
            return presenceInterval.multipliedBy(3).plus(timings.leaseDuration().multipliedBy(4));
        }
    }

    /** Steady state and start-up of one group. */
    public record SteadyResult(
            Kind kind,
            int size,
            Double firstLedMs,
            Double allLedMs,
            Double balancedMs,
            List<Integer> sharesWhenAllLed,
            List<Integer> sharesAtEnd,
            long startupMoves,
            double minutes,
            Counts counts,
            List<Integer> openWatchesPerCandidate,
            List<Integer> proxyWatchesPerCandidate,
            long watchesOpenedInWindow,
            Stats runtimeThreads,
            Stats ioThreads,
            Stats clientThreads,
            long overlaps) {

        double perMinute(long count) {
            return count / minutes;
        }
    }

    /** One phase (join, stop, crash) of one group. */
    public record PhaseResult(
            Kind kind,
            String phase,
            List<Integer> sharesBefore,
            List<Integer> sharesAfter,
            long moves,
            int handChanges,
            List<Double> leaderlessMs,
            Double allLedMs,
            Double balancedMs,
            String note,
            Releases releases) {}

    /** Everything one run measured. */
    public record Result(List<SteadyResult> steady, List<PhaseResult> phases) {}

    /** The annotation of a release that names the successor it is handed to (docs/design.md). */
    static final String SUCCESSOR_ANNOTATION = "leaderpod.dev/successor";

    private final MockApiServer server;
    private final Settings settings;
    private final List<String> leases;

    public SpreadScenario(MockApiServer server, Settings settings) {
        this.server = server;
        this.settings = settings;
        List<String> names = new ArrayList<>();
        for (int i = 0; i < settings.elections(); i++) {
            names.add(String.format(Locale.ROOT, "spread-job-%02d", i));
        }
        this.leases = List.copyOf(names);
    }

    /** One group: the replicas of one kind, in a namespace of their own. */
    final class Group {
        final Kind kind;
        final int size;
        final String namespace;
        final boolean proxied;
        final Vertx vertx;
        final Map<String, ElectionLog> logs = new ConcurrentHashMap<>();
        /** In the elections now. */
        final List<Candidate> members = new CopyOnWriteArrayList<>();
        /** Every replica ever made, for the moves of those gone and for closing. */
        final List<Candidate> all = new CopyOnWriteArrayList<>();

        final Map<String, Long> crashedAt = new ConcurrentHashMap<>();
        /** Replicas stopped or crashed. */
        final Set<String> departed = ConcurrentHashMap.newKeySet();
        /** Every change of an election's Lease, as an uncounted observer's watch delivered it. */
        final List<LeaseChange> changes = new CopyOnWriteArrayList<>();

        private final KubernetesClient observer;
        private final Watch observing;
        int serial;

        Group(Kind kind, int size, boolean proxied, Vertx vertx) {
            this.kind = kind;
            this.size = size;
            this.namespace = "spread-" + kind.slug + "-" + size;
            this.proxied = proxied;
            this.vertx = vertx;
            leases.forEach(lease -> logs.put(lease, new ElectionLog()));
            this.observer = server.observerClient(namespace);
            this.observing = observer.leases().inNamespace(namespace).watch(new Watcher<Lease>() {
                @Override
                public void eventReceived(Action action, Lease lease) {
                    String name = lease.getMetadata().getName();
                    if (!leases.contains(name) || lease.getSpec() == null) {
                        return;
                    }
                    Map<String, String> annotations = lease.getMetadata().getAnnotations();
                    changes.add(new LeaseChange(
                            System.nanoTime(),
                            name,
                            lease.getSpec().getHolderIdentity(),
                            lease.getSpec().getLeaseDurationSeconds(),
                            annotations == null ? null : annotations.get(SUCCESSOR_ANNOTATION)));
                }

                @Override
                public void onClose(WatcherException cause) {}
            });
        }

        /** A new replica, not started. */
        Candidate create() {
            String identity = String.format(Locale.ROOT, "%s%d-c%02d", kind.slug.charAt(0), size, serial++);
            Candidate candidate =
                    switch (kind) {
                        case OURS ->
                            SpreadCandidate.builder(identity, "spread", leases, settings.timings())
                                    .kubernetes(server, namespace, proxied, vertx)
                                    .presenceInterval(settings.presenceInterval())
                                    .logs(logs::get)
                                    .build();
                        case FABRIC8 ->
                            new Fabric8JobsCandidate(
                                    server, namespace, leases, identity, settings.timings(), logs::get, proxied, vertx);
                    };
            all.add(candidate);
            return candidate;
        }

        void join(Candidate candidate) {
            members.add(candidate);
            candidate.start();
        }

        /** Elections led per member, in member order; -1 entries never: an election led twice counts twice. */
        List<Integer> shares() {
            List<Integer> shares = new ArrayList<>();
            for (Candidate member : members) {
                int led = 0;
                for (int e = 0; e < leases.size(); e++) {
                    if (member.isLeader(e)) {
                        led++;
                    }
                }
                shares.add(led);
            }
            return shares;
        }

        boolean allLed() {
            for (int e = 0; e < leases.size(); e++) {
                int leaders = 0;
                for (Candidate member : members) {
                    if (member.isLeader(e)) {
                        leaders++;
                    }
                }
                if (leaders != 1) {
                    return false;
                }
            }
            return true;
        }

        /** Every election led by exactly one member, and the shares differ by at most one. */
        boolean balanced() {
            if (!allLed()) {
                return false;
            }
            List<Integer> shares = shares();
            return shares.stream().mapToInt(Integer::intValue).max().orElse(0)
                            - shares.stream().mapToInt(Integer::intValue).min().orElse(0)
                    <= 1;
        }

        /** Moves made by every replica of the group so far (ours only). */
        long moves() {
            return all.stream()
                    .filter(c -> c instanceof SpreadCandidate)
                    .mapToLong(c -> ((SpreadCandidate) c).spreader().moves())
                    .sum();
        }

        Candidate leadingMost() {
            return members.stream().max(Comparator.comparingInt(this::leads)).orElseThrow();
        }

        int leads(Candidate candidate) {
            int led = 0;
            for (int e = 0; e < leases.size(); e++) {
                if (candidate.isLeader(e)) {
                    led++;
                }
            }
            return led;
        }

        /** Overlaps of two leaders of one election as the listeners were told, every election, up to now. */
        long overlaps() {
            long now = System.nanoTime();
            long overlaps = 0;
            for (ElectionLog log : logs.values()) {
                overlaps += LeadershipIntervals.fromEvents(log.events(), crashedAt, now)
                        .overlaps()
                        .size();
            }
            return overlaps;
        }

        void closeAll() {
            all.parallelStream().forEach(Candidate::close);
            observing.close();
            observer.close();
        }
    }

    public Result run(Report report) {
        List<SteadyResult> steady = new ArrayList<>();
        List<PhaseResult> phases = new ArrayList<>();
        Vertx vertx = Vertx.vertx();
        report.line(
                "## 7. Spreading named elections (" + settings.elections() + " elections, timings " + settings.timings()
                        + ", presence every " + settings.presenceInterval().toSeconds() + " s)");
        report.line("");
        report.line("Each replica runs " + settings.elections() + " elections (jobs). Ours: one `ElectionRuntime`,"
                + " one client, one Lease store and one presence store per replica, an `ElectionSpreader` whose"
                + " candidacy every elector has. fabric8: one `LeaderElector` (Lease lock, release on cancel) per job"
                + " per replica on the replica's one client. Each group in its own namespace; every client sends a"
                + " header naming its replica, so the server counts per replica. All clients share one Vert.x"
                + " instance (the event loops: not counted below); each keeps its own connections.");
        report.line("");
        try {
            for (int size : settings.sizes()) {
                boolean withPhases = size <= settings.phasesUpTo();
                List<Group> groups = new ArrayList<>();
                for (Kind kind : settings.kinds()) {
                    groups.add(new Group(kind, size, withPhases, vertx));
                }
                try {
                    steady.addAll(steadyState(report, groups));
                    if (withPhases) {
                        phases.addAll(phases(report, groups));
                    }
                } finally {
                    groups.parallelStream().forEach(Group::closeAll);
                }
            }
        } finally {
            vertx.close();
        }
        return new Result(steady, phases);
    }

    // Start-up and steady state

    private List<SteadyResult> steadyState(Report report, List<Group> groups) {
        int size = groups.get(0).size;
        Map<Group, List<Candidate>> created = new LinkedHashMap<>();
        for (Group group : groups) {
            List<Candidate> candidates = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                candidates.add(group.create());
            }
            created.put(group, candidates);
        }
        Map<Group, Long> startedAt = new HashMap<>();
        for (Group group : groups) {
            startedAt.put(group, System.nanoTime());
            created.get(group).forEach(group::join);
        }
        Map<Group, GroupWatcher> watchers = new LinkedHashMap<>();
        groups.forEach(g -> watchers.put(g, new GroupWatcher(g, startedAt.get(g))));
        watchers.values().forEach(GroupWatcher::start);
        long settleUntil = System.nanoTime() + settings.settleTimeout().toNanos();
        while (System.nanoTime() - settleUntil < 0
                && !watchers.values().stream()
                        .allMatch(w -> w.group.kind == Kind.OURS ? w.balancedSince > 0 : w.allLedAt > 0)) {
            Await.sleep(50);
        }
        Await.sleep(settings.warmUp().toMillis());
        List<Counts> before =
                groups.stream().map(g -> server.counts(g.namespace)).toList();
        Map<String, Long> watchesBefore = new HashMap<>();
        groups.forEach(g -> g.members.forEach(c -> watchesBefore.put(
                c.identity(), server.candidateCounts(c.identity()).watchRequests())));
        ThreadSampler threads = new ThreadSampler(groups);
        long start = System.nanoTime();
        long end = start + settings.window().toNanos();
        while (System.nanoTime() - end < 0) {
            threads.sample();
            Await.sleep(Math.min(500, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
        }
        double minutes = (System.nanoTime() - start) / 60e9;
        List<Counts> after =
                groups.stream().map(g -> server.counts(g.namespace)).toList();
        watchers.values().forEach(GroupWatcher::stop);

        List<SteadyResult> results = new ArrayList<>();
        for (int i = 0; i < groups.size(); i++) {
            Group group = groups.get(i);
            GroupWatcher watcher = watchers.get(group);
            long t0 = startedAt.get(group);
            List<Integer> open = new ArrayList<>();
            List<Integer> proxyOpen = new ArrayList<>();
            long opened = 0;
            for (Candidate candidate : group.members) {
                MockApiServer.CandidateCounts counts = server.candidateCounts(candidate.identity());
                open.add(counts.openWatches());
                opened += counts.watchRequests() - watchesBefore.getOrDefault(candidate.identity(), 0L);
                if (candidate.proxy() != null) {
                    proxyOpen.add(candidate.proxy().openWatches());
                }
            }
            results.add(new SteadyResult(
                    group.kind,
                    size,
                    watcher.firstLedAt > 0 ? (watcher.firstLedAt - t0) / 1e6 : null,
                    watcher.allLedAt > 0 ? (watcher.allLedAt - t0) / 1e6 : null,
                    watcher.balancedSince > 0 ? (watcher.balancedSince - t0) / 1e6 : null,
                    sorted(watcher.sharesWhenAllLed),
                    sorted(group.shares()),
                    group.moves(),
                    minutes,
                    after.get(i).minus(before.get(i)),
                    open,
                    proxyOpen,
                    opened,
                    threads.stats(group, ThreadSampler.RUNTIME),
                    threads.stats(group, ThreadSampler.IO),
                    threads.stats(group, ThreadSampler.CLIENT),
                    group.overlaps()));
        }
        printSteady(report, size, results);
        return results;
    }

    /** Watches one group from its start: when every election is first led, and since when it is balanced. */
    private static final class GroupWatcher {
        final Group group;
        final long startedAt;
        final Thread thread;
        volatile boolean running = true;
        volatile long firstLedAt;
        volatile long allLedAt;
        volatile long balancedSince;
        volatile List<Integer> sharesWhenAllLed = List.of();

        GroupWatcher(Group group, long startedAt) {
            this.group = group;
            this.startedAt = startedAt;
            this.thread = new Thread(this::watch, "spread-watcher-" + group.namespace);
            this.thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        void stop() {
            running = false;
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void watch() {
            while (running) {
                long now = System.nanoTime();
                if (firstLedAt == 0 && group.shares().stream().anyMatch(share -> share > 0)) {
                    firstLedAt = now;
                }
                if (allLedAt == 0 && group.allLed()) {
                    sharesWhenAllLed = group.shares();
                    allLedAt = now;
                }
                boolean balanced = group.balanced();
                if (balanced && balancedSince == 0) {
                    balancedSince = now;
                } else if (!balanced) {
                    balancedSince = 0;
                }
                Await.sleep(20);
            }
        }
    }

    /** Samples the threads of each replica by name. */
    private static final class ThreadSampler {
        static final String RUNTIME = "runtime";
        static final String IO = "io";
        static final String CLIENT = "client";

        private final Map<String, Map<String, List<Integer>>> samples = new HashMap<>();
        private final Map<String, Group> groupOf = new HashMap<>();
        private final Set<String> identities;

        ThreadSampler(List<Group> groups) {
            groups.forEach(g -> g.members.forEach(c -> groupOf.put(c.identity(), g)));
            identities = groupOf.keySet();
        }

        void sample() {
            Map<String, Map<String, Integer>> counts = new HashMap<>();
            for (String identity : identities) {
                Map<String, Integer> zero = new HashMap<>();
                zero.put(RUNTIME, 0);
                zero.put(IO, 0);
                zero.put(CLIENT, 0);
                counts.put(identity, zero);
            }
            for (Thread thread : liveThreads()) {
                String name = thread.getName();
                for (String prefix : SpreadCandidate.RUNTIME_THREADS) {
                    String owner = owner(name, prefix);
                    if (owner != null) {
                        counts.get(owner).merge(RUNTIME, 1, Integer::sum);
                        if (prefix.equals("leader-io")) {
                            counts.get(owner).merge(IO, 1, Integer::sum);
                        }
                    }
                }
                for (String prefix : List.of("k8s-client", Fabric8JobsCandidate.EXECUTOR_THREADS)) {
                    String owner = owner(name, prefix);
                    if (owner != null) {
                        counts.get(owner).merge(CLIENT, 1, Integer::sum);
                    }
                }
            }
            counts.forEach((identity, byKind) ->
                    byKind.forEach((kind, count) -> samples.computeIfAbsent(identity, i -> new HashMap<>())
                            .computeIfAbsent(kind, k -> new ArrayList<>())
                            .add(count)));
        }

        /** The identity a thread named {@code <prefix>-<identity>} or {@code <prefix>-<identity>-<n>} belongs to. */
        private String owner(String name, String prefix) {
            if (!name.startsWith(prefix + "-")) {
                return null;
            }
            String rest = name.substring(prefix.length() + 1);
            if (identities.contains(rest)) {
                return rest;
            }
            String withoutNumber = rest.replaceFirst("-\\d+$", "");
            return identities.contains(withoutNumber) ? withoutNumber : null;
        }

        /** Every sample of every replica of {@code group}: how many threads of {@code kind} it had. */
        Stats stats(Group group, String kind) {
            List<Integer> all = new ArrayList<>();
            samples.forEach((identity, byKind) -> {
                if (groupOf.get(identity) == group) {
                    all.addAll(byKind.getOrDefault(kind, List.of()));
                }
            });
            return Stats.of(all);
        }

        private static Thread[] liveThreads() {
            ThreadGroup root = Thread.currentThread().getThreadGroup();
            while (root.getParent() != null) {
                root = root.getParent();
            }
            Thread[] threads = new Thread[root.activeCount() * 2 + 16];
            int count = root.enumerate(threads, true);
            return Arrays.copyOf(threads, count);
        }
    }

    private void printSteady(Report report, int size, List<SteadyResult> results) {
        int e = settings.elections();
        report.line("### " + e + " elections × " + size + " replicas: start-up and steady state");
        report.line("");
        report.line("All replicas of both groups started together (load average "
                + Report.num(ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), 2)
                + " at the end of the window). Balanced = every election led by exactly one replica and the shares"
                + " differ by at most one. Window: " + Report.num(results.get(0).minutes() * 60, 0) + " s after a "
                + settings.warmUp().toSeconds() + " s warm-up.");
        report.line("");
        List<List<String>> rows = new ArrayList<>();
        for (SteadyResult r : results) {
            rows.add(List.of(
                    r.kind().title(),
                    String.valueOf(r.size()),
                    r.firstLedMs() == null ? "never" : Report.ms(r.firstLedMs()),
                    r.allLedMs() == null ? "never" : Report.ms(r.allLedMs()),
                    r.balancedMs() == null ? "not balanced" : Report.ms(r.balancedMs()),
                    shares(r.sharesWhenAllLed()),
                    shares(r.sharesAtEnd()),
                    r.kind() == Kind.OURS ? String.valueOf(r.startupMoves()) : "—",
                    String.valueOf(r.overlaps())));
        }
        report.table(
                List.of(
                        "implementation",
                        "replicas",
                        "first election led after ms",
                        "every election led after ms",
                        "balanced since ms",
                        "shares when first all led",
                        "shares at the end",
                        "moves",
                        "overlaps (listeners)"),
                rows);

        TreeSet<String> keys = new TreeSet<>();
        results.forEach(r -> r.counts().byVerbAndResource().forEach((k, v) -> {
            if (v != 0) {
                keys.add(k);
            }
        }));
        List<String> header = new ArrayList<>(List.of("implementation", "replicas", "total req/min", "goal"));
        keys.forEach(k -> header.add(k + "/min"));
        List<List<String>> requestRows = new ArrayList<>();
        for (SteadyResult r : results) {
            List<String> row = new ArrayList<>(List.of(
                    r.kind().title(),
                    String.valueOf(r.size()),
                    Report.num(r.perMinute(r.counts().total()), 1),
                    r.kind() == Kind.OURS ? "≤ " + (30 * e + 2 * r.size()) : "—"));
            keys.forEach(k -> row.add(
                    Report.num(r.perMinute(r.counts().byVerbAndResource().getOrDefault(k, 0L)), 1)));
            requestRows.add(row);
        }
        report.line("API requests per minute at steady state, by verb and resource, counted by the server (goal for"
                + " us: ≤ 30·E for the leaders' renews plus ≤ 2 per replica for presence):");
        report.line("");
        report.table(header, requestRows);

        List<List<String>> watchRows = new ArrayList<>();
        for (SteadyResult r : results) {
            Stats open = Stats.of(r.openWatchesPerCandidate());
            Stats proxied = Stats.of(r.proxyWatchesPerCandidate());
            Map<String, Long> events = r.counts().watchEventsByResource();
            watchRows.add(List.of(
                    r.kind().title(),
                    String.valueOf(r.size()),
                    minMedianMax(open),
                    proxied.count() == 0 ? "—" : minMedianMax(proxied),
                    String.valueOf(r.watchesOpenedInWindow()),
                    Report.num(r.perMinute(r.counts().watchEvents()), 0),
                    Report.num(r.perMinute(events.getOrDefault("leases", 0L)), 0),
                    Report.num(r.perMinute(events.getOrDefault("leases (presence)", 0L)), 0),
                    Report.num(r.perMinute(r.counts().watchEvents()) / r.size(), 0),
                    r.runtimeThreads().count() == 0
                            ? "—"
                            : Report.num(r.runtimeThreads().median(), 0) + " / "
                                    + Report.num(r.runtimeThreads().max(), 0),
                    r.ioThreads().count() == 0
                            ? "—"
                            : Report.num(r.ioThreads().median(), 0) + " / "
                                    + Report.num(r.ioThreads().max(), 0),
                    Report.num(r.clientThreads().median(), 0) + " / "
                            + Report.num(r.clientThreads().max(), 0)));
        }
        report.line("Watches, events and threads per replica (min / median / max over replicas; threads: median /"
                + " max over every sample of every replica, sampled every 500 ms through the window). Watch"
                + " connections counted by the server (WebSocket opened and not yet closed, per replica) and, with"
                + " proxies, by each replica's proxy. Runtime threads: the replica's `ElectionRuntime` threads"
                + " (`leader-election-*`, `leader-events-*`, `leader-io-*`), of which I/O on demand. Client executor:"
                + " the fabric8 client's task executor (a cached pool, shared with whatever else of the application"
                + " uses the client; fabric8's `LeaderElector`s run their loops on it).");
        report.line("");
        report.table(
                List.of(
                        "implementation",
                        "replicas",
                        "watch connections (server)",
                        "watch connections (proxy)",
                        "watches opened in the window",
                        "watch events/min",
                        "of which leases",
                        "of which presence",
                        "events/min per replica",
                        "runtime threads",
                        "of which I/O",
                        "client executor threads"),
                watchRows);
    }

    private static String minMedianMax(Stats stats) {
        return stats.count() == 0
                ? "—"
                : Report.num(stats.min(), 0) + " / " + Report.num(stats.median(), 0) + " / "
                        + Report.num(stats.max(), 0);
    }

    // Join, graceful stop, join again, crash

    /** How long apart the electors of the replica that joins in the second join phase are started. */
    static final Duration STAGGER = Duration.ofMillis(100);

    private List<PhaseResult> phases(Report report, List<Group> groups) {
        List<PhaseResult> results = new ArrayList<>();
        results.addAll(join(groups, Duration.ZERO));
        results.addAll(stop(groups));
        results.addAll(join(groups, STAGGER));
        results.addAll(crash(groups));
        printPhases(report, groups.get(0).size, results);
        return results;
    }

    private List<PhaseResult> join(List<Group> groups, Duration stagger) {
        Map<Group, List<Integer>> before = new HashMap<>();
        Map<Group, Long> moves = new HashMap<>();
        Map<Group, Candidate> joining = new HashMap<>();
        for (Group group : groups) {
            before.put(group, sorted(group.shares()));
            moves.put(group, group.moves());
            joining.put(group, group.create());
        }
        long at = System.nanoTime();
        groups.parallelStream().forEach(g -> {
            Candidate candidate = joining.get(g);
            g.members.add(candidate);
            if (stagger.isZero() || !(candidate instanceof SpreadCandidate spread)) {
                candidate.start();
            } else {
                spread.startStaggered(stagger);
            }
        });
        Map<Group, Long> balancedAt = awaitSettled(groups, at);
        String phase = stagger.isZero()
                ? "a replica joins, its elections started at once (as the auto-configuration starts them)"
                : "a replica joins, its elections started " + stagger.toMillis() + " ms apart";
        return groups.stream()
                .map(g -> phaseResult(
                        g,
                        phase + " (" + (g.members.size() - 1) + " → " + g.members.size() + ")",
                        before.get(g),
                        g.moves() - moves.get(g),
                        at,
                        at,
                        null,
                        balancedAt.get(g),
                        "the joining replica leads " + g.leads(joining.get(g))))
                .toList();
    }

    private List<PhaseResult> stop(List<Group> groups) {
        Map<Group, List<Integer>> before = new HashMap<>();
        Map<Group, Long> moves = new HashMap<>();
        Map<Group, Candidate> leaving = new HashMap<>();
        Map<Group, Integer> led = new HashMap<>();
        for (Group group : groups) {
            before.put(group, sorted(group.shares()));
            moves.put(group, group.moves());
            Candidate candidate = group.leadingMost();
            leaving.put(group, candidate);
            led.put(group, group.leads(candidate));
        }
        long at = System.nanoTime();
        Map<Group, Double> stopMs = new ConcurrentHashMap<>();
        groups.parallelStream().forEach(g -> {
            Candidate candidate = leaving.get(g);
            g.departed.add(candidate.identity());
            long start = System.nanoTime();
            candidate.stopGracefully();
            stopMs.put(g, (System.nanoTime() - start) / 1e6);
            g.members.remove(candidate);
        });
        Map<Group, Long> balancedAt = awaitSettled(groups, at);
        return groups.stream()
                .map(g -> phaseResult(
                        g,
                        "the replica leading most stops gracefully (" + (g.members.size() + 1) + " → "
                                + g.members.size() + ")",
                        before.get(g),
                        g.moves() - moves.get(g),
                        at,
                        at,
                        null,
                        balancedAt.get(g),
                        "it led " + led.get(g) + "; its stop took " + Report.ms(stopMs.get(g)) + " ms"))
                .toList();
    }

    private List<PhaseResult> crash(List<Group> groups) {
        Map<Group, List<Integer>> before = new HashMap<>();
        Map<Group, Long> moves = new HashMap<>();
        Map<Group, Candidate> crashing = new HashMap<>();
        Map<Group, List<String>> orphans = new HashMap<>();
        for (Group group : groups) {
            before.put(group, sorted(group.shares()));
            moves.put(group, group.moves());
            Candidate candidate = group.leadingMost();
            crashing.put(group, candidate);
            List<String> led = new ArrayList<>();
            for (int e = 0; e < leases.size(); e++) {
                if (candidate.isLeader(e)) {
                    led.add(leases.get(e));
                }
            }
            orphans.put(group, led);
        }
        long at = System.nanoTime();
        Map<Group, Long> crashAt = new HashMap<>();
        for (Group group : groups) {
            Candidate candidate = crashing.get(group);
            long now = System.nanoTime();
            crashAt.put(group, now);
            group.crashedAt.put(candidate.identity(), now);
            group.departed.add(candidate.identity());
            candidate.crash();
            group.members.remove(candidate);
            Thread closer = new Thread(candidate::close, "close-" + candidate.identity());
            closer.setDaemon(true);
            closer.start();
        }
        Map<Group, Long> balancedAt = awaitSettled(groups, at);
        List<PhaseResult> results = new ArrayList<>();
        for (Group g : groups) {
            // Who first took each of the crashed replica's elections, and when.
            Map<String, Integer> split = new TreeMap<>();
            g.members.forEach(m -> split.put(m.identity(), 0));
            List<Double> takeover = new ArrayList<>();
            String crashed = crashing.get(g).identity();
            long crashedAt = crashAt.get(g);
            for (String lease : orphans.get(g)) {
                g.logs.get(lease).events().stream()
                        .filter(e -> e.kind() == ElectionLog.Kind.GRANTED
                                && e.atNanos() - crashedAt > 0
                                && !e.identity().equals(crashed))
                        .min(Comparator.comparingLong(ElectionLog.Event::atNanos))
                        .ifPresent(grant -> {
                            split.merge(grant.identity(), 1, Integer::sum);
                            takeover.add((grant.atNanos() - crashedAt) / 1e6);
                        });
            }
            Stats taken = Stats.of(takeover);
            Long allTakenAt = takeover.size() == orphans.get(g).size() && !takeover.isEmpty()
                    ? crashedAt + (long) (taken.max() * 1e6)
                    : null;
            results.add(phaseResult(
                    g,
                    "the replica leading most is cut off, no release (" + (g.members.size() + 1) + " → "
                            + g.members.size() + ")",
                    before.get(g),
                    g.moves() - moves.get(g),
                    at,
                    crashedAt + 1, // leaderless stretches after the take-over only
                    allTakenAt,
                    balancedAt.get(g),
                    "it led " + orphans.get(g).size() + "; taken over after " + Report.ms(taken.min()) + "–"
                            + Report.ms(taken.max()) + " ms, split "
                            + split.values().stream()
                                    .sorted(Comparator.reverseOrder())
                                    .map(String::valueOf)
                                    .collect(Collectors.joining("/"))
                            + " among the survivors"));
        }
        return results;
    }

    /**
     * Waits until our group is balanced and stays so for five retry periods (later moves would show), or the phase
     * timeout; fabric8's groups are only waited for while ours are (at least until every election is led and five
     * retry periods passed). Returns when each group was last seen to become balanced.
     */
    private Map<Group, Long> awaitSettled(List<Group> groups, long since) {
        long quiet = settings.timings().retryPeriod().multipliedBy(5).toNanos();
        long until = since + settings.phaseTimeout().toNanos();
        Map<Group, Long> balancedSince = new HashMap<>();
        while (System.nanoTime() - until < 0) {
            long now = System.nanoTime();
            boolean done = true;
            for (Group group : groups) {
                boolean ok = group.kind == Kind.OURS ? group.balanced() : group.allLed();
                if (ok) {
                    balancedSince.putIfAbsent(group, now);
                } else {
                    balancedSince.remove(group);
                }
                Long at = balancedSince.get(group);
                if (at == null || now - at < quiet) {
                    done = false;
                }
            }
            if (done) {
                break;
            }
            Await.sleep(10);
        }
        Map<Group, Long> balanced = new HashMap<>();
        for (Group group : groups) {
            if (group.balanced() && balancedSince.containsKey(group)) {
                balanced.put(group, balancedSince.get(group));
            }
        }
        return balanced;
    }

    /**
     * @param gapsFrom leaderless stretches that begin from here on count
     * @param allLedAt when every election was led again, if the phase measures that
     */
    private PhaseResult phaseResult(
            Group group,
            String phase,
            List<Integer> before,
            long moves,
            long at,
            long gapsFrom,
            Long allLedAt,
            Long balancedAt,
            String note) {
        long now = System.nanoTime();
        List<Double> leaderless = new ArrayList<>();
        int handChanges = 0;
        for (ElectionLog log : group.logs.values()) {
            Changes changes = changes(log, group.crashedAt, gapsFrom, now);
            leaderless.addAll(changes.leaderlessMs());
            handChanges += changes(log, group.crashedAt, at, now).grants();
        }
        return new PhaseResult(
                group.kind,
                phase,
                before,
                sorted(group.shares()),
                moves,
                handChanges,
                leaderless,
                allLedAt == null ? null : (allLedAt - at) / 1e6,
                balancedAt == null ? null : (balancedAt - at) / 1e6,
                note,
                releases(group.changes, group.departed, at, now));
    }

    /** Releases written in a stretch of time, as the server's watch delivered them to an observer. */
    record Releases(int named, int takenByNamed, int namedDeparted, int unnamed) {
        @Override
        public String toString() {
            return named == 0 && unnamed == 0
                    ? "none"
                    : named + " naming a successor (" + takenByNamed + " taken by it, " + namedDeparted
                            + " naming a replica that was gone)"
                            + (unnamed == 0 ? "" : ", " + unnamed + " naming none");
        }
    }

    /** One change of an election's Lease, as an observer's watch saw it. */
    record LeaseChange(long at, String lease, String holder, Integer durationSeconds, String successor) {
        boolean isRelease() {
            return (holder == null || holder.isEmpty()) && durationSeconds != null && durationSeconds == 1;
        }
    }

    static Releases releases(List<LeaseChange> changes, Set<String> departed, long from, long to) {
        int named = 0;
        int taken = 0;
        int gone = 0;
        int unnamed = 0;
        for (int i = 0; i < changes.size(); i++) {
            LeaseChange change = changes.get(i);
            if (!change.isRelease() || change.at() - from < 0 || change.at() - to > 0) {
                continue;
            }
            if (change.successor() == null) {
                unnamed++;
                continue;
            }
            named++;
            if (departed.contains(change.successor())) {
                gone++;
            }
            for (int j = i + 1; j < changes.size(); j++) {
                LeaseChange next = changes.get(j);
                if (next.lease().equals(change.lease()) && !next.isRelease()) {
                    if (change.successor().equals(next.holder())) {
                        taken++;
                    }
                    break;
                }
            }
        }
        return new Releases(named, taken, gone, unnamed);
    }

    /** Grants to another replica in a stretch of time, and how long the election had no leader before each. */
    record Changes(int grants, List<Double> leaderlessMs) {}

    /**
     * As the listeners were told: an election is leaderless from the moment its last leader's term ended
     * ({@code onStoppedLeading}, or the crash of a replica cut off while leading) to the next {@code onStartedLeading};
     * those that begin in [{@code from}, {@code to}] count.
     */
    static Changes changes(ElectionLog log, Map<String, Long> crashedAt, long from, long to) {
        record Event(String identity, boolean granted, long at) {}
        List<Event> events = new ArrayList<>();
        for (ElectionLog.Event event : log.events()) {
            Long crash = crashedAt.get(event.identity());
            if (crash != null && event.atNanos() - crash > 0) {
                continue; // a dead process runs no code
            }
            if (event.kind() == ElectionLog.Kind.GRANTED) {
                events.add(new Event(event.identity(), true, event.atNanos()));
            } else if (event.kind() == ElectionLog.Kind.REVOKED) {
                events.add(new Event(event.identity(), false, event.atNanos()));
            }
        }
        crashedAt.forEach((identity, at) -> {
            events.add(new Event(identity, false, at));
        });
        events.sort(Comparator.comparingLong(Event::at));
        Set<String> holders = new TreeSet<>();
        long leaderlessSince = 0;
        boolean everLed = false;
        int grants = 0;
        List<Double> leaderless = new ArrayList<>();
        for (Event event : events) {
            if (event.granted()) {
                if (holders.isEmpty() && everLed && leaderlessSince - from >= 0 && leaderlessSince - to <= 0) {
                    leaderless.add((event.at() - leaderlessSince) / 1e6);
                }
                if (event.at() - from >= 0 && event.at() - to <= 0) {
                    grants++;
                }
                holders.add(event.identity());
                everLed = true;
            } else if (holders.remove(event.identity()) && holders.isEmpty()) {
                leaderlessSince = event.at();
            }
        }
        return new Changes(grants, leaderless);
    }

    private void printPhases(Report report, int size, List<PhaseResult> results) {
        report.line("### " + settings.elections() + " elections, " + size + " replicas: a replica joins, the one"
                + " leading most stops, another joins, the one leading most crashes (load average "
                + Report.num(ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), 2) + ")");
        report.line("");
        report.line("Phases one after the other on the same groups. Moves: yields naming a successor made by our"
                + " spreaders. Changes of hands: grants in the phase. Leaderless: per change, from the last leader's"
                + " `onStoppedLeading` to the next `onStartedLeading` (after a crash: the stretches after the"
                + " take-over, i.e. those the moves cause). Releases: as an observer's watch on the Leases saw them."
                + " Balanced again: when our group was last seen to become balanced (fabric8: every election led)"
                + " and stayed so for five retry periods; timeout "
                + settings.phaseTimeout().toSeconds() + " s.");
        report.line("");
        List<List<String>> rows = new ArrayList<>();
        for (PhaseResult r : results) {
            Stats gaps = Stats.of(r.leaderlessMs());
            rows.add(List.of(
                    r.phase(),
                    r.kind().title(),
                    shares(r.sharesBefore()) + " → " + shares(r.sharesAfter()),
                    r.kind() == Kind.OURS ? String.valueOf(r.moves()) : "— (none)",
                    String.valueOf(r.handChanges()),
                    gaps.count() == 0
                            ? "—"
                            : Report.ms(gaps.median()) + " / " + Report.ms(gaps.p90()) + " / " + Report.ms(gaps.max())
                                    + " (" + gaps.count() + ")",
                    r.releases().toString(),
                    r.allLedMs() == null ? "—" : Report.ms(r.allLedMs()),
                    r.balancedMs() == null ? "not balanced" : Report.ms(r.balancedMs()),
                    r.note()));
        }
        report.table(
                List.of(
                        "phase",
                        "implementation",
                        "shares before → after",
                        "moves",
                        "changes of hands",
                        "leaderless ms per change (median / p90 / max (n))",
                        "releases",
                        "crashed replica's elections all taken after ms",
                        "balanced again after ms",
                        "notes"),
                rows);
    }

    private static List<Integer> sorted(List<Integer> shares) {
        List<Integer> sorted = new ArrayList<>(shares);
        sorted.sort(Comparator.reverseOrder());
        return sorted;
    }

    /** {@code 4/4/4}, or for many replicas {@code 1×12, 0×38}. */
    static String shares(List<Integer> shares) {
        if (shares.isEmpty()) {
            return "—";
        }
        if (shares.size() <= 6) {
            return shares.stream().map(String::valueOf).collect(Collectors.joining("/"));
        }
        Map<Integer, Long> counts = new TreeMap<>(Comparator.reverseOrder());
        shares.forEach(s -> counts.merge(s, 1L, Long::sum));
        return counts.entrySet().stream()
                .map(e -> e.getKey() + "×" + e.getValue())
                .collect(Collectors.joining(", "));
    }
}
