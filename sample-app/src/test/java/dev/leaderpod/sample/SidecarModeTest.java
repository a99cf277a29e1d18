package dev.leaderpod.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.autoconfigure.LeaderElections;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.sample.jobs.HeartbeatWorker;
import dev.leaderpod.sample.jobs.ReportJob;
import dev.leaderpod.store.local.FileLeaseStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code sidecar} profile answers {@code GET /} like the classic leader-elector sidecar. */
class SidecarModeTest {

    @TempDir
    Path leases;

    private RunningApp sidecar(String... extra) {
        String[] base = {
            "spring.profiles.active=sidecar",
            "management.server.port=0",
            "leader.store=local",
            "leader.local.directory=" + leases,
            "leader.lease-name=my-election",
            "leader.lease-duration=3s",
            "leader.renew-deadline=2s",
            "leader.retry-period=500ms",
            "POD_NAME=worker-5d8f-abcde"
        };
        return RunningApp.start(
                Stream.concat(Arrays.stream(base), Arrays.stream(extra)).toArray(String[]::new));
    }

    @Test
    void answersWithTheLeadersNameThenWithItsOwnPodNameOnceItLeads() {
        Instant now = Instant.now();
        new FileLeaseStore(leases)
                .create("my-election", new LeaseRecord("worker-5d8f-zzzzz", Duration.ofSeconds(3), now, now, 2L));
        try (RunningApp app = sidecar()) {
            // Another pod holds the lease: its name. Nobody renews it, so this sidecar takes over after 3 s.
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> app.get("/").body().equals("{\"name\":\"worker-5d8f-zzzzz\"}"));
            await().atMost(Duration.ofSeconds(15))
                    .until(() -> app.get("/").body().equals("{\"name\":\"worker-5d8f-abcde\"}"));
            assertThat(app.get("/").headers().firstValue("Content-Type"))
                    .hasValueSatisfying(type -> assertThat(type).startsWith("application/json"));
            // No demo job or worker in a sidecar, so no named election either: only the sidecar's own.
            assertThat(app.context.getBeanNamesForType(ReportJob.class)).isEmpty();
            assertThat(app.context.getBeanNamesForType(HeartbeatWorker.class)).isEmpty();
            assertThat(app.context.getBean(LeaderElections.class).names()).containsExactly(LeaderElections.DEFAULT);
        }
    }
}
