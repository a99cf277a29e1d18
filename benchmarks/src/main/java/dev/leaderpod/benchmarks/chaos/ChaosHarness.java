package dev.leaderpod.benchmarks.chaos;

import dev.leaderpod.benchmarks.contenders.Candidate;
import dev.leaderpod.benchmarks.contenders.ElectionLog;
import dev.leaderpod.benchmarks.contenders.Fabric8Candidate;
import dev.leaderpod.benchmarks.contenders.OurCandidate;
import dev.leaderpod.benchmarks.contenders.Timings;
import dev.leaderpod.benchmarks.support.MockApiServer;
import io.fabric8.mockwebserver.http.MockResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs N in-process candidates of one elector against the mock API server under faults, and checks that no two
 * ever lead at once and that a leader is back soon after the faults stop.
 *
 * <p>Each candidate slot has its own clock, offset by hours and running up to ±1 % fast or slow, its own
 * fault-injecting TCP proxy (latency, dropped connections, partitions that hang every call), and store-level faults
 * (HTTP 500s, 409 storms, pauses of the election thread like a long GC). The API server injects 500s and 409s for
 * everybody at times. Candidates crash (cut off and stopped without release) and come back under a new identity.
 * A sampler thread per slot asks the candidate whether it leads, as user code would, about every millisecond
 * ({@link LeadershipIntervals} explains how the samples become intervals that are compared in the harness's real
 * time).
 */
public final class ChaosHarness {

    /** Which elector runs. */
    public enum Elector {
        OURS,
        FABRIC8
    }

    /**
     * One run.
     *
     * @param faultPhase how long faults are injected; then everything heals and crashed candidates restart
     * @param maxClockOffset slot clocks are offset by up to this much, alternately ahead and behind
     * @param maxRateError slot clocks run between this much slow and this much fast, spread evenly
     * @param finalOutage how long the API server fails every request at the end of the fault phase, so that nobody
     *     leads when the faults stop; lease duration + retry period by default
     */
    public record Config(
            Elector elector,
            int candidates,
            Duration faultPhase,
            Timings timings,
            long seed,
            Duration maxClockOffset,
            double maxRateError,
            Duration finalOutage) {

        /** The configuration CI runs: 5 candidates, 3 s / 2 s / 500 ms, 60 s of faults. */
        public static Config ci(Elector elector, long seed) {
            return new Config(
                    elector,
                    5,
                    Duration.ofSeconds(60),
                    new Timings(Duration.ofSeconds(3), Duration.ofSeconds(2), Duration.ofMillis(500)),
                    seed,
                    Duration.ofHours(6),
                    0.01,
                    Duration.ofMillis(3500));
        }

        public Config withFaultPhase(Duration duration) {
            return new Config(elector, candidates, duration, timings, seed, maxClockOffset, maxRateError, finalOutage);
        }

        public Config withCandidates(int count) {
            return new Config(elector, count, faultPhase, timings, seed, maxClockOffset, maxRateError, finalOutage);
        }

        public Config withClocks(Duration maxOffset, double maxRate) {
            return new Config(elector, candidates, faultPhase, timings, seed, maxOffset, maxRate, finalOutage);
        }

        public Config withFinalOutage(Duration outage) {
            return new Config(elector, candidates, faultPhase, timings, seed, maxClockOffset, maxRateError, outage);
        }

        /** After the faults stop, a leader must appear within lease duration + retry period + this slack. */
        Duration restartSlack() {
            return Duration.ofSeconds(1);
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
            Duration timeToLeaderAfterFaults,
            Duration livenessBound,
            int leadersAtEnd,
            Duration longestLeaderlessGap) {

        public boolean noOverlap() {
            return overlaps.isEmpty();
        }

        public boolean leaderBackInTime() {
            return timeToLeaderAfterFaults != null && timeToLeaderAfterFaults.compareTo(livenessBound) <= 0;
        }

        public boolean passed() {
            return noOverlap() && leaderBackInTime() && leadersAtEnd == 1;
        }

        public String summary() {
            StringBuilder out = new StringBuilder();
            out.append(String.format(
                    Locale.ROOT,
                    "chaos %s: %d candidates, timings %s, %d s of faults ending with a %d ms API outage, seed %d%n",
                    config.elector(),
                    config.candidates(),
                    config.timings(),
                    config.faultPhase().toSeconds(),
                    config.finalOutage().toMillis(),
                    config.seed()));
            out.append("  clocks: ").append(String.join("; ", clocks)).append('\n');
            out.append("  faults injected: ").append(faults).append('\n');
            out.append(String.format(
                    Locale.ROOT,
                    "  leadership terms observed: %d; samples: %,d; longest time without a leader: %d ms%n",
                    terms,
                    samples,
                    longestLeaderlessGap.toMillis()));
            out.append(String.format(
                    Locale.ROOT,
                    "  overlaps: %d%s%n",
                    overlaps.size(),
                    overlaps.isEmpty()
                            ? ""
                            : String.format(
                                    Locale.ROOT,
                                    " (longest %d ms, total %d ms; first: %s)",
                                    overlaps.stream()
                                                    .mapToLong(LeadershipIntervals.Overlap::overlapNanos)
                                                    .max()
                                                    .orElse(0)
                                            / 1_000_000,
                                    overlaps.stream()
                                                    .mapToLong(LeadershipIntervals.Overlap::overlapNanos)
                                                    .sum()
                                            / 1_000_000,
                                    overlaps.get(0))));
            out.append(String.format(
                    Locale.ROOT,
                    "  leader after faults stopped: %s (bound %d ms); leaders at end: %d%n",
                    timeToLeaderAfterFaults == null ? "none" : timeToLeaderAfterFaults.toMillis() + " ms",
                    livenessBound.toMillis(),
                    leadersAtEnd));
            out.append("  verdict: ").append(passed() ? "PASSED" : "FAILED");
            return out.toString();
        }
    }

    private final MockApiServer server;
    private final Config config;
    private final SplittableRandom random;
    private final String namespace;
    private final Map<String, Integer> faultCounts = new ConcurrentHashMap<>();
    private final LeadershipIntervals intervals = new LeadershipIntervals();
    private final ElectionLog log = new ElectionLog();
    private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2, runnable -> {
        Thread thread = new Thread(runnable, "chaos-scheduler");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicInteger crashed = new AtomicInteger();
    private volatile boolean faultsActive;
    private volatile boolean running = true;
    private volatile double serverErrorRate;
    private volatile double serverConflictRate;
    private final SplittableRandom serverRandom;

    public ChaosHarness(MockApiServer server, Config config) {
        this.server = server;
        this.config = config;
        this.random = new SplittableRandom(config.seed());
        this.serverRandom = new SplittableRandom(config.seed() ^ 0x5DEECE66DL);
        this.namespace = "chaos-" + config.elector().name().toLowerCase(Locale.ROOT) + "-" + config.seed();
    }

    private final class Slot {
        final int index;
        final DriftingClock clock;
        final Faults faults;
        volatile Candidate current;
        int generation;
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

        synchronized void start() {
            String identity = "slot" + index + "-gen" + generation++;
            Candidate candidate =
                    switch (config.elector()) {
                        case OURS ->
                            new OurCandidate(
                                    server,
                                    namespace,
                                    "chaos",
                                    identity,
                                    config.timings(),
                                    log,
                                    clock,
                                    store -> new FaultyLeaseStore(store, faults));
                        case FABRIC8 ->
                            new Fabric8Candidate(
                                    server,
                                    namespace,
                                    "chaos",
                                    identity,
                                    config.timings(),
                                    log,
                                    lock -> new FaultyLock(lock, faults, clock));
                    };
            candidate.start();
            current = candidate;
        }

        /** Cut off and stopped without release; the sampler stops asking it, as a dead process runs no code. */
        synchronized void crash() {
            Candidate candidate = current;
            current = null;
            if (candidate != null) {
                Thread closer = new Thread(candidate::close, "chaos-crash-" + candidate.identity());
                closer.setDaemon(true);
                closer.start();
            }
        }

        private void sample() {
            Candidate sampled = null;
            LeadershipIntervals.Recorder recorder = null;
            while (running) {
                Candidate candidate = current;
                if (candidate != sampled) {
                    if (recorder != null) {
                        recorder.close();
                    }
                    sampled = candidate;
                    recorder = candidate == null
                            ? null
                            : new LeadershipIntervals.Recorder(intervals, candidate.identity());
                }
                if (candidate != null) {
                    long t0 = System.nanoTime();
                    long term = candidate.currentTermId();
                    long t1 = System.nanoTime();
                    recorder.sample(t0, term, t1);
                    samples++;
                }
                LockSupport.parkNanos(1_000_000);
            }
            if (recorder != null) {
                recorder.close();
            }
        }
    }

    public Result run() {
        List<Slot> slots = new ArrayList<>();
        server.injectFaults(request -> serverFault(request.getPath(), request.getMethod()));
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
                injectOne(slots);
            }
            // The finale: the API server fails every request for longer than a lease, so nobody leads when the
            // faults stop and every candidate has failed several times in a row: the hardest start for recovery.
            serverErrorRate = 1.0;
            count("final API outage");
            sleep(Math.max(0, (faultEnd - System.nanoTime()) / 1_000_000));
            faultsActive = false;

            // Heal everything; crashed candidates come back at once.
            serverErrorRate = 0;
            serverConflictRate = 0;
            for (Slot slot : slots) {
                slot.faults.heal();
                Candidate candidate = slot.current;
                if (candidate != null) {
                    candidate.proxy().latency(Duration.ZERO);
                    candidate.proxy().hang(false);
                }
            }
            long healedAt = System.nanoTime();
            for (Slot slot : slots) {
                synchronized (slot) {
                    if (slot.current == null) {
                        slot.start();
                        crashed.decrementAndGet();
                    }
                }
            }
            Duration bound = config.timings()
                    .leaseDuration()
                    .plus(config.timings().retryPeriod())
                    .plus(config.restartSlack());
            Duration timeToLeader = null;
            long waitUntil = healedAt + bound.toNanos() * 3;
            while (System.nanoTime() - waitUntil < 0) {
                if (slots.stream().anyMatch(s -> s.current != null && s.current.isLeader())) {
                    timeToLeader = Duration.ofNanos(System.nanoTime() - healedAt);
                    break;
                }
                sleep(2);
            }
            sleep(3 * config.timings().retryPeriod().toMillis()); // a quiet stretch, still sampled
            int leadersAtEnd = (int) slots.stream()
                    .filter(s -> s.current != null && s.current.isLeader())
                    .count();
            running = false;
            for (Slot slot : slots) {
                slot.sampler.join(2000);
            }
            List<LeadershipIntervals.Interval> all = intervals.intervals();
            return new Result(
                    config,
                    slots.stream().map(s -> "slot" + s.index + " " + s.clock).toList(),
                    new TreeMap<>(faultCounts),
                    all.size(),
                    slots.stream().mapToLong(s -> s.samples).sum(),
                    intervals.overlaps(),
                    timeToLeader,
                    bound,
                    leadersAtEnd,
                    longestGap(all));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            running = false;
            server.injectFaults(null);
            scheduler.shutdownNow();
            slots.parallelStream().forEach(s -> {
                Candidate candidate = s.current;
                if (candidate != null) {
                    candidate.close();
                }
            });
        }
    }

    private static Duration longestGap(List<LeadershipIntervals.Interval> intervals) {
        List<LeadershipIntervals.Interval> sorted = new ArrayList<>(intervals);
        sorted.sort(java.util.Comparator.comparingLong(LeadershipIntervals.Interval::start));
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
        return Duration.ofNanos(longest);
    }

    private void injectOne(List<Slot> slots) {
        // Half the faults hit the leader, so that hand-overs happen often.
        Slot slot = slots.get(random.nextInt(slots.size()));
        if (random.nextBoolean()) {
            for (Slot candidateSlot : slots) {
                Candidate candidate = candidateSlot.current;
                if (candidate != null && candidate.isLeader()) {
                    slot = candidateSlot;
                }
            }
        }
        Candidate candidate = slot.current;
        int roll = random.nextInt(100);
        long leaseMs = config.timings().leaseDuration().toMillis();
        long renewMs = config.timings().renewDeadline().toMillis();
        if (roll < 12) {
            if (candidate != null) {
                Duration latency = Duration.ofMillis(20 + random.nextInt(400));
                candidate.proxy().latency(latency);
                later(() -> candidate.proxy().latency(Duration.ZERO), 1000 + random.nextInt(3000));
                count("latency");
            }
        } else if (roll < 24) {
            if (candidate != null) {
                candidate.proxy().dropConnections();
                count("dropped connections");
            }
        } else if (roll < 36) {
            if (candidate != null) {
                candidate.proxy().hang(true); // a partition: the candidate runs on, its calls hang
                later(() -> candidate.proxy().hang(false), 500 + random.nextLong(2 * leaseMs));
                count("partition (hung connections)");
            }
        } else if (roll < 44) {
            serverErrorRate = 0.5;
            later(() -> serverErrorRate = 0, 1000 + random.nextInt(2000));
            count("server 5xx storm");
        } else if (roll < 52) {
            serverConflictRate = 0.6;
            later(() -> serverConflictRate = 0, 1000 + random.nextInt(2000));
            count("server 409 storm");
        } else if (roll < 62) {
            Faults faults = slot.faults;
            faults.serverErrors(0.5);
            later(() -> faults.serverErrors(0), 1000 + random.nextInt(2000));
            count("store 5xx");
        } else if (roll < 72) {
            Faults faults = slot.faults;
            faults.conflicts(0.7);
            later(() -> faults.conflicts(0), 1000 + random.nextInt(2000));
            count("store 409 storm");
        } else if (roll < 88) {
            long pauseMs = 200 + random.nextLong(renewMs * 3 / 2);
            slot.faults.pauseNextCall(pauseMs * 1_000_000, random.nextBoolean());
            count("election-thread pause (GC)");
        } else {
            if (candidate != null && crashed.get() < config.candidates() - 1) {
                Slot crashedSlot = slot;
                crashed.incrementAndGet();
                crashedSlot.crash();
                count("crash");
                later(
                        () -> {
                            synchronized (crashedSlot) {
                                if (crashedSlot.current == null && faultsActive) {
                                    crashedSlot.start();
                                    crashed.decrementAndGet();
                                    count("restart");
                                }
                            }
                        },
                        500 + random.nextLong(leaseMs));
            }
        }
    }

    private Optional<MockResponse> serverFault(String path, String method) {
        if (path == null || !path.contains("/namespaces/" + namespace + "/")) {
            return Optional.empty();
        }
        double errors = serverErrorRate;
        double conflicts = serverConflictRate;
        synchronized (serverRandom) {
            if (errors > 0 && serverRandom.nextDouble() < errors) {
                return Optional.of(status(500, "InternalError"));
            }
            if (conflicts > 0 && "PUT".equals(method) && serverRandom.nextDouble() < conflicts) {
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
    }

    private void count(String fault) {
        faultCounts.merge(fault, 1, Integer::sum);
    }

    private static void sleep(long millis) throws InterruptedException {
        Thread.sleep(millis);
    }
}
