package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.PresenceStore;
import dev.leaderpod.core.RevocationReason;
import dev.leaderpod.core.VersionedLease;
import dev.leaderpod.spread.ElectionSpreader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.autoconfigure.availability.ApplicationAvailabilityAutoConfiguration;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.context.support.GenericApplicationContext;

/**
 * {@code leader.follow-readiness} (docs/design.md, "Leadership follows readiness"): replicas (application contexts)
 * sharing one in-memory store; readiness changes are published as Spring Boot publishes them
 * ({@link AvailabilityChangeEvent#publish(ApplicationContext, org.springframework.boot.availability.AvailabilityState)}).
 */
class FollowReadinessTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    /** Two retry periods: long enough for a candidate that would take a free lease to have taken it. */
    private static final Duration A_WHILE = Duration.ofSeconds(1);

    @TempDir
    Path leases;

    private final ReleaseRecordingStore store = new ReleaseRecordingStore();
    private final List<String> timeline = new CopyOnWriteArrayList<>();

    private ApplicationContextRunner replica(String identity) {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(
                        AopAutoConfiguration.class,
                        LeaderElectionAutoConfiguration.class,
                        LeaderOnlyAutoConfiguration.class))
                .withPropertyValues(
                        "spring.application.name=billing",
                        "leader.identity=" + identity,
                        "leader.lease-duration=2s",
                        "leader.renew-deadline=1500ms",
                        "leader.retry-period=500ms")
                .withBean(LeaseStore.class, () -> store)
                .withBean(Timeline.class, () -> new Timeline(timeline, identity))
                .withBean(Work.class);
    }

    @Test
    void aLeaderThatRefusesTrafficHandsOverAndStaysOutUntilItAcceptsTrafficAgain() {
        replica("a")
                .run(a -> replica("b").run(b -> {
                    assertThat(elector(a).isLeader()).isTrue();

                    AvailabilityChangeEvent.publish(a, ReadinessState.REFUSING_TRAFFIC);

                    await().atMost(WAIT).until(() -> elector(b).isLeader());
                    assertThat(elector(a).isLeader()).isFalse();
                    assertThat(timeline).containsSubsequence("a revoked:YIELDED", "a released", "b granted");

                    elector(b).yieldLeadership(); // free for anyone: a stays out while it refuses traffic
                    await().atMost(WAIT)
                            .until(() ->
                                    !store.get("billing").orElseThrow().record().isHeld());
                    await().during(A_WHILE).atMost(WAIT).until(() -> !elector(a).isLeader());

                    AvailabilityChangeEvent.publish(a, ReadinessState.ACCEPTING_TRAFFIC);

                    await().atMost(WAIT).until(() -> elector(a).isLeader());
                }));
    }

    /** Not ready from the start (no SpringApplication says it is ready): never leads, until it accepts traffic. */
    @Test
    void anInstanceThatIsNotReadyYetNeverLeads() {
        replica("a")
                .withConfiguration(AutoConfigurations.of(ApplicationAvailabilityAutoConfiguration.class))
                .run(a -> {
                    await().during(A_WHILE).atMost(WAIT).until(() -> !elector(a).isLeader());
                    assertThat(store.get("billing")).as("not even created").isEmpty();
                    assertThat(elector(a).isRunning()).as("but it follows").isTrue();

                    AvailabilityChangeEvent.publish(a, ReadinessState.ACCEPTING_TRAFFIC);

                    await().atMost(WAIT).until(() -> elector(a).isLeader());
                });
    }

    @Test
    void withFollowReadinessOffReadinessChangesNothing() {
        replica("a")
                .withConfiguration(AutoConfigurations.of(ApplicationAvailabilityAutoConfiguration.class))
                .withPropertyValues("leader.follow-readiness=false")
                .run(a -> replica("b").run(b -> {
                    assertThat(a).doesNotHaveBean(LeaderReadiness.class);
                    assertThat(elector(a).isLeader())
                            .as("leads although not ready")
                            .isTrue();

                    AvailabilityChangeEvent.publish(a, ReadinessState.REFUSING_TRAFFIC);

                    await().during(A_WHILE).atMost(WAIT).until(() -> elector(a).isLeader());
                    assertThat(timeline).doesNotContain("a revoked:YIELDED");
                }));
    }

    /** The only candidate ({@code leader.enabled=false}) leads from the context's start, ready or not. */
    @Test
    void theOnlyCandidateDoesNotFollowReadiness() {
        replica("a")
                .withConfiguration(AutoConfigurations.of(ApplicationAvailabilityAutoConfiguration.class))
                .withPropertyValues("leader.enabled=false")
                .run(a -> {
                    assertThat(a).doesNotHaveBean(LeaderReadiness.class);
                    assertThat(elector(a).isLeader()).isTrue();
                    AvailabilityChangeEvent.publish(a, ReadinessState.REFUSING_TRAFFIC);
                    await().during(A_WHILE).atMost(WAIT).until(() -> elector(a).isLeader());
                });
    }

    /**
     * A @LeaderOnly call running when the leader stops accepting traffic is drained before the release: the other
     * replica leads only once it returned.
     */
    @Test
    void leaderOnlyCallsDrainBeforeTheRelease() {
        replica("a")
                .run(a -> replica("b").run(b -> {
                    CountDownLatch finish = new CountDownLatch(1);
                    CompletableFuture<Boolean> call = CompletableFuture.supplyAsync(
                            () -> a.getBean(Work.class).run(finish));
                    await().atMost(WAIT).until(() -> timeline.contains("a work started"));

                    AvailabilityChangeEvent.publish(a, ReadinessState.REFUSING_TRAFFIC);

                    await().atMost(WAIT).until(() -> !elector(a).isLeader());
                    await().during(A_WHILE).atMost(WAIT).until(() -> !elector(b).isLeader());
                    finish.countDown();
                    assertThat(call.join()).as("the call ran").isTrue();
                    await().atMost(WAIT).until(() -> elector(b).isLeader());
                    assertThat(timeline)
                            .containsSubsequence(
                                    "a work started", "a work ended", "a revoked:YIELDED", "a released", "b granted");
                }));
    }

    /**
     * A web application's context publishes REFUSING_TRAFFIC as it starts to close, right before it closes
     * (ServletWebServerApplicationContext#doClose): the hand-over happens once — one revocation, one release, after
     * the drain — however the readiness hand-over and the ordered stop interleave.
     */
    @Test
    void refusingTrafficRightBeforeTheCloseHandsOverOnceAfterTheDrain() {
        for (int round = 0; round < 5; round++) {
            timeline.clear();
            String leader = "a" + round;
            replica(leader)
                    .run(a -> replica("b").run(b -> {
                        await().atMost(WAIT).until(() -> elector(a).isLeader());
                        CountDownLatch finish = new CountDownLatch(1);
                        CompletableFuture<Boolean> call = CompletableFuture.supplyAsync(
                                () -> a.getBean(Work.class).run(finish));
                        await().atMost(WAIT).until(() -> timeline.contains(leader + " work started"));

                        CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> {
                            AvailabilityChangeEvent.publish(a, ReadinessState.REFUSING_TRAFFIC);
                            a.close();
                        });
                        await().during(Duration.ofMillis(300))
                                .atMost(WAIT)
                                .until(() -> !elector(b).isLeader());
                        finish.countDown();
                        closing.get(10, TimeUnit.SECONDS);
                        await().atMost(WAIT).until(() -> elector(b).isLeader());

                        assertThat(call.join()).isTrue();
                        assertThat(timeline.stream().filter(line -> line.startsWith(leader + " revoked")))
                                .as("revoked once")
                                .hasSize(1);
                        assertThat(timeline.stream().filter(line -> line.equals(leader + " released")))
                                .as("released once")
                                .hasSize(1);
                        String revoked = timeline.stream()
                                .filter(line -> line.startsWith(leader + " revoked"))
                                .findFirst()
                                .orElseThrow();
                        assertThat(timeline)
                                .containsSubsequence(
                                        leader + " work ended", revoked, leader + " released", "b granted");
                        elector(b).stop(Duration.ofSeconds(5)); // the next round's new replica leads at once
                    }));
        }
    }

    /** The readiness of a child context (the management server's) is not the application's. */
    @Test
    void aChildContextRefusingTrafficChangesNothing() {
        replica("a").run(a -> {
            GenericApplicationContext child = new GenericApplicationContext(a.getSourceApplicationContext());
            child.refresh();
            try {
                AvailabilityChangeEvent.publish(child, ReadinessState.REFUSING_TRAFFIC);
                await().during(A_WHILE).atMost(WAIT).until(() -> elector(a).isLeader());
            } finally {
                child.close();
            }
        });
    }

    /** With spreading, the candidate says whether it is ready in its presence, at once when that changes. */
    @Test
    void thePresenceSaysWhetherTheCandidateIsReady() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(
                        LeaderElectionAutoConfiguration.class, ApplicationAvailabilityAutoConfiguration.class))
                .withPropertyValues(
                        "spring.application.name=billing",
                        "leader.identity=a",
                        "leader.store=local",
                        "leader.local.directory=" + leases,
                        "leader.elections.reports.enabled=true",
                        "leader.spread.metadata.version=1.4.2",
                        "leader.lease-duration=2s",
                        "leader.renew-deadline=1500ms",
                        "leader.retry-period=500ms")
                .run(a -> {
                    PresenceStore presence = a.getBean(PresenceStore.class);
                    await().atMost(WAIT)
                            .untilAsserted(() -> assertThat(presence.list())
                                    .singleElement()
                                    .satisfies(announced -> assertThat(announced.metadata())
                                            .isEqualTo(Map.of("version", "1.4.2", ElectionSpreader.READY, "false"))));

                    AvailabilityChangeEvent.publish(a, ReadinessState.ACCEPTING_TRAFFIC);

                    await().atMost(Duration.ofSeconds(5)) // long before the next announcement (30 s)
                            .untilAsserted(() -> assertThat(presence.list())
                                    .singleElement()
                                    .satisfies(announced -> assertThat(announced.metadata())
                                            .containsEntry(ElectionSpreader.READY, "true")));
                    await().atMost(WAIT)
                            .until(() -> a.getBean(LeaderElections.class).electors().values().stream()
                                    .allMatch(LeaseElector::isLeader));
                });
    }

    private static LeaseElector elector(AssertableApplicationContext context) {
        return context.getBean(LeaseElector.class);
    }

    /** Records each release (a write that clears the holder) in the timeline, naming who released. */
    private final class ReleaseRecordingStore extends InMemoryLeaseStore {
        @Override
        public synchronized VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
            String holder = get(name)
                    .map(VersionedLease::record)
                    .filter(LeaseRecord::isHeld)
                    .map(LeaseRecord::holderIdentity)
                    .orElse(null);
            VersionedLease updated = super.update(name, record, expectedVersion);
            if (!record.isHeld() && holder != null) {
                timeline.add(holder + " released");
            }
            return updated;
        }
    }

    /** What one replica's elector tells its listeners, in the shared timeline. */
    record Timeline(List<String> lines, String identity) implements LeadershipListener {
        @Override
        public void onStartedLeading(LeadershipTerm term) {
            lines.add(identity + " granted");
        }

        @Override
        public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
            lines.add(identity + " revoked:" + reason);
        }
    }

    /** Leader-only work that runs until the test lets it finish. */
    static class Work {
        private final Timeline timeline;

        Work(Timeline timeline) {
            this.timeline = timeline;
        }

        @LeaderOnly
        public Boolean run(CountDownLatch finish) {
            timeline.lines().add(timeline.identity() + " work started");
            try {
                finish.await(WAIT.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            timeline.lines().add(timeline.identity() + " work ended");
            return true;
        }
    }
}
