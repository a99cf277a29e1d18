package dev.leaderpod.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.store.local.FileLeaseStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample in one JVM on the local store: what the leader and a follower show and do, in the default election and
 * in the named ones ({@code billing}, {@code cleanup}, {@code index}).
 */
class SampleApplicationTest {

    private static final List<String> NAMED = List.of("billing", "cleanup", "index");

    @TempDir
    Path leases;

    private final List<RunningApp> apps = new ArrayList<>();

    @AfterEach
    void closeAll() {
        apps.forEach(RunningApp::close);
    }

    @Test
    void leaderRunsTheJobWithItsFencingTokenAndSaysSo() {
        RunningApp app = start();
        // A fresh lease directory: the first election waits out the missing lease for one lease duration.
        await().atMost(RunningApp.FAST_FIRST_ELECTION.plusSeconds(5))
                .until(() -> app.status().at("/work/jobRuns").asLong() >= 2);

        JsonNode status = app.status();
        String identity = status.at("/self/identity").asText();
        assertThat(status.at("/self/leader").asBoolean()).isTrue();
        assertThat(status.at("/leader/identity").asText()).isEqualTo(identity);
        assertThat(status.at("/leader/self").asBoolean()).isTrue();
        assertThat(status.at("/leader/fencingToken").asLong()).isZero();
        assertThat(status.at("/timing/sinceLastRenewMillis").asLong()).isBetween(0L, 2000L);
        assertThat(status.at("/store").asText()).contains(leases.toString());
        assertThat(status.at("/election/state").asText()).isEqualTo("leading");
        assertThat(kinds(status)).contains("GRANTED", "WORKER", "JOB");
        JsonNode job = first(status, "JOB");
        assertThat(job.at("/fencingToken").asLong()).isZero();
        assertThat(job.at("/durationMillis").asLong()).isGreaterThanOrEqualTo(50);
        // The @LeaderOnly SmartLifecycle worker was started by the grant, under the term.
        JsonNode worker = first(status, "WORKER");
        assertThat(worker.at("/text").asText()).isEqualTo("Leader-only worker started");
        assertThat(worker.at("/fencingToken").asLong()).isZero();
        assertThat(status.at("/work/workerRunning").asBoolean()).isTrue();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> app.status().at("/work/heartbeats").asLong() > 0);

        assertThat(app.get("/api/summary").body())
                .isEqualTo("leader " + identity + " " + identity + " 0 "
                        + ProcessHandle.current().pid() + " " + app.port + " leading\n");
        assertThat(app.get("/actuator/health/leader-only").statusCode()).isEqualTo(200);
        // What the starter's dependency set would add unasked is kept out (README, "What the starter adds").
        assertThat(app.json("/actuator/health").at("/components").fieldNames())
                .toIterable()
                .contains("leader")
                .doesNotContain("discoveryComposite", "refreshScope");
        assertThat(app.get("/").body()).contains("<title>Leader Election Pod</title>");

        assertThat(app.get("/actuator/metrics").statusCode()).isEqualTo(200);
        assertThat(app.get("/actuator/prometheus").statusCode()).isEqualTo(200);
        assertThat(app.get("/actuator/info").statusCode()).isEqualTo(200);
        assertThat(app.json("/actuator").at("/_links").fieldNames())
                .toIterable()
                .contains("health", "info", "metrics", "prometheus");
    }

    /**
     * The creator of a missing lease holds it for one lease duration before it leads: a deleted lease's holder may
     * still lead, and the store cannot tell a deleted lease from one that never existed. So the very first election
     * of a fresh lease directory takes one lease duration, and meanwhile the page says why nobody leads.
     */
    @Test
    void firstElectionOfAFreshLeaseWaitsOneLeaseDurationAndThePageSaysWhy() {
        Duration lease = Duration.ofSeconds(6); // long enough to look at the page during the wait, even when slow
        long before = System.nanoTime(); // the elector starts after this: its wait cannot end sooner than lease
        RunningApp app = start(
                "leader.lease-duration=" + lease.toSeconds() + "s",
                "leader.renew-deadline=4s",
                "leader.retry-period=1s");

        String identity = app.status().at("/self/identity").asText();
        while (System.nanoTime() - before < lease.minusSeconds(1).toNanos()) { // a second's margin for slow calls
            JsonNode status = app.status();
            assertThat(status.at("/self/leader").asBoolean())
                    .as("leads before the lease duration")
                    .isFalse();
            assertThat(status.at("/election/state").asText()).isIn("absent", "holding");
            assertThat(status.at("/election/detail").asText()).contains("for one lease duration (6.0 s)");
            assertThat(app.get("/api/summary").body()).startsWith("follower " + identity + " ");
            sleep(Duration.ofMillis(300));
        }
        await().atMost(Duration.ofSeconds(15))
                .until(() -> app.status().at("/self/leader").asBoolean());
        assertThat(Duration.ofNanos(System.nanoTime() - before)).isGreaterThanOrEqualTo(lease);
        assertThat(app.status().at("/election/state").asText()).isEqualTo("leading");
    }

    @Test
    void followerShowsTheLeaderAndStaysHealthyAndReady() throws Exception {
        FileLeaseStore store = new FileLeaseStore(leases);
        Instant now = Instant.now();
        store.create("leaderpod-sample", new LeaseRecord("elsewhere-1", Duration.ofSeconds(60), now, now, 7L));
        store.create("leaderpod-sample-billing", new LeaseRecord("elsewhere-2", Duration.ofSeconds(60), now, now, 4L));
        RunningApp app = start();
        await().atMost(Duration.ofSeconds(10))
                .until(() ->
                        "elsewhere-1".equals(app.status().at("/leader/identity").asText()));

        JsonNode status = app.status();
        assertThat(status.at("/self/leader").asBoolean()).isFalse();
        assertThat(status.at("/leader/self").asBoolean()).isFalse();
        assertThat(status.at("/leader/fencingToken").asLong()).isEqualTo(7);
        assertThat(status.at("/election/state").asText()).isEqualTo("following");
        assertThat(status.at("/election/detail").asText()).startsWith("elsewhere-1 leads;");
        assertThat(status.at("/timing/sinceLastRenewMillis").isNull()).isTrue();
        assertThat(status.at("/timing/sinceObservedChangeMillis").asLong()).isGreaterThanOrEqualTo(0);
        assertThat(first(status, "LEADER").at("/text").asText()).isEqualTo("elsewhere-1 leads");
        assertThat(app.get("/api/summary").body())
                .startsWith("follower " + status.at("/self/identity").asText() + " elsewhere-1 7 ");

        // Health and readiness do not depend on leadership; only the leader-only group does.
        assertThat(app.get("/actuator/health").statusCode()).isEqualTo(200);
        assertThat(app.json("/actuator/health").at("/status").asText()).isEqualTo("UP");
        assertThat(app.get("/actuator/health/readiness").statusCode()).isEqualTo(200);
        assertThat(app.get("/actuator/health/liveness").statusCode()).isEqualTo(200);
        assertThat(app.get("/actuator/health/leader-only").statusCode()).isEqualTo(503);
        assertThat(app.json("/actuator/health/leader-only").at("/status").asText())
                .isEqualTo("NOT_LEADER");

        // The job never runs here: several intervals pass without a run.
        await().during(Duration.ofMillis(1000))
                .atMost(Duration.ofSeconds(3))
                .until(() -> app.status().at("/work/jobRuns").asLong() == 0
                        && app.status().at("/work/heartbeats").asLong() == 0);

        // Each election is on its own: following the default one and billing, this instance leads cleanup and index
        // (once their missing leases are waited out) and runs their jobs, never billing's.
        String identity = status.at("/self/identity").asText();
        await().atMost(RunningApp.FAST_FIRST_ELECTION)
                .until(() -> row(app.status(), "cleanup").at("/jobRuns").asLong() > 0
                        && row(app.status(), "index").at("/jobRuns").asLong() > 0);
        JsonNode elections = app.status();
        JsonNode billing = row(elections, "billing");
        assertThat(billing.at("/holder").asText()).isEqualTo("elsewhere-2");
        assertThat(billing.at("/fencingToken").asLong()).isEqualTo(4);
        assertThat(billing.at("/leader").asBoolean()).isFalse();
        assertThat(billing.at("/state").asText()).isEqualTo("following");
        assertThat(billing.at("/jobRuns").asLong()).isZero();
        assertThat(row(elections, "").at("/holder").asText()).isEqualTo("elsewhere-1");
        for (String named : List.of("cleanup", "index")) {
            assertThat(row(elections, named).at("/leader").asBoolean())
                    .as(named)
                    .isTrue();
            assertThat(row(elections, named).at("/holder").asText()).as(named).isEqualTo(identity);
        }
        assertThat(elections.at("/spreading/share").asInt()).isEqualTo(2);
        assertThat(app.get("/actuator/health/leader-only").statusCode())
                .as("the leader-only health group follows the default election")
                .isEqualTo(503);
        assertThat(first(elections, "GRANTED", "cleanup").at("/text").asText())
                .isEqualTo("This instance leads cleanup");
        assertThat(elections.at("/timeline").findValuesAsText("election")).doesNotContain("billing");
    }

    /**
     * Besides the default election, the three named jobs each follow an election of their own, on the lease
     * {@code leaderpod-sample-<name>}. Alone, this instance leads all four and runs each job under its own election's
     * fencing token; the page's elections table, {@code /api/elections} and the actuator endpoint list every election.
     */
    @Test
    void namedJobsRunUnderTheirOwnElectionsAndEveryElectionIsListed() {
        RunningApp app = start();
        await().atMost(RunningApp.FAST_FIRST_ELECTION.plusSeconds(5)).until(() -> {
            JsonNode status = app.status();
            return NAMED.stream()
                            .allMatch(name -> row(status, name).at("/jobRuns").asLong() >= 2)
                    && row(status, "").at("/leader").asBoolean();
        });

        JsonNode status = app.status();
        String identity = status.at("/self/identity").asText();
        List<String> names = new ArrayList<>();
        status.at("/elections").forEach(row -> names.add(row.at("/name").asText()));
        assertThat(names).containsExactly("", "billing", "cleanup", "index");
        for (JsonNode row : status.at("/elections")) {
            String name = row.at("/name").asText();
            assertThat(row.at("/lease").asText())
                    .isEqualTo(name.isEmpty() ? "leaderpod-sample" : "leaderpod-sample-" + name);
            assertThat(row.at("/candidate").asBoolean()).as(name).isTrue();
            assertThat(row.at("/leader").asBoolean()).as(name).isTrue();
            assertThat(row.at("/holder").asText()).as(name).isEqualTo(identity);
            assertThat(row.at("/fencingToken").asLong()).as(name).isZero();
            assertThat(row.at("/state").asText()).as(name).isEqualTo("leading");
        }
        for (String name : NAMED) {
            // Each job reported its runs under its own election, stamped with that election's token.
            JsonNode run = first(status, "JOB", name);
            assertThat(run.at("/text").asText()).startsWith(name + " run #");
            assertThat(run.at("/fencingToken").asLong()).isZero();
            assertThat(first(status, "GRANTED", name).at("/text").asText()).isEqualTo("This instance leads " + name);
        }
        assertThat(status.at("/spreading/share").asInt()).isEqualTo(4);
        await().atMost(Duration.ofSeconds(5)) // the spreader counts once per retry period
                .untilAsserted(
                        () -> assertThat(app.status().at("/spreading/shares")).hasToString("{\"" + identity + "\":4}"));

        assertThat(app.get("/api/elections").body())
                .isEqualTo("election - leaderpod-sample " + identity + " 0 leader\n"
                        + "election billing leaderpod-sample-billing " + identity + " 0 leader\n"
                        + "election cleanup leaderpod-sample-cleanup " + identity + " 0 leader\n"
                        + "election index leaderpod-sample-index " + identity + " 0 leader\n"
                        + "spreading " + (status.at("/spreading/active").asBoolean() ? "on" : "off") + " "
                        + identity + "=4\n");
        assertThat(Set.copyOf(fieldNames(app.json("/actuator/leader").at("/elections"))))
                .isEqualTo(Set.copyOf(NAMED));
    }

    /** Starts the sample with {@link RunningApp#localFast} properties, {@code overrides} replacing some of them. */
    private RunningApp start(String... overrides) {
        List<String> properties = new ArrayList<>(List.of(RunningApp.localFast(leases)));
        for (String override : overrides) {
            String key = override.substring(0, override.indexOf('=') + 1);
            properties.removeIf(property -> property.startsWith(key));
            properties.add(override);
        }
        RunningApp app = RunningApp.start(properties.toArray(String[]::new));
        apps.add(app);
        return app;
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static List<String> kinds(JsonNode status) {
        List<String> kinds = new ArrayList<>();
        status.at("/timeline").forEach(entry -> kinds.add(entry.at("/kind").asText()));
        return kinds;
    }

    /** The newest timeline entry of {@code kind} in the default election. */
    private static JsonNode first(JsonNode status, String kind) {
        return first(status, kind, "");
    }

    /** The newest timeline entry of {@code kind} in {@code election}. */
    private static JsonNode first(JsonNode status, String kind, String election) {
        for (JsonNode entry : status.at("/timeline")) {
            if (entry.at("/kind").asText().equals(kind)
                    && entry.at("/election").asText().equals(election)) {
                return entry;
            }
        }
        throw new AssertionError("no " + kind + " entry of '" + election + "' in " + status.at("/timeline"));
    }

    /** The row of {@code election} in the page's elections table ({@code ""}: the default election). */
    private static JsonNode row(JsonNode status, String election) {
        for (JsonNode row : status.at("/elections")) {
            if (row.at("/name").asText().equals(election)) {
                return row;
            }
        }
        throw new AssertionError("no election '" + election + "' in " + status.at("/elections"));
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
