package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.annotation.LeaderOnlyContext;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.Leadership;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.events.LeaderContext;
import dev.leaderpod.leaderonly.LeaderOnlyFailureAnalyzer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.EventListener;
import org.springframework.integration.leader.event.AbstractLeaderEvent;
import org.springframework.integration.leader.event.OnGrantedEvent;
import org.springframework.integration.leader.event.OnRevokedEvent;

/**
 * Named elections in an application context: lease names, per-election settings, the lookup bean, the events'
 * role, {@code @LeaderOnly("name")} calls and lifecycle beans, and names refused at start-up. Other pods are played
 * by writing the shared in-memory store; the elector watches it, so each change is seen at once, and the timings are
 * so long that no renew or timer interferes.
 */
class NamedElectionsAutoConfigurationTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private final InMemoryLeaseStore store = new InMemoryLeaseStore();

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    AopAutoConfiguration.class,
                    LeaderElectionAutoConfiguration.class,
                    LeaderOnlyAutoConfiguration.class))
            .withPropertyValues(
                    "spring.application.name=billing",
                    "leader.identity=me",
                    "leader.lease-duration=60s",
                    "leader.renew-deadline=40s",
                    "leader.retry-period=10s")
            .withBean(LeaseStore.class, () -> store);

    // ---------------------------------------------------------------------------------------------------------
    // Lease names, settings, lookup

    @Test
    void anElectionNamedInConfigurationRunsOnTheLeaseNamedAfterTheDefaultOne() {
        contextRunner
                .withPropertyValues("leader.elections.reports.enabled=true")
                .run(context -> {
                    LeaderElections elections = context.getBean(LeaderElections.class);
                    Leadership reports = elections.election("reports");

                    assertThat(reports.leaseName()).isEqualTo("billing-reports");
                    assertThat(reports.identity()).isEqualTo("me");
                    eventually().until(reports::isLeader);
                    assertThat(store.get("billing-reports")
                                    .orElseThrow()
                                    .record()
                                    .holderIdentity())
                            .isEqualTo("me");
                });
    }

    @Test
    void theLeaseNameFollowsLeaderLeaseName() {
        contextRunner
                .withPropertyValues("leader.lease-name=payments.eu", "leader.elections.reports.enabled=true")
                .run(context -> assertThat(context.getBean(LeaderElections.class)
                                .election("reports")
                                .leaseName())
                        .isEqualTo("payments.eu-reports"));
    }

    @Test
    void anElectionNamedOnlyByAnAnnotationRuns() {
        contextRunner.withBean(ReportJob.class).run(context -> {
            Leadership reports = context.getBean(LeaderElections.class).election("reports");
            eventually().until(reports::isLeader);
            assertThat(context.getBean(LeaderElections.class).names()).containsExactly("", "audit", "reports");
        });
    }

    @Test
    void electionTimingsOverrideTheDefaultElectionsAndInheritTheRest() {
        contextRunner
                .withPropertyValues(
                        "leader.request-timeout=3s",
                        "leader.elections.reports.lease-duration=30s",
                        "leader.elections.reports.renew-deadline=20s",
                        "leader.elections.audit.retry-period=5s")
                .run(context -> {
                    LeaderElections elections = context.getBean(LeaderElections.class);

                    assertThat(elections.electors().get("reports").settings())
                            .isEqualTo(new ElectionSettings(
                                    "billing-reports",
                                    "me",
                                    Duration.ofSeconds(30),
                                    Duration.ofSeconds(20),
                                    Duration.ofSeconds(10),
                                    Duration.ofSeconds(3)));
                    assertThat(elections.electors().get("audit").settings())
                            .isEqualTo(new ElectionSettings(
                                    "billing-audit",
                                    "me",
                                    Duration.ofSeconds(60),
                                    Duration.ofSeconds(40),
                                    Duration.ofSeconds(5),
                                    Duration.ofSeconds(3)));
                    assertThat(context.getBean(LeaseElector.class).settings().retryPeriod())
                            .isEqualTo(Duration.ofSeconds(10));
                });
    }

    @Test
    void aTimingThatBreaksARuleWithTheInheritedOnesIsRefusedNamingTheElectionsProperty() {
        contextRunner
                .withPropertyValues("leader.elections.reports.lease-duration=30s")
                .run(context -> {
                    // renew-deadline 40s is inherited and valid for the default election's 60s lease, not for 30s.
                    FailureAnalysis analysis = configurationAnalysis(context);
                    // Without the environment the analysis shows the values as bound (full text with it:
                    // LeaderConfigurationFailureAnalyzerTest).
                    assertThat(analysis.getDescription())
                            .contains("leader.elections.reports.renew-deadline is 40s")
                            .contains("shorter than leader.elections.reports.lease-duration (30s)");
                    assertThat(analysis.getAction()).startsWith("Set leader.elections.reports.renew-deadline to");
                });
    }

    @Test
    void lookupGivesEveryElectionByNameAndExplainsAnUnknownOne() {
        contextRunner
                .withPropertyValues("leader.elections.reports.enabled=true", "leader.elections.audit.enabled=false")
                .run(context -> {
                    LeaderElections elections = context.getBean(LeaderElections.class);

                    assertThat(elections.election("")).isSameAs(context.getBean(LeaseElector.class));
                    assertThat(elections.election(LeaderElections.DEFAULT)).isSameAs(elections.election(null));
                    assertThat(elections.names()).containsExactly("", "audit", "reports");
                    assertThat(elections.electors()).containsOnlyKeys("", "reports");
                    assertThatThrownBy(() -> elections.election("report"))
                            .isInstanceOf(IllegalArgumentException.class)
                            .hasMessageContaining("No election named 'report'")
                            .hasMessageContaining("'' (the default), 'audit', 'reports'")
                            .hasMessageContaining("leader.elections.report");
                });
    }

    // ---------------------------------------------------------------------------------------------------------
    // enabled=false

    @Test
    void anInstanceOutOfAnElectionSkipsItsCallsNeverStartsItsBeansAndNeverWritesItsLease() {
        contextRunner
                .withPropertyValues("leader.elections.reports.enabled=false")
                .withBean(ReportJob.class)
                .withBean(InvoiceJob.class)
                .withBean(ReportWorker.class)
                .run(context -> {
                    LeaderElections elections = context.getBean(LeaderElections.class);
                    eventually()
                            .until(() -> elections.election("").isLeader()
                                    && elections.election("audit").isLeader());
                    ReportJob job = context.getBean(ReportJob.class);

                    assertThat(job.report()).isNull();
                    assertThat(job.typeLevel()).isNull();
                    assertThat(job.audit()).isEqualTo("billing-audit 0");
                    assertThat(context.getBean(InvoiceJob.class).invoice()).isZero();
                    assertThat(context.getBean(ReportWorker.class).isRunning()).isFalse();
                    Leadership reports = elections.election("reports");
                    assertThat(reports.isLeader()).isFalse();
                    assertThat(reports.leaseName()).isEqualTo("billing-reports");
                    assertThat(store.get("billing-reports")).isEmpty();
                });
    }

    // ---------------------------------------------------------------------------------------------------------
    // Calls, context, lifecycle beans, events

    @Test
    void aCallBindsTheTermOfItsOwnElection() {
        OtherPod reportsPod = new OtherPod(store, "billing-reports");
        reportsPod.takeLease(); // token 0
        reportsPod.releaseLease(); // this instance's term of reports: token 1
        contextRunner.withBean(ReportJob.class).withBean(InvoiceJob.class).run(context -> {
            LeaderElections elections = context.getBean(LeaderElections.class);
            eventually()
                    .until(() -> elections.names().stream()
                            .allMatch(name -> elections.election(name).isLeader()));
            ReportJob job = context.getBean(ReportJob.class);

            assertThat(job.report()).isEqualTo("billing-reports 1");
            assertThat(job.typeLevel()).isEqualTo("billing-reports 1");
            assertThat(job.audit()).isEqualTo("billing-audit 0");
            assertThat(context.getBean(InvoiceJob.class).invoice()).isZero();
        });
    }

    @Test
    void aFollowerOfOneElectionSkipsItsCallsWhileItLeadsAnother() {
        OtherPod reportsLeader = new OtherPod(store, "billing-reports");
        reportsLeader.takeLease();
        contextRunner.withBean(ReportJob.class).withBean(InvoiceJob.class).run(context -> {
            LeaderElections elections = context.getBean(LeaderElections.class);
            eventually().until(() -> elections.election("").isLeader());
            ReportJob job = context.getBean(ReportJob.class);

            assertThat(job.report()).isNull();
            assertThat(context.getBean(InvoiceJob.class).invoice()).isZero();

            reportsLeader.releaseLease();
            eventually().until(() -> job.report() != null);
        });
    }

    @Test
    void lifecycleBeansStartAndStopWithTheTermsOfTheirOwnElectionOnly() {
        OtherPod reportsLeader = new OtherPod(store, "billing-reports");
        reportsLeader.takeLease();
        contextRunner.withBean(ReportWorker.class).run(context -> {
            LeaseElector defaultElector = context.getBean(LeaseElector.class);
            ReportWorker worker = context.getBean(ReportWorker.class);
            eventually().until(defaultElector::isLeader);
            assertThat(worker.isRunning()).isFalse();

            reportsLeader.releaseLease();
            eventually().until(worker::isRunning);
            assertThat(worker.startedUnder()).singleElement().isEqualTo("billing-reports");

            reportsLeader.takeLease();
            eventually().until(() -> !worker.isRunning());
            assertThat(defaultElector.isLeader()).isTrue();
        });
    }

    @Test
    void eachElectionPublishesItsOwnEventsWithItsNameAsTheRole() {
        contextRunner
                .withPropertyValues("leader.elections.reports.enabled=true")
                .withBean(RoleRecorder.class)
                .run(context -> {
                    RoleRecorder recorder = context.getBean(RoleRecorder.class);
                    eventually().until(() -> recorder.events.size() == 2);
                    context.close();

                    assertThat(recorder.events)
                            .containsExactlyInAnyOrder(
                                    "granted billing billing 0 leader=true",
                                    "granted reports billing-reports 0 leader=true",
                                    "revoked billing billing 0 leader=false",
                                    "revoked reports billing-reports 0 leader=false");
                    assertThat(store.get("billing-reports")
                                    .orElseThrow()
                                    .record()
                                    .isHeld())
                            .isFalse();
                });
    }

    @Test
    void theEventContextYieldsItsOwnElection() {
        contextRunner
                .withPropertyValues("leader.elections.reports.enabled=true")
                .withBean(RoleRecorder.class)
                .run(context -> {
                    RoleRecorder recorder = context.getBean(RoleRecorder.class);
                    LeaderElections elections = context.getBean(LeaderElections.class);
                    eventually().until(() -> recorder.grantedReports != null);

                    recorder.grantedReports.getContext().yield();

                    eventually()
                            .until(() -> !store.get("billing-reports")
                                    .orElseThrow()
                                    .record()
                                    .isHeld());
                    assertThat(elections.election("reports").isLeader()).isFalse();
                    assertThat(elections.election("").isLeader()).isTrue();
                });
    }

    // ---------------------------------------------------------------------------------------------------------
    // Names refused at start-up

    @Test
    void anAnnotationNamingAnInvalidElectionIsRefusedNamingTheMethod() {
        contextRunner.withBean(BadlyNamedJob.class).run(context -> {
            FailureAnalysis analysis = leaderOnlyAnalysis(context);
            assertThat(analysis.getDescription())
                    .contains(BadlyNamedJob.class.getName() + ".run()")
                    .contains("names the election 'Reports_2'")
                    .contains("lower-case letters, digits and '-'");
            assertThat(analysis.getAction()).contains("@LeaderOnly(\"...\")");
        });
    }

    @Test
    void anElectionWhoseLeaseNameWouldBeTooLongIsRefusedNamingTheMethod() {
        contextRunner
                .withPropertyValues("leader.lease-name=" + "l".repeat(240))
                .withBean(LongNamedJob.class)
                .run(context -> assertThat(leaderOnlyAnalysis(context).getDescription())
                        .contains(LongNamedJob.class.getName() + ".run()")
                        .contains("at most 253 characters"));
    }

    @Test
    void aConfiguredElectionWithAnInvalidNameIsRefusedNamingTheProperty() {
        contextRunner
                .withPropertyValues("leader.elections[Reports].enabled=true")
                .run(context -> assertThat(configurationAnalysis(context).getDescription())
                        .contains("the election 'Reports' under leader.elections")
                        .contains("lower-case letters, digits and '-', starting and ending with a letter or digit"));
    }

    @Test
    void anApplicationThatBuildsItsOwnElectorHasTheDefaultElectionOnly() {
        LeaseElector own = LeaseElector.builder(ElectionSettings.withDefaults("own", "me"), store)
                .build();
        ApplicationContextRunner withoutElectionAutoConfiguration = new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(AopAutoConfiguration.class, LeaderOnlyAutoConfiguration.class))
                .withBean(LeaseElector.class, () -> own);

        withoutElectionAutoConfiguration
                .withBean(InvoiceJob.class)
                .run(context ->
                        assertThat(context.getBean(InvoiceJob.class).invoice()).isNull()); // not started: a follower
        withoutElectionAutoConfiguration
                .withBean(ReportJob.class)
                .run(context -> assertThat(leaderOnlyAnalysis(context).getDescription())
                        .contains("names the election 'reports'")
                        .contains("named elections need LeaderElectionAutoConfiguration"));
    }

    // ---------------------------------------------------------------------------------------------------------

    private static ConditionFactory eventually() {
        return await().atMost(WAIT).pollInterval(Duration.ofMillis(10));
    }

    private static FailureAnalysis leaderOnlyAnalysis(AssertableApplicationContext context) {
        assertThat(context).hasFailed();
        FailureAnalysis analysis = new LeaderOnlyFailureAnalyzer().analyze(context.getStartupFailure());
        assertThat(analysis)
                .as("failure analysis of %s", context.getStartupFailure())
                .isNotNull();
        return analysis;
    }

    private static FailureAnalysis configurationAnalysis(AssertableApplicationContext context) {
        assertThat(context).hasFailed();
        FailureAnalysis analysis = new LeaderConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
        assertThat(analysis)
                .as("failure analysis of %s", context.getStartupFailure())
                .isNotNull();
        return analysis;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Fixtures

    /** Methods of the election {@code reports}, by type and by method, and of {@code audit}. */
    @LeaderOnly("reports")
    static class ReportJob {

        /** A method-level annotation without a name follows the type's election. */
        @LeaderOnly
        public String report() {
            return describe(LeaderOnlyContext.currentTerm().orElseThrow());
        }

        public String typeLevel() {
            return describe(LeaderOnlyContext.currentTerm().orElseThrow());
        }

        /** A method-level name overrides the type's. */
        @LeaderOnly("audit")
        public String audit() {
            return describe(LeaderOnlyContext.currentTerm().orElseThrow());
        }

        private static String describe(LeadershipTerm term) {
            return term.leaseName() + " " + term.fencingToken();
        }
    }

    /** A method of the default election. */
    static class InvoiceJob {
        @LeaderOnly
        public Long invoice() {
            return LeaderOnlyContext.fencingToken();
        }
    }

    /** A worker of the election {@code reports}: started by its grants only. */
    @LeaderOnly("reports")
    static class ReportWorker implements SmartLifecycle {
        private final List<String> startedUnder = new CopyOnWriteArrayList<>();
        private volatile boolean running;

        /** Not public, so not gated: the test reads it on the follower too. */
        List<String> startedUnder() {
            return startedUnder;
        }

        @Override
        public void start() {
            startedUnder.add(LeaderOnlyContext.currentTerm().orElseThrow().leaseName());
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

    static class BadlyNamedJob {
        @LeaderOnly("Reports_2")
        public void run() {}
    }

    static class LongNamedJob {
        @LeaderOnly("a-rather-long-election-name")
        public void run() {}
    }

    /** Listens as a Spring Integration {@code @Role} endpoint does: by the events' role. */
    static class RoleRecorder {
        final List<String> events = new CopyOnWriteArrayList<>();
        volatile OnGrantedEvent grantedReports;

        @EventListener
        void onGranted(OnGrantedEvent event) {
            if ("reports".equals(event.getRole())) {
                grantedReports = event;
            }
            events.add(describe("granted", event));
        }

        @EventListener
        void onRevoked(OnRevokedEvent event) {
            events.add(describe("revoked", event));
        }

        private static String describe(String kind, AbstractLeaderEvent event) {
            LeaderContext context = LeaderContext.from(event).orElseThrow();
            return kind + " " + event.getRole() + " " + context.getTerm().leaseName() + " " + context.getFencingToken()
                    + " leader=" + context.isLeader();
        }
    }
}
