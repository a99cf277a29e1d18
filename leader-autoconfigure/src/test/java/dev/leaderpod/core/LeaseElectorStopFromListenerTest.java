package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * docs/design.md, "Ordered graceful shutdown", when {@code stop()} is called by a listener, on the event thread (an
 * application that closes its context from an {@code OnGrantedEvent} handler, for instance).
 */
class LeaseElectorStopFromListenerTest {

    private final InMemoryLeaseStore shared = new InMemoryLeaseStore();

    /**
     * Before the fix the revocation was queued behind the very callback that was waiting for it: stop() waited its
     * whole timeout, then had no time left to release, and the revocation came after stop() had returned.
     */
    @Test
    void aStopCalledByAListenerRevokesReleasesAndClosesTheWatchBeforeItReturns() {
        List<String> events = new CopyOnWriteArrayList<>();
        AtomicReference<LeaseElector> self = new AtomicReference<>();
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
                    public void onStartedLeading(LeadershipTerm term) {
                        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> shared.watchCount() == 1);
                        self.get().stop(Duration.ofSeconds(3));
                        events.add("stop returned, lease held: "
                                + shared.get("orders").orElseThrow().record().isHeld() + ", watches: "
                                + shared.watchCount());
                    }

                    @Override
                    public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
                        events.add("revoked:" + reason);
                    }
                })
                .build();
        self.set(elector);
        elector.start();

        Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> events.size() == 2);
        assertThat(events).containsExactly("revoked:SHUTDOWN", "stop returned, lease held: false, watches: 0");
        assertThat(elector.isRunning()).isFalse();
    }
}
