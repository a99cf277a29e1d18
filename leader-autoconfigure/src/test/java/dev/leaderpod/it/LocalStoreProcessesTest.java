package dev.leaderpod.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three candidates in separate JVMs elect among themselves through the local lease file. SIGKILL of the leader
 * (no release): another leads after about the lease duration, never before. SIGTERM (graceful): the lease is
 * released and the last candidate, which watches the lease file, leads at once.
 */
@Tag("slow")
class LocalStoreProcessesTest {

    private static final long LEASE_MILLIS = 3000;
    private static final long RETRY_MILLIS = 500;

    @TempDir
    Path leases;

    private final List<CandidateProcess> processes = new ArrayList<>();

    @AfterEach
    void killAll() {
        processes.forEach(CandidateProcess::close);
    }

    @Test
    void exactlyOneLeaderAndFailoverAfterSigkillAndSigterm() throws Exception {
        for (String id : List.of("p1", "p2", "p3")) {
            processes.add(CandidateProcess.start(
                    id,
                    leases,
                    "spring.application.name=jobs",
                    "leader.store=local",
                    "leader.local.directory=" + leases,
                    "leader.lease-duration=3s",
                    "leader.renew-deadline=2s",
                    "leader.retry-period=500ms"));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> processes.stream().allMatch(p -> p.has("started")));
        await().atMost(Duration.ofSeconds(10)).until(() -> leaders().size() == 1);
        await().during(Duration.ofMillis(4 * RETRY_MILLIS)) // a steady state: still exactly one
                .atMost(Duration.ofSeconds(5))
                .until(() -> leaders().size() == 1);

        // SIGKILL: no release; the others wait out the lease from when they last saw it change.
        CandidateProcess first = leaders().get(0);
        long killedAt = System.currentTimeMillis();
        first.process.destroyForcibly().waitFor();
        await().atMost(Duration.ofSeconds(15)).until(() -> leaders().size() == 1);
        CandidateProcess second = leaders().get(0);
        long takeover = second.last("granted").atMillis() - killedAt;
        assertThat(takeover)
                .as("take-over after SIGKILL, ms")
                .isGreaterThanOrEqualTo(LEASE_MILLIS - RETRY_MILLIS)
                .isLessThan(LEASE_MILLIS + 4 * RETRY_MILLIS + 2000);
        assertThat(Long.parseLong(second.last("granted").detail()))
                .isGreaterThan(Long.parseLong(first.last("granted").detail()));

        // SIGTERM: graceful, the lease is released; the last candidate sees it through its watch and leads.
        long terminatedAt = System.currentTimeMillis();
        second.terminate();
        await().atMost(Duration.ofSeconds(10)).until(() -> leaders().size() == 1);
        CandidateProcess third = leaders().get(0);
        await().atMost(Duration.ofSeconds(5)) // its output may still be in flight
                .untilAsserted(() -> assertThat(second.last("revoked")).isNotNull());
        assertThat(second.last("revoked").detail()).isEqualTo("SHUTDOWN");
        long handover = third.last("granted").atMillis() - terminatedAt;
        assertThat(handover).as("hand-over after SIGTERM, ms").isLessThan(LEASE_MILLIS);
        System.out.printf("local store: SIGKILL take-over %d ms, SIGTERM hand-over %d ms%n", takeover, handover);
    }

    private List<CandidateProcess> leaders() {
        return processes.stream().filter(CandidateProcess::leads).toList();
    }
}
