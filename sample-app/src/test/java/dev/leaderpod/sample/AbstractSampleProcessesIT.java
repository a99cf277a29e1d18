package dev.leaderpod.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Three JVMs of the packaged sample app elect a leader through one store that has no lease yet. Nobody creates the
 * lease before it has been missing for one lease duration; then exactly one leads; SIGTERM of the leader hands over
 * promptly (the lease is released); SIGKILL fails over after about the lease duration and never before the old lease
 * could have expired; the terms and the job runs of all processes never overlap. The leader and the timings checked
 * are the default election's; the named elections ({@code billing}, {@code cleanup}, {@code index}) run alongside,
 * and their terms and job runs never overlap either, each election on its own.
 */
abstract class AbstractSampleProcessesIT {

    // Short, so the test is quick; not so short that a JVM still warming up on a busy 2-core machine misses its
    // renew deadline (it would be safe, only noisy: the term ends and a new one starts).
    static final Duration LEASE = Duration.ofSeconds(4);
    static final Duration RENEW_DEADLINE = Duration.ofSeconds(3);
    static final Duration RETRY = Duration.ofMillis(500);

    /** Generous for a loaded 2-core machine: how late after the earliest possible moment a take-over may come. */
    static final Duration SLACK = Duration.ofSeconds(3);

    final List<SampleProcess> processes = new ArrayList<>();
    private final Map<String, String> identities = new ConcurrentHashMap<>();

    @AfterEach
    void stopAll() {
        processes.forEach(SampleProcess::close);
    }

    /** For the report: "local" or "kubernetes". */
    abstract String store();

    /** JVM options of each process (system properties for the Kubernetes client). */
    abstract List<String> jvmOptions();

    /** Store properties of each process. */
    abstract List<String> storeProperties();

    /** Environment of process {@code name}. */
    Map<String, String> environment(String name) {
        return Map.of();
    }

    /** The lease's renewTime as it is now (the holder's last renew), by the store. */
    abstract Instant renewTimeOfTheLease() throws Exception;

    /** Upper bound of a graceful hand-over, from the moment the old leader released the lease. */
    abstract Duration maxHandOverAfterRelease();

    /** Checks that may follow every change of leader, such as the pod label. */
    void leaderChanged(SampleProcess leader, List<SampleProcess> others) throws Exception {}

    @Test
    void exactlyOneLeaderPromptHandOverOnSigtermFailOverAfterTheLeaseOnSigkill() throws Exception {
        Path logs = Path.of("target", "e2e", store());
        for (String name : List.of("p1", "p2", "p3")) { // all three JVMs start at once
            List<String> properties = new ArrayList<>(storeProperties());
            properties.addAll(List.of(
                    "leader.lease-duration=" + LEASE.toSeconds() + "s",
                    "leader.renew-deadline=" + RENEW_DEADLINE.toSeconds() + "s",
                    "leader.retry-period=" + RETRY.toMillis() + "ms",
                    // The default election's hand-over on SIGTERM and fail-over on SIGKILL are timed here; a spreading
                    // move of it would race those steps. Spreading is covered by StatusPageBrowserIT and the starter's
                    // it.SpreadingKubernetesTest.
                    "leader.spread.enabled=false",
                    "sample.job.interval=200ms",
                    "sample.job.duration=100ms",
                    "sample.jobs.billing.interval=300ms",
                    "sample.jobs.cleanup.interval=300ms",
                    "sample.jobs.index.interval=300ms"));
            processes.add(SampleProcess.start(
                    name, logs, environment(name), jvmOptions(), properties.toArray(String[]::new)));
        }
        await().atMost(Duration.ofSeconds(180)).until(() -> processes.stream().allMatch(SampleProcess::ready));
        for (SampleProcess process : processes) { // a JVM on a loaded machine may miss a status request's timeout
            Optional<JsonNode> status =
                    await().atMost(Duration.ofSeconds(30)).until(process::status, Optional::isPresent);
            identities.put(
                    process.name, status.orElseThrow().at("/self/identity").asText());
        }

        // 1. The store has no lease. A missing lease may have been deleted while its holder still leads, and the
        // store cannot tell that from "never existed": nobody creates it before it has been missing for one lease
        // duration, counted from when a process first found it missing (after it joined the election).
        SampleProcess first = awaitSingleLeader(processes);
        Instant firstJoined = earliest(" Joining leader election for " + described(LEASE_NAME) + " as ");
        Instant firstGranted = earliest(DEFAULT_GRANTED);
        assertThat(firstGranted)
                .as(
                        "first grant never before the missing lease was waited out (first join %s + %s)",
                        firstJoined, LEASE)
                .isAfterOrEqualTo(firstJoined.plus(LEASE).minusMillis(1)); // log stamps are in whole ms

        // Then exactly one leader, and every process agrees on who it is.
        await().during(Duration.ofMillis(4 * RETRY.toMillis()))
                .atMost(Duration.ofSeconds(10))
                .until(() -> leaders(processes).equals(List.of(first)));
        await().atMost(Duration.ofSeconds(10))
                .until(() -> processes.stream()
                        .allMatch(process -> identities.get(first.name).equals(holderSeenBy(process))));
        await().atMost(Duration.ofSeconds(10))
                .until(() -> !first.find("Job run #\\d+ finished").isEmpty());
        leaderChanged(first, others(first));
        long firstToken = grantedToken(first);

        // 2. SIGTERM: the leader drains, revokes, releases; a follower takes over promptly.
        Instant terminatedAt = Instant.now();
        first.terminate();
        List<SampleProcess> remaining = others(first);
        SampleProcess second = awaitSingleLeader(remaining);
        Instant releasedAt = first.firstAt(RELEASED).orElseThrow(() -> new AssertionError("no release logged"));
        Instant secondGranted = grantedAt(second);
        Duration afterRelease = Duration.between(releasedAt, secondGranted);
        Duration afterSigterm = Duration.between(terminatedAt, secondGranted);
        assertThat(afterRelease).as("hand-over after the release").isLessThan(maxHandOverAfterRelease());
        assertThat(grantedToken(second)).as("fencing token").isGreaterThan(firstToken);
        // A web application refuses traffic as it starts to close, before ContextClosedEvent: leadership follows
        // readiness, so the term ends as a yield or, if the close came first, at shutdown; once either way.
        assertThat(first.find(" no longer leads " + LEASE_NAME + " \\((SHUTDOWN|YIELDED)"))
                .as("revoked on shutdown")
                .hasSize(1);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> !second.find("Job run #\\d+ finished").isEmpty());
        leaderChanged(second, others(second));

        // 3. SIGKILL: nothing is released; the last follower waits out the lease.
        Instant killedAt = Instant.now();
        second.kill();
        Instant lastRenew = renewTimeOfTheLease(); // frozen now: nobody renews a killed leader's lease
        SampleProcess third =
                remaining.stream().filter(p -> p != second).findFirst().orElseThrow();
        await().atMost(LEASE.plus(Duration.ofSeconds(20))).until(third::leads);
        Instant thirdGranted = grantedAt(third);
        assertThat(thirdGranted)
                .as("take-over never before the old lease could have expired (last renew %s + %s)", lastRenew, LEASE)
                .isAfterOrEqualTo(lastRenew.plus(LEASE).minusMillis(1)); // log stamps are in whole ms
        Duration afterKill = Duration.between(killedAt, thirdGranted);
        assertThat(afterKill)
                .as("take-over after SIGKILL: about the lease duration")
                // (the kill may come up to a retry period and a slow renew after the last renew)
                .isGreaterThanOrEqualTo(LEASE.minus(RETRY.multipliedBy(2)))
                .isLessThan(LEASE.plus(RETRY).plus(SLACK));
        assertThat(grantedToken(third)).as("fencing token").isGreaterThan(grantedToken(second));
        await().atMost(Duration.ofSeconds(10))
                .until(() -> !third.find("Job run #\\d+ finished").isEmpty());
        leaderChanged(third, List.of());

        // 4. Over the whole run, in every election: terms and job runs of different processes never overlap.
        Map<String, List<Interval>> terms = byElection(terms());
        assertThat(terms).as("elections with terms").containsOnlyKeys(ELECTIONS);
        terms.forEach((election, intervals) -> assertNoOverlap(intervals, "terms of " + election));
        Map<String, List<Interval>> jobRuns = byElection(jobRuns());
        assertThat(jobRuns).as("elections with job runs").containsOnlyKeys(ELECTIONS);
        jobRuns.forEach((election, intervals) -> assertNoOverlap(intervals, "job runs of " + election));

        report(String.format(
                "%s store: first leader %d ms after the first process joined (a missing lease is waited out);"
                        + " SIGTERM hand-over %d ms after the release (%d ms after SIGTERM); SIGKILL fail-over"
                        + " %d ms after the kill, %d ms after the last renew (lease %d ms)",
                store(),
                Duration.between(firstJoined, firstGranted).toMillis(),
                afterRelease.toMillis(),
                afterSigterm.toMillis(),
                afterKill.toMillis(),
                Duration.between(lastRenew, thirdGranted).toMillis(),
                LEASE.toMillis()));
    }

    // --- leadership as the processes report it

    /** Waits for one leader: at most one lease duration of waiting (the first election's too), plus slack. */
    SampleProcess awaitSingleLeader(List<SampleProcess> candidates) {
        await().atMost(LEASE.plus(Duration.ofSeconds(30)))
                .until(() -> leaders(candidates).size() == 1);
        return leaders(candidates).get(0);
    }

    /** The earliest time stamp of a line matching {@code regex} in any process's log. */
    private Instant earliest(String regex) {
        return processes.stream()
                .map(process -> process.firstAt(regex))
                .flatMap(Optional::stream)
                .min(Comparator.naturalOrder())
                .orElseThrow(() -> new AssertionError("no process logged " + regex));
    }

    static List<SampleProcess> leaders(List<SampleProcess> candidates) {
        return candidates.stream().filter(SampleProcess::leads).toList();
    }

    List<SampleProcess> others(SampleProcess process) {
        return processes.stream()
                .filter(p -> p != process && p.process.isAlive())
                .toList();
    }

    private static String holderSeenBy(SampleProcess process) {
        return process.status()
                .map(status -> status.at("/leader/identity").asText())
                .orElse(null);
    }

    private static Instant grantedAt(SampleProcess process) {
        Pattern granted = Pattern.compile(DEFAULT_GRANTED);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> process.firstAt(DEFAULT_GRANTED).isPresent());
        List<SampleProcess.Line> grants = process.lines.stream()
                .filter(line -> granted.matcher(line.text()).find())
                .toList();
        return grants.get(grants.size() - 1).at();
    }

    private static long grantedToken(SampleProcess process) {
        List<Matcher> grants = process.find(DEFAULT_GRANTED);
        assertThat(grants).as(process + " was granted").isNotEmpty();
        return Long.parseLong(grants.get(grants.size() - 1).group(1));
    }

    // --- intervals from the logs

    /** A term or a job run of {@code process} in {@code election} (its lease name). */
    record Interval(String process, String election, Instant start, Instant end, long token) {}

    /** The default election's lease; a named election's is {@code leaderpod-sample-<name>}. */
    static final String LEASE_NAME = "leaderpod-sample";

    /** The leases of every election of the sample. */
    static final List<String> ELECTIONS =
            List.of(LEASE_NAME, LEASE_NAME + "-billing", LEASE_NAME + "-cleanup", LEASE_NAME + "-index");

    /**
     * How the elector's log lines name the lease {@code lease} (a regex): {@code Kubernetes Lease <namespace>/<lease>}
     * or {@code local lease file <directory>/<lease>.lease}.
     */
    static String described(String lease) {
        return "(?:Kubernetes Lease [^/ ]+/|local lease file \\S*[/\\\\])" + lease + "(?:\\.lease)?";
    }

    /** The elector's own release line of the default election (not "… had released the lease", which followers log). */
    static final String RELEASED = " released " + described(LEASE_NAME) + "(?: |$)";

    /** A grant of the default election; group 1 is its fencing token. */
    private static final String DEFAULT_GRANTED =
            " now leads " + described(LEASE_NAME) + " \\(fencing token (\\d+)[,)]";

    /** A grant of any election: group 1 is its lease, group 2 the fencing token. */
    private static final Pattern GRANTED = Pattern.compile(
            " now leads (?:Kubernetes Lease [^/ ]+/|local lease file \\S*[/\\\\])([a-z0-9-]+?)(?:\\.lease)?"
                    + " \\(fencing token (\\d+)[,)]");

    /** The end of a term of any election: group 1 is its lease. */
    private static final Pattern REVOKED = Pattern.compile(" no longer leads ([a-z0-9-]+) \\(");

    /**
     * A run of the default election's job ({@code Job run #n}) or of a named one's ({@code <name> job run #n}):
     * group 1 is the name (absent for the default job), 2 the run, 3 started or finished, 4 the fencing token.
     */
    private static final Pattern JOB_RUN =
            Pattern.compile("(?:(\\w+) job|Job) run #(\\d+) (started|finished).*fencing token (\\d+)");

    /** Each process's terms of each election: from "now leads" to "no longer leads", or to the kill. */
    private List<Interval> terms() {
        List<Interval> terms = new ArrayList<>();
        for (SampleProcess process : processes) {
            Map<String, SampleProcess.Line> started = new HashMap<>();
            Map<String, Long> tokens = new HashMap<>();
            for (SampleProcess.Line line : process.lines) {
                Matcher granted = GRANTED.matcher(line.text());
                Matcher revoked = REVOKED.matcher(line.text());
                if (granted.find()) {
                    started.put(granted.group(1), line);
                    tokens.put(granted.group(1), Long.parseLong(granted.group(2)));
                } else if (revoked.find() && started.containsKey(revoked.group(1))) {
                    String lease = revoked.group(1);
                    terms.add(new Interval(
                            process.name, lease, started.remove(lease).at(), line.at(), tokens.get(lease)));
                }
            }
            started.forEach((lease, start) -> terms.add(new Interval(
                    process.name, lease, start.at(), process.stoppedAt().orElse(Instant.now()), tokens.get(lease))));
        }
        return terms;
    }

    /** Each process's job runs, by the lease of the job's election: from "started" to "finished", or to the kill. */
    private List<Interval> jobRuns() {
        List<Interval> runs = new ArrayList<>();
        for (SampleProcess process : processes) {
            Map<String, SampleProcess.Line> started = new HashMap<>(); // by election and run
            for (SampleProcess.Line line : process.lines) {
                Matcher matcher = JOB_RUN.matcher(line.text());
                if (!matcher.find()) {
                    continue;
                }
                String run = lease(matcher) + "#" + matcher.group(2);
                if (matcher.group(3).equals("started")) {
                    started.put(run, line);
                } else {
                    SampleProcess.Line start = started.remove(run);
                    runs.add(new Interval(
                            process.name, lease(matcher), start.at(), line.at(), Long.parseLong(matcher.group(4))));
                }
            }
            for (SampleProcess.Line start : started.values()) { // cut short by SIGKILL
                Matcher matcher = JOB_RUN.matcher(start.text());
                matcher.find();
                runs.add(new Interval(
                        process.name,
                        lease(matcher),
                        start.at(),
                        process.stoppedAt().orElse(Instant.now()),
                        Long.parseLong(matcher.group(4))));
            }
        }
        return runs;
    }

    /** The lease of the election whose job run {@code matcher} (of {@link #JOB_RUN}) found. */
    private static String lease(Matcher matcher) {
        return matcher.group(1) == null ? LEASE_NAME : LEASE_NAME + "-" + matcher.group(1);
    }

    private static Map<String, List<Interval>> byElection(List<Interval> intervals) {
        return intervals.stream().collect(Collectors.groupingBy(Interval::election, TreeMap::new, Collectors.toList()));
    }

    private static void assertNoOverlap(List<Interval> intervals, String what) {
        assertThat(intervals).as(what).isNotEmpty();
        List<Interval> sorted = new ArrayList<>(intervals);
        sorted.sort(Comparator.comparing(Interval::start));
        for (int i = 1; i < sorted.size(); i++) {
            Interval previous = sorted.get(i - 1);
            Interval next = sorted.get(i);
            if (!previous.process().equals(next.process())) {
                assertThat(next.start())
                        .as("%s: %s must start after %s ended", what, next, previous)
                        .isAfterOrEqualTo(previous.end());
                assertThat(next.token())
                        .as("%s: a later leader's fencing token", what)
                        .isGreaterThan(previous.token());
            }
        }
    }

    static void report(String line) throws IOException {
        System.out.println(line);
        Path file = Path.of("target", "e2e", "measurements.txt");
        Files.createDirectories(file.getParent());
        Files.writeString(
                file,
                Instant.now() + " " + line + System.lineSeparator(),
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    static Optional<String> label(Map<String, String> labels, String key) {
        return labels == null ? Optional.empty() : Optional.ofNullable(labels.get(key));
    }
}
