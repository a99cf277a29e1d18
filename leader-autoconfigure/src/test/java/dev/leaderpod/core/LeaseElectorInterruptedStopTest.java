package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** docs/design.md, "Ordered graceful shutdown", when the thread that stops the elector is interrupted. */
class LeaseElectorInterruptedStopTest {

    private final InMemoryLeaseStore shared = new InMemoryLeaseStore();

    /**
     * A stop on an interrupted thread (an application shutting down) still shuts down in order within its timeout:
     * revocation, release, watch closed; the caller's interrupt is kept (real threads, a private runtime). Before the
     * fix it returned at once, leaving the lease held and the watch open for good.
     */
    @Test
    void aStopOnAnInterruptedThreadStillRevokesReleasesAndClosesTheWatchAndKeepsTheInterrupt() {
        List<String> events = new CopyOnWriteArrayList<>();
        LeaseElector elector = LeaseElector.builder(
                        new ElectionSettings(
                                "orders",
                                "real",
                                Duration.ofSeconds(15),
                                Duration.ofSeconds(10),
                                Duration.ofSeconds(2),
                                null),
                        shared)
                .listener(new LeadershipListener() {
                    @Override
                    public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
                        events.add("revoked:" + reason);
                    }
                })
                .build();
        elector.start();
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> elector.isLeader() && shared.watchCount() == 1);

        Thread.currentThread().interrupt();
        elector.stop(Duration.ofSeconds(5));

        assertThat(Thread.interrupted()).as("the caller's interrupt is kept").isTrue();
        assertThat(elector.isRunning()).isFalse();
        assertThat(events).containsExactly("revoked:SHUTDOWN");
        assertThat(shared.get("orders").orElseThrow().record().isHeld()).isFalse();
        // The watch is closed on an I/O thread (docs/design.md, "No I/O on the thread that ends terms"), which stop
        // does
        // not wait for: it is closed, but maybe only just after stop returned.
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> shared.watchCount() == 0);
    }
}
