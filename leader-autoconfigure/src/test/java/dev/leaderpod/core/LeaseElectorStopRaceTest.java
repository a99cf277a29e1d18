package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * docs/design.md, "Ordered graceful shutdown", when {@code stop()} runs while the election thread starts a term: the
 * write that won the term was answered just before the stop. On real threads (a stop runs on its caller's thread,
 * concurrently with the election thread), made deterministic by a seam of the elector: the election thread is held at
 * one point of the term's start until the stopping thread can go no further without it.
 */
class LeaseElectorStopRaceTest {

    private static final Set<Thread.State> STUCK =
            Set.of(Thread.State.BLOCKED, Thread.State.WAITING, Thread.State.TIMED_WAITING);

    private final InMemoryLeaseStore store = new InMemoryLeaseStore();
    private final List<String> events = new CopyOnWriteArrayList<>();

    /**
     * The election was found running, but the term is made current only after {@code stop()} took the current term
     * (none) and stopped the loop: the term is revoked by the stop's second step (its "late" term), after it was
     * announced, and the lease is released. Without that, the term would end without {@code onStoppedLeading}: the
     * {@code @LeaderOnly} lifecycle beans it started would never be stopped.
     */
    @Test
    void aTermMadeCurrentAfterStopTookTheTermIsAnnouncedThenRevokedAndTheLeaseReleased() throws Exception {
        stopWhileATermStarts(false);
    }

    /**
     * The term is current, not yet announced, when {@code stop()} takes it: the revocation comes after the grant all
     * the same. Before the fix the stop queued its revocation first and the grant came after it, once the stop was
     * over: listeners were told of a term after its end (the {@code @LeaderOnly} beans started and never stopped, the
     * pod labelled leader after its shutdown).
     */
    @Test
    void aTermTakenByStopBeforeItWasAnnouncedIsAnnouncedThenRevokedAndTheLeaseReleased() throws Exception {
        stopWhileATermStarts(true);
    }

    private void stopWhileATermStarts(boolean whenCurrent) throws Exception {
        AtomicReference<LeaseElector> self = new AtomicReference<>();
        AtomicReference<Thread> stopper = new AtomicReference<>();
        LeaseElector elector = LeaseElector.builder(
                        new ElectionSettings(
                                "orders",
                                "a",
                                Duration.ofSeconds(15),
                                Duration.ofSeconds(10),
                                Duration.ofSeconds(2),
                                null),
                        store)
                .watch(false)
                .listener(new LeadershipListener() {
                    @Override
                    public void onStartedLeading(LeadershipTerm term) {
                        events.add("granted:" + term.fencingToken());
                    }

                    @Override
                    public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
                        events.add("revoked:" + reason);
                    }
                })
                .termStartSeam(current -> {
                    if (current != whenCurrent) {
                        return;
                    }
                    Thread stopping = new Thread(() -> self.get().stop(Duration.ofSeconds(10)), "stopper");
                    stopper.set(stopping);
                    stopping.start();
                    // Until stop() waits (for this thread, or the event thread) or is blocked: it has gone as far as it
                    // can while this thread is held.
                    await().atMost(Duration.ofSeconds(10))
                            .pollInterval(Duration.ofMillis(1))
                            .until(() -> STUCK.contains(stopping.getState()));
                })
                .build();
        self.set(elector);

        elector.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> stopper.get() != null);
        stopper.get().join(Duration.ofSeconds(20).toMillis());

        assertThat(stopper.get().isAlive()).as("stop() returned").isFalse();
        assertThat(events).containsExactly("granted:0", "revoked:SHUTDOWN");
        assertThat(elector.isLeader()).isFalse();
        assertThat(store.get("orders").orElseThrow().record().isHeld())
                .as("released")
                .isFalse();
    }
}
