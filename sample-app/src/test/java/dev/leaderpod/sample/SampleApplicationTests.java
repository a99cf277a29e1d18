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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sample in one JVM on the local store: what the leader and a follower show and do. */
class SampleApplicationTests {

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
        await().atMost(Duration.ofSeconds(20))
                .until(() -> app.status().at("/work/jobRuns").asLong() >= 2);

        JsonNode status = app.status();
        String identity = status.at("/self/identity").asText();
        assertThat(status.at("/self/leader").asBoolean()).isTrue();
        assertThat(status.at("/leader/identity").asText()).isEqualTo(identity);
        assertThat(status.at("/leader/self").asBoolean()).isTrue();
        assertThat(status.at("/leader/fencingToken").asLong()).isZero();
        assertThat(status.at("/timing/sinceLastRenewMillis").asLong()).isBetween(0L, 2000L);
        assertThat(status.at("/store").asText()).contains(leases.toString());
        assertThat(kinds(status)).contains("GRANTED", "JOB");
        JsonNode job = first(status, "JOB");
        assertThat(job.at("/fencingToken").asLong()).isZero();
        assertThat(job.at("/durationMillis").asLong()).isGreaterThanOrEqualTo(50);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> app.status().at("/work/heartbeats").asLong() > 0);

        assertThat(app.get("/api/summary").body())
                .isEqualTo("leader " + identity + " " + identity + " 0 "
                        + ProcessHandle.current().pid() + " " + app.port + "\n");
        assertThat(app.get("/actuator/health/leader-only").statusCode()).isEqualTo(200);
        assertThat(app.get("/").body()).contains("<title>Leader Election Pod</title>");

        assertThat(app.get("/actuator/metrics").statusCode()).isEqualTo(200);
        assertThat(app.get("/actuator/prometheus").statusCode()).isEqualTo(200);
        assertThat(app.get("/actuator/info").statusCode()).isEqualTo(200);
        assertThat(app.json("/actuator").at("/_links").fieldNames())
                .toIterable()
                .contains("health", "info", "metrics", "prometheus");
    }

    @Test
    void followerShowsTheLeaderAndStaysHealthyAndReady() throws Exception {
        FileLeaseStore store = new FileLeaseStore(leases);
        Instant now = Instant.now();
        store.create("leaderpod-sample", new LeaseRecord("elsewhere-1", Duration.ofSeconds(60), now, now, 7L));
        RunningApp app = start();
        await().atMost(Duration.ofSeconds(10))
                .until(() ->
                        "elsewhere-1".equals(app.status().at("/leader/identity").asText()));

        JsonNode status = app.status();
        assertThat(status.at("/self/leader").asBoolean()).isFalse();
        assertThat(status.at("/leader/self").asBoolean()).isFalse();
        assertThat(status.at("/leader/fencingToken").asLong()).isEqualTo(7);
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
    }

    private RunningApp start(String... extra) {
        List<String> properties = new ArrayList<>(List.of(RunningApp.localFast(leases)));
        properties.addAll(List.of(extra));
        RunningApp app = RunningApp.start(properties.toArray(String[]::new));
        apps.add(app);
        return app;
    }

    private static List<String> kinds(JsonNode status) {
        List<String> kinds = new ArrayList<>();
        status.at("/timeline").forEach(entry -> kinds.add(entry.at("/kind").asText()));
        return kinds;
    }

    private static JsonNode first(JsonNode status, String kind) {
        for (JsonNode entry : status.at("/timeline")) {
            if (entry.at("/kind").asText().equals(kind)) {
                return entry;
            }
        }
        throw new AssertionError("no " + kind + " entry in " + status.at("/timeline"));
    }
}
