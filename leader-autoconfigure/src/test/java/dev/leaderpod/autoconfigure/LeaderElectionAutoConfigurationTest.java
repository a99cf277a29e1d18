package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.RevocationReason;
import dev.leaderpod.events.LeaderContext;
import dev.leaderpod.events.LeaderEventPublishingListener;
import dev.leaderpod.store.local.FileLeaseStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;
import org.springframework.core.annotation.Order;
import org.springframework.integration.leader.event.AbstractLeaderEvent;
import org.springframework.integration.leader.event.OnGrantedEvent;
import org.springframework.integration.leader.event.OnRevokedEvent;

@ExtendWith(OutputCaptureExtension.class)
class LeaderElectionAutoConfigurationTest {

    @TempDir
    Path leases;

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(LeaderElectionAutoConfiguration.class))
            .withPropertyValues("spring.application.name=billing");

    private ApplicationContextRunner local() {
        return contextRunner.withPropertyValues("leader.local.directory=" + leases);
    }

    @Test
    void usesTheLocalStoreWithAWarningWhenNotOnKubernetes(CapturedOutput output) {
        local().run(context -> {
            assertThat(context).hasSingleBean(FileLeaseStore.class).hasSingleBean(LeaseElector.class);
            assertThat(output).contains("only processes on this machine take part");
        });
    }

    @Test
    void explicitLocalStoreDoesNotWarn(CapturedOutput output) {
        local().withPropertyValues("leader.store=local").run(context -> {
            assertThat(context).hasSingleBean(FileLeaseStore.class);
            assertThat(output).doesNotContain("only processes on this machine take part");
        });
    }

    @Test
    void defaultsFollowTheProperties() {
        local().run(context -> {
            ElectionSettings settings = context.getBean(LeaseElector.class).settings();
            assertThat(settings.leaseName()).isEqualTo("billing");
            assertThat(settings.leaseDuration()).isEqualTo(Duration.ofSeconds(15));
            assertThat(settings.renewDeadline()).isEqualTo(Duration.ofSeconds(10));
            assertThat(settings.retryPeriod()).isEqualTo(Duration.ofSeconds(2));
            assertThat(settings.requestTimeout()).isEqualTo(Duration.ofSeconds(5));
            assertThat(settings.identity()).matches(CandidateIdentity.hostName(System.getenv()) + "-[a-z0-9]{5}");
        });
    }

    @Test
    void propertiesOverrideTheDefaults() {
        local().withPropertyValues(
                        "leader.lease-name=payments.eu",
                        "leader.identity=me",
                        "leader.lease-duration=6s",
                        "leader.renew-deadline=4s",
                        "leader.retry-period=1s",
                        "leader.request-timeout=1500ms")
                .run(context -> {
                    ElectionSettings settings =
                            context.getBean(LeaseElector.class).settings();
                    assertThat(settings)
                            .isEqualTo(new ElectionSettings(
                                    "payments.eu",
                                    "me",
                                    Duration.ofSeconds(6),
                                    Duration.ofSeconds(4),
                                    Duration.ofSeconds(1),
                                    Duration.ofMillis(1500)));
                });
    }

    @Test
    void anApplicationNameThatIsNoLeaseNameGivesADerivedLeaseNameSaidOnceAtInfo(CapturedOutput output) {
        local().withPropertyValues("spring.application.name=BillingService").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(LeaseElector.class).leaseName()).isEqualTo("billingservice");
            assertThat(output)
                    .containsOnlyOnce("leader.lease-name not set; using 'billingservice' derived from"
                            + " spring.application.name 'BillingService'");
        });
    }

    @Test
    void namedElectionsFollowTheDerivedLeaseName() {
        local().withPropertyValues("spring.application.name=Billing Service", "leader.elections.reports.enabled=true")
                .run(context -> assertThat(context.getBean(LeaderElections.class)
                                .election("reports")
                                .leaseName())
                        .isEqualTo("billing-service-reports"));
    }

    @Test
    void anApplicationNameThatIsALeaseNameIsUsedAsItIsWithoutInfo(CapturedOutput output) {
        local().run(context -> {
            assertThat(context.getBean(LeaseElector.class).leaseName()).isEqualTo("billing");
            assertThat(output).doesNotContain("leader.lease-name not set");
        });
    }

    @Test
    void twoCandidatesGetDifferentDefaultIdentities() {
        assertThat(CandidateIdentity.generate(java.util.Map.of("HOSTNAME", "web-0")))
                .startsWith("web-0-")
                .isNotEqualTo(CandidateIdentity.generate(java.util.Map.of("HOSTNAME", "web-0")));
    }

    @Test
    void backsOffWhenUserDefinesAStore() {
        contextRunner.withBean(LeaseStore.class, InMemoryLeaseStore::new).run(context -> {
            assertThat(context).hasSingleBean(LeaseStore.class).doesNotHaveBean(FileLeaseStore.class);
            assertThat(context.getBean(LeaseStore.class)).isInstanceOf(InMemoryLeaseStore.class);
        });
    }

    @Test
    void backsOffWhenUserDefinesAnElector() {
        LeaseElector own = LeaseElector.builder(ElectionSettings.withDefaults("own", "me"), new InMemoryLeaseStore())
                .build();
        local().withBean(LeaseElector.class, () -> own)
                .run(context -> assertThat(context.getBean(LeaseElector.class)).isSameAs(own));
    }

    @Test
    void disabledMakesThisInstanceTheOnlyCandidateOnAnInMemoryLease() {
        local().withPropertyValues("leader.enabled=false").run(context -> {
            assertThat(context)
                    .hasSingleBean(LeaseElector.class)
                    .doesNotHaveBean(FileLeaseStore.class)
                    .getBean(LeaseStore.class)
                    .isInstanceOf(InMemoryLeaseStore.class);
            assertThat(context.getBean(LeaseElector.class).isLeader()).isTrue();
        });
    }

    @Test
    void disabledNeedsNoApplicationName() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(LeaderElectionAutoConfiguration.class))
                .withPropertyValues("leader.enabled=false")
                .run(context -> assertThat(context.getBean(LeaseElector.class).leaseName())
                        .isEqualTo("application"));
    }

    @Test
    void publishesNoSpringIntegrationEventsWithoutSpringIntegration() {
        local().withClassLoader(new FilteredClassLoader("org.springframework.integration"))
                .run(context -> assertThat(context)
                        .hasSingleBean(LeaseElector.class)
                        .doesNotHaveBean(LeaderEventPublishingListener.class));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Invalid values stop start-up: every message in full in LeaderConfigurationFailureAnalyzerTest

    @Test
    void unknownStoreIsRejectedNamingTheProperty() {
        local().withPropertyValues("leader.store=zookeeper").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).hasStackTraceContaining("leader.store");
        });
    }

    // ---------------------------------------------------------------------------------------------------------
    // Events and lifecycle

    @Test
    void publishesGrantedWithATruthfulContextAndRevokedOnClose() {
        InMemoryLeaseStore store = new InMemoryLeaseStore();
        contextRunner
                .withBean(LeaseStore.class, () -> store)
                .withUserConfiguration(RecordingListeners.class)
                .run(context -> {
                    RecordingListeners recorded = context.getBean(RecordingListeners.class);
                    await().atMost(Duration.ofSeconds(10)).until(() -> !recorded.events.isEmpty());
                    assertThat(recorded.events).containsExactly("granted billing leader=true token=0");
                    context.close();
                    assertThat(recorded.events)
                            .containsExactly(
                                    "granted billing leader=true token=0",
                                    "listener revoked SHUTDOWN holder=" + recorded.identity,
                                    "revoked billing leader=false token=0");
                    assertThat(store.get("billing").orElseThrow().record().isHeld())
                            .isFalse();
                });
    }

    @Test
    void aContextStoppedAndStartedAgainLeadsAgain() {
        // Spring stops and starts the context around a CRaC checkpoint and restore; users do it by hand.
        InMemoryLeaseStore store = new InMemoryLeaseStore();
        contextRunner
                .withBean(LeaseStore.class, () -> store)
                .withUserConfiguration(RecordingListeners.class)
                .run(context -> {
                    RecordingListeners recorded = context.getBean(RecordingListeners.class);
                    LeaseElector elector = context.getBean(LeaseElector.class);
                    await().atMost(Duration.ofSeconds(10)).until(elector::isLeader);

                    context.stop();
                    assertThat(elector.isLeader()).isFalse();
                    assertThat(store.get("billing").orElseThrow().record().isHeld())
                            .isFalse();
                    context.start();

                    await().atMost(Duration.ofSeconds(10)).until(elector::isLeader);
                    assertThat(elector.currentTerm().orElseThrow().fencingToken())
                            .isEqualTo(1);
                    assertThat(recorded.events)
                            .containsExactly(
                                    "granted billing leader=true token=0",
                                    "listener revoked SHUTDOWN holder=" + recorded.identity,
                                    "revoked billing leader=false token=0",
                                    "granted billing leader=true token=1");
                });
    }

    @Test
    void theLeaseNamesTheApplicationAndAnotherApplicationIsRefused(CapturedOutput output) {
        InMemoryLeaseStore store = new InMemoryLeaseStore();
        contextRunner.withBean(LeaseStore.class, () -> store).run(billing -> {
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> billing.getBean(LeaseElector.class).isLeader());
            assertThat(store.get("billing").orElseThrow().record().application())
                    .isEqualTo("billing");
            contextRunner
                    .withBean(LeaseStore.class, () -> store)
                    .withPropertyValues("spring.application.name=shipping", "leader.lease-name=billing")
                    .run(shipping -> {
                        billing.close(); // released: any candidate of billing could take it at once
                        await().atMost(Duration.ofSeconds(10))
                                .until(() -> output.toString()
                                        .contains("belongs to application 'billing', but this candidate is of"
                                                + " application 'shipping'"));
                        assertThat(shipping.getBean(LeaseElector.class).isLeader())
                                .isFalse();
                        assertThat(output).contains("leader.allow-other-applications=true");
                    });
        });
    }

    @Test
    void yieldFromTheContextHandsLeadershipBack() {
        InMemoryLeaseStore store = new InMemoryLeaseStore();
        contextRunner
                .withBean(LeaseStore.class, () -> store)
                .withUserConfiguration(RecordingListeners.class)
                .run(context -> {
                    RecordingListeners recorded = context.getBean(RecordingListeners.class);
                    await().atMost(Duration.ofSeconds(10)).until(() -> recorded.granted != null);
                    recorded.granted.getContext().yield();
                    await().atMost(Duration.ofSeconds(10))
                            .until(() ->
                                    recorded.events.contains("listener revoked YIELDED holder=" + recorded.identity));
                    await().atMost(Duration.ofSeconds(10))
                            .until(() ->
                                    !store.get("billing").orElseThrow().record().isHeld());
                    assertThat(context.getBean(LeaseElector.class).isLeader()).isFalse();
                });
    }

    @Configuration(proxyBeanMethods = false)
    static class RecordingListeners {
        final List<String> events = new CopyOnWriteArrayList<>();
        volatile OnGrantedEvent granted;
        volatile String identity;

        @EventListener
        void onGranted(OnGrantedEvent event) {
            granted = event;
            events.add(describe("granted", event));
        }

        @EventListener
        void onRevoked(OnRevokedEvent event) {
            events.add(describe("revoked", event));
        }

        private String describe(String kind, AbstractLeaderEvent event) {
            LeaderContext context = LeaderContext.from(event).orElseThrow();
            identity = context.getIdentity();
            return kind + " " + event.getRole() + " leader="
                    + event.getContext().isLeader() + " token=" + context.getFencingToken();
        }

        @Bean
        @Order(0)
        LeadershipListener recordingLeadershipListener(LeaseStore store) {
            return new LeadershipListener() {
                @Override
                public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
                    events.add("listener revoked " + reason + " holder="
                            + store.get(term.leaseName()).orElseThrow().record().holderIdentity());
                }
            };
        }
    }
}
