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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Three JVMs of the packaged sample app elect a leader through one store that has no lease yet. Nobody creates the
 * lease before it has been missing for one lease duration; then exactly one leads; SIGTERM of the leader hands over
 * promptly (the lease is released); SIGKILL fails over after about the lease duration and never before the old lease
 * could have expired; the terms and the job runs of all processes never overlap.
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
                    "sample.job.interval=200ms",
                    "sample.job.duration=100ms"));
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
        Instant firstJoined = earliest(" Joining leader election ");
        Instant firstGranted = earliest(" now leads ");
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
        assertThat(first.find("no longer leads .*\\(SHUTDOWN"))
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

        // 4. Over the whole run: terms and job runs of different processes never overlap.
        assertNoOverlap(terms(), "terms");
        assertNoOverlap(jobRuns(), "job runs");

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
        await().atMost(Duration.ofSeconds(5))
                .until(() -> process.firstAt(" now leads ").isPresent());
        List<SampleProcess.Line> grants = process.lines.stream()
                .filter(line -> line.text().contains(" now leads "))
                .toList();
        return grants.get(grants.size() - 1).at();
    }

    private static long grantedToken(SampleProcess process) {
        List<Matcher> grants = process.find(" now leads .*\\(fencing token (\\d+)[,)]");
        assertThat(grants).as(process + " was granted").isNotEmpty();
        return Long.parseLong(grants.get(grants.size() - 1).group(1));
    }

    // --- intervals from the logs

    record Interval(String process, Instant start, Instant end, long token) {}

    /** The elector's own release line (not "… had released the lease", which followers log). */
    static final String RELEASED = " released (Kubernetes Lease|local lease file) ";

    private static final Pattern GRANTED = Pattern.compile(" now leads .*\\(fencing token (\\d+)[,)]");
    private static final Pattern JOB_RUN = Pattern.compile("Job run #(\\d+) (started|finished).*fencing token (\\d+)");

    /** Each process's terms: from "now leads" to "no longer leads", or to the kill. */
    private List<Interval> terms() {
        List<Interval> terms = new ArrayList<>();
        for (SampleProcess process : processes) {
            Instant start = null;
            long token = -1;
            for (SampleProcess.Line line : process.lines) {
                Matcher granted = GRANTED.matcher(line.text());
                if (granted.find()) {
                    start = line.at();
                    token = Long.parseLong(granted.group(1));
                } else if (line.text().contains(" no longer leads ") && start != null) {
                    terms.add(new Interval(process.name, start, line.at(), token));
                    start = null;
                }
            }
            if (start != null) {
                terms.add(new Interval(process.name, start, process.stoppedAt().orElse(Instant.now()), token));
            }
        }
        return terms;
    }

    /** Each process's job runs: from "started" to "finished", or to the kill. */
    private List<Interval> jobRuns() {
        List<Interval> runs = new ArrayList<>();
        for (SampleProcess process : processes) {
            Map<String, SampleProcess.Line> started = new ConcurrentHashMap<>();
            for (SampleProcess.Line line : process.lines) {
                Matcher matcher = JOB_RUN.matcher(line.text());
                if (!matcher.find()) {
                    continue;
                }
                if (matcher.group(2).equals("started")) {
                    started.put(matcher.group(1), line);
                } else {
                    SampleProcess.Line start = started.remove(matcher.group(1));
                    runs.add(new Interval(process.name, start.at(), line.at(), Long.parseLong(matcher.group(3))));
                }
            }
            for (SampleProcess.Line start : started.values()) { // cut short by SIGKILL
                Matcher matcher = JOB_RUN.matcher(start.text());
                matcher.find();
                runs.add(new Interval(
                        process.name,
                        start.at(),
                        process.stoppedAt().orElse(Instant.now()),
                        Long.parseLong(matcher.group(3))));
            }
        }
        return runs;
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
