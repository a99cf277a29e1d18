package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.annotation.LeaderOnly.OnFollower;
import dev.leaderpod.annotation.LeaderOnlyContext;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.Leadership;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.RevocationReason;
import dev.leaderpod.events.LeaderContext;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;
import org.springframework.integration.leader.event.AbstractLeaderEvent;
import org.springframework.integration.leader.event.OnGrantedEvent;
import org.springframework.integration.leader.event.OnRevokedEvent;
import org.springframework.integration.support.SmartLifecycleRoleController;

/**
 * {@code leader.enabled=false}: this instance is the only candidate. Every API the README documents keeps working
 * as on a leader: the {@code Leadership} and {@code LeaderElections} beans lead, with one term from the context's
 * start; {@code @LeaderOnly} methods run with their term in {@code LeaderOnlyContext}; lifecycle beans start;
 * {@code OnGrantedEvent} is published once, so {@code @Role} endpoints run; listeners hear the grant.
 */
class LeaderDisabledTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    AopAutoConfiguration.class,
                    LeaderElectionAutoConfiguration.class,
                    LeaderOnlyAutoConfiguration.class))
            .withPropertyValues("spring.application.name=billing", "leader.enabled=false", "leader.identity=me");

    @Test
    void theLeadershipBeanLeadsAsSoonAsTheContextHasStarted() {
        contextRunner.run(context -> {
            Leadership leadership = context.getBean(Leadership.class);

            assertThat(leadership.isLeader()).isTrue();
            LeadershipTerm term = leadership.currentTerm().orElseThrow();
            assertThat(term.leaseName()).isEqualTo("billing");
            assertThat(term.identity()).isEqualTo("me");
            assertThat(term.fencingToken()).isZero();
            assertThat(context.getBean(LeaseElector.class).isCurrent(term)).isTrue();
        });
    }

    @Test
    void theTermStaysTheSameAcrossRenewals() {
        contextRunner
                .withPropertyValues("leader.lease-duration=2s", "leader.renew-deadline=1s", "leader.retry-period=300ms")
                .run(context -> {
                    LeaseElector elector = context.getBean(LeaseElector.class);
                    LeadershipTerm term = elector.currentTerm().orElseThrow();
                    InMemoryLeaseStore store = (InMemoryLeaseStore) context.getBean(LeaseStore.class);
                    String version = store.get("billing").orElseThrow().version();

                    // Three renews later (three retry periods: a whole renew deadline and more) it is the same term.
                    await().atMost(WAIT)
                            .until(() -> Long.parseLong(
                                            store.get("billing").orElseThrow().version())
                                    >= Long.parseLong(version) + 3);
                    assertThat(elector.isCurrent(term)).isTrue();
                });
    }

    @Test
    void theOnlyCandidateUsesAnInMemoryLeaseOfItsOwnNotTheApplicationsStore() {
        InMemoryLeaseStore shared = new InMemoryLeaseStore();
        contextRunner.withBean(LeaseStore.class, () -> shared).run(context -> {
            assertThat(context.getBean(Leadership.class).isLeader()).isTrue();
            assertThat(shared.get("billing")).isEmpty();
        });
    }

    @Test
    void leaderOnlyMethodsRunWithTheirTermInTheContext() {
        contextRunner
                .withBean(PriceJob.class)
                .withPropertyValues("leader.elections.reports.enabled=true")
                .run(context -> {
                    PriceJob job = context.getBean(PriceJob.class);

                    assertThat(job.publishPrices()).isEqualTo(0L);
                    assertThat(job.identity()).isEqualTo("me");
                    assertThat(job.report().leaseName()).isEqualTo("billing-reports");
                    assertThat(job.report().fencingToken()).isZero();
                });
    }

    @Test
    void leaderOnlyLifecycleBeansStart() {
        contextRunner.withBean(Worker.class).run(context -> {
            Worker worker = context.getBean(Worker.class);
            await().atMost(WAIT).until(worker::isRunning);
        });
    }

    @Test
    void theElectionsBeanLeadsEveryElection() {
        contextRunner
                .withPropertyValues("leader.elections.reports.enabled=true")
                .run(context -> {
                    LeaderElections elections = context.getBean(LeaderElections.class);

                    assertThat(elections.names()).containsExactly("", "reports");
                    assertThat(elections.election("").isLeader()).isTrue();
                    assertThat(elections.election("reports").isLeader()).isTrue();
                    assertThat(elections.electors()).containsOnlyKeys("", "reports");
                });
    }

    @Test
    void oneGrantedEventIsPublishedAtStartPerElectionAndRevokedAtClose() {
        contextRunner
                .withUserConfiguration(RecordedEvents.class)
                .withPropertyValues("leader.elections.reports.enabled=true")
                .run(context -> {
                    RecordedEvents recorded = context.getBean(RecordedEvents.class);
                    await().atMost(WAIT).until(() -> recorded.events.size() == 2);
                    assertThat(recorded.events)
                            .containsExactlyInAnyOrder("granted billing token=0", "granted reports token=0");

                    recorded.events.clear();
                    context.close();
                    assertThat(recorded.events)
                            .containsExactlyInAnyOrder("revoked billing token=0", "revoked reports token=0");
                });
    }

    @Test
    void roleEndpointsRun() {
        contextRunner.withUserConfiguration(RoleEndpoints.class).run(context -> {
            RoleEndpoint endpoint = context.getBean(RoleEndpoint.class);
            await().atMost(WAIT).until(endpoint::isRunning);
        });
    }

    @Test
    void leadershipListenersHearTheGrant() {
        contextRunner.withUserConfiguration(RecordingListener.class).run(context -> {
            RecordingListener listener = context.getBean(RecordingListener.class);
            await().atMost(WAIT).until(() -> !listener.calls.isEmpty());
            assertThat(listener.calls).containsExactly("started billing 0");
        });
    }

    // ---------------------------------------------------------------------------------------------------------

    static class PriceJob {

        @LeaderOnly
        public Long publishPrices() {
            return LeaderOnlyContext.fencingToken();
        }

        @LeaderOnly(onFollower = OnFollower.THROW)
        public String identity() {
            return LeaderOnlyContext.identity();
        }

        @LeaderOnly("reports")
        public LeadershipTerm report() {
            return LeaderOnlyContext.currentTerm().orElseThrow();
        }
    }

    @LeaderOnly
    static class Worker implements SmartLifecycle {
        private volatile boolean running;

        @Override
        public void start() {
            running = true;
        }

        @Override
        public void stop() {
            running = false;
        }

        @Override
        public boolean isRunning() {
            return running;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class RecordedEvents {
        final List<String> events = new CopyOnWriteArrayList<>();

        @EventListener
        void onGranted(OnGrantedEvent event) {
            record("granted", event);
        }

        @EventListener
        void onRevoked(OnRevokedEvent event) {
            record("revoked", event);
        }

        private void record(String what, AbstractLeaderEvent event) {
            events.add(what + " " + event.getRole() + " token="
                    + LeaderContext.from(event).orElseThrow().getFencingToken());
        }
    }

    /** A Spring Integration endpoint in the role of the default election, as {@code @Role("billing")} puts it. */
    @Configuration(proxyBeanMethods = false)
    static class RoleEndpoints {

        @Bean
        RoleEndpoint roleEndpoint() {
            return new RoleEndpoint();
        }

        @Bean
        SmartLifecycleRoleController roleController(RoleEndpoint endpoint) {
            SmartLifecycleRoleController controller = new SmartLifecycleRoleController();
            controller.addLifecycleToRole("billing", endpoint);
            return controller;
        }
    }

    static class RoleEndpoint implements SmartLifecycle {
        private volatile boolean running;

        @Override
        public boolean isAutoStartup() {
            return false; // the role controller starts it
        }

        @Override
        public void start() {
            running = true;
        }

        @Override
        public void stop() {
            running = false;
        }

        @Override
        public boolean isRunning() {
            return running;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class RecordingListener implements LeadershipListener {
        final List<String> calls = new CopyOnWriteArrayList<>();

        @Override
        public void onStartedLeading(LeadershipTerm term) {
            calls.add("started " + term.leaseName() + " " + term.fencingToken());
        }

        @Override
        public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
            calls.add("stopped " + term.leaseName() + " " + reason);
        }
    }
}
