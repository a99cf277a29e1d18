package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.RevocationReason;
import dev.leaderpod.leaderonly.InFlightCalls;
import dev.leaderpod.leaderonly.LeaderOnlyLeadershipListener;
import dev.leaderpod.leaderonly.LeaderOnlyLeadershipListener.GatedLifecycle;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.Lifecycle;

/**
 * The listener the elector calls, fanning out to every listener bean: one listener's failure, whatever it throws,
 * must not keep the others from their callback, least of all the {@code @LeaderOnly} listener that ends the term's
 * work before {@code OnRevokedEvent} ("Ordered graceful shutdown" in the design notes).
 */
@ExtendWith(OutputCaptureExtension.class)
class CompositeLeadershipListenerTest {

    private static final LeadershipTerm TERM = new LeadershipTerm("orders", "me", 3, Instant.EPOCH);

    private final List<String> events = new CopyOnWriteArrayList<>();

    @Test
    void anErrorFromOneListenerDoesNotSkipTheLeaderOnlyListenerOrTheListenersAfterIt(CapturedOutput output) {
        Lifecycle reports = new RunningLifecycle("reports");
        LeaderOnlyLeadershipListener leaderOnly = new LeaderOnlyLeadershipListener(
                new InFlightCalls(), term -> List.of(new GatedLifecycle("reports", reports)), Duration.ofSeconds(10));
        CompositeLeadershipListener composite =
                composite(failing("broken", new AssertionError("listener bug")), leaderOnly, recording("publisher"));

        assertThatCode(() -> composite.onStoppedLeading(TERM, RevocationReason.LOST))
                .doesNotThrowAnyException();

        assertThat(events).containsExactly("broken", "reports stopped", "publisher onStoppedLeading 3 LOST");
        assertThat(reports.isRunning()).isFalse();
        assertThat(output)
                .contains("ERROR")
                .contains("Leadership listener broken failed in onStoppedLeading")
                .contains("java.lang.AssertionError: listener bug");
    }

    @Test
    void everyCallbackReachesEveryListenerWhateverAnEarlierOneThrows(CapturedOutput output) {
        CompositeLeadershipListener composite = composite(
                failing("missing-class", new NoClassDefFoundError("com/example/Gone")),
                failing("bug", new IllegalStateException("listener bug")),
                recording("last"));

        composite.onStartedLeading(TERM);
        composite.onNewLeader("other", 4);
        composite.onNewLeader(null, 5);

        assertThat(events)
                .containsExactly(
                        "missing-class",
                        "bug",
                        "last onStartedLeading 3",
                        "missing-class",
                        "bug",
                        "last onNewLeader other 4",
                        "missing-class",
                        "bug",
                        "last onNewLeader null 5");
        assertThat(output)
                .contains("Leadership listener missing-class failed in onStartedLeading")
                .contains("java.lang.NoClassDefFoundError: com/example/Gone")
                .contains("Leadership listener bug failed in onNewLeader");
    }

    @Test
    void aVirtualMachineErrorIsRethrownOnlyOnceEveryListenerRan(CapturedOutput output) {
        StackOverflowError first = new StackOverflowError("first");
        CompositeLeadershipListener composite = composite(
                failing("deep", first),
                recording("middle"),
                failing("hungry", new OutOfMemoryError("second")),
                recording("last"));

        assertThatThrownBy(() -> composite.onStoppedLeading(TERM, RevocationReason.SHUTDOWN))
                .isSameAs(first);

        assertThat(events)
                .containsExactly(
                        "deep", "middle onStoppedLeading 3 SHUTDOWN", "hungry", "last onStoppedLeading 3 SHUTDOWN");
        assertThat(output)
                .contains("Leadership listener deep failed in onStoppedLeading")
                .contains("Leadership listener hungry failed in onStoppedLeading");
    }

    @Test
    void listenersAreLookedUpAtTheFirstEventAndOnlyThen() {
        AtomicInteger lookups = new AtomicInteger();
        LeadershipListener only = recording("only");
        CompositeLeadershipListener composite = new CompositeLeadershipListener(new ObjectProvider<>() {
            @Override
            public Stream<LeadershipListener> orderedStream() {
                lookups.incrementAndGet();
                return Stream.of(only);
            }
        });
        assertThat(lookups).hasValue(0);

        composite.onNewLeader("me", 3);
        composite.onStartedLeading(TERM);
        composite.onStoppedLeading(TERM, RevocationReason.RELEASED);

        assertThat(lookups).hasValue(1);
        assertThat(events)
                .containsExactly(
                        "only onNewLeader me 3", "only onStartedLeading 3", "only onStoppedLeading 3 RELEASED");
    }

    private static CompositeLeadershipListener composite(LeadershipListener... listeners) {
        return new CompositeLeadershipListener(new ObjectProvider<>() {
            @Override
            public Stream<LeadershipListener> orderedStream() {
                return Stream.of(listeners);
            }
        });
    }

    /** Throws {@code failure} from every callback, after recording that it was called. */
    private LeadershipListener failing(String name, Throwable failure) {
        return new LeadershipListener() {
            @Override
            public void onStartedLeading(LeadershipTerm term) {
                fail();
            }

            @Override
            public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
                fail();
            }

            @Override
            public void onNewLeader(String holderIdentity, long leaseTransitions) {
                fail();
            }

            private void fail() {
                events.add(name);
                if (failure instanceof RuntimeException runtime) {
                    throw runtime;
                }
                throw (Error) failure;
            }

            @Override
            public String toString() {
                return name;
            }
        };
    }

    private LeadershipListener recording(String name) {
        return new LeadershipListener() {
            @Override
            public void onStartedLeading(LeadershipTerm term) {
                events.add(name + " onStartedLeading " + term.fencingToken());
            }

            @Override
            public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
                events.add(name + " onStoppedLeading " + term.fencingToken() + " " + reason);
            }

            @Override
            public void onNewLeader(String holderIdentity, long leaseTransitions) {
                events.add(name + " onNewLeader " + holderIdentity + " " + leaseTransitions);
            }

            @Override
            public String toString() {
                return name;
            }
        };
    }

    /** A plain lifecycle bean, running since the term started. */
    private final class RunningLifecycle implements Lifecycle {
        private final String name;
        private volatile boolean running = true;

        RunningLifecycle(String name) {
            this.name = name;
        }

        @Override
        public void start() {
            running = true;
        }

        @Override
        public void stop() {
            events.add(name + " stopped");
            running = false;
        }

        @Override
        public boolean isRunning() {
            return running;
        }
    }
}
