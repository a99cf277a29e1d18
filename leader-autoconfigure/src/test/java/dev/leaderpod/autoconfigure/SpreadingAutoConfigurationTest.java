package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.InMemoryPresenceStore;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.PresenceStore;
import dev.leaderpod.spread.ElectionSpreader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * Spreading is on by default wherever the store keeps presence, runs only with two elections or more, and refuses
 * settings it could not honour, naming the property (docs/design.md, "Spreading elections").
 */
class SpreadingAutoConfigurationTest {

    @TempDir
    Path leases;

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(LeaderElectionAutoConfiguration.class))
            .withPropertyValues("spring.application.name=billing", "leader.identity=a");

    private ApplicationContextRunner local() {
        return contextRunner.withPropertyValues("leader.store=local", "leader.local.directory=" + leases);
    }

    @Test
    void theLocalStoreSpreadsTwoElectionsOrMoreAndAnnouncesThisCandidate() {
        local().withPropertyValues("leader.elections.reports.enabled=true", "leader.spread.metadata.version=1.4.2")
                .run(context -> {
                    assertThat(context).hasSingleBean(ElectionSpreader.class);
                    LeaderElections elections = context.getBean(LeaderElections.class);
                    assertThat(elections.spreader()).isPresent();
                    await().atMost(Duration.ofSeconds(10))
                            .untilAsserted(() -> assertThat(
                                            elections.spreader().orElseThrow().candidates())
                                    .isEqualTo(
                                            Map.of("a", Map.of("version", "1.4.2", ElectionSpreader.READY, "true"))));
                    assertThat(context.getBean(PresenceStore.class).list())
                            .singleElement()
                            .satisfies(presence -> assertThat(presence.elections())
                                    .containsExactlyInAnyOrder("billing", "billing-reports"));
                });
    }

    @Test
    void oneElectionAloneIsNotSpreadAndAnnouncesNothing() {
        local().run(context -> {
            assertThat(context.getBean(LeaderElections.class).spreader()).isEmpty();
            assertThat(context.getBean(PresenceStore.class).list()).isEmpty();
        });
    }

    @Test
    void spreadingCanBeTurnedOff() {
        local().withPropertyValues("leader.elections.reports.enabled=true", "leader.spread.enabled=false")
                .run(context -> {
                    assertThat(context).doesNotHaveBean(ElectionSpreader.class);
                    assertThat(context.getBean(LeaderElections.class).spreader())
                            .isEmpty();
                });
    }

    @Test
    void anApplicationsOwnLeaseStoreIsSpreadOnlyWithAPresenceStoreOfItsOwn() {
        InMemoryLeaseStore store = new InMemoryLeaseStore();
        contextRunner
                .withBean(LeaseStore.class, () -> store)
                .withPropertyValues("leader.elections.reports.enabled=true")
                .run(context -> assertThat(context).doesNotHaveBean(ElectionSpreader.class));
        contextRunner
                .withBean(LeaseStore.class, () -> store)
                .withBean(PresenceStore.class, () -> new InMemoryPresenceStore("billing"))
                .withPropertyValues("leader.elections.reports.enabled=true")
                .run(context -> assertThat(
                                context.getBean(LeaderElections.class).spreader())
                        .isPresent());
    }

    @Test
    void aPresenceIntervalUnderOneSecondIsRefusedNamingTheProperty() {
        local().withPropertyValues("leader.elections.reports.enabled=true", "leader.spread.presence-interval=500ms")
                .run(context -> assertThat(context)
                        .getFailure()
                        .rootCause()
                        .isInstanceOf(LeaderConfigurationException.class)
                        .hasMessageContaining("leader.spread.presence-interval")
                        .hasMessageContaining("at least 1s"));
    }

    @Test
    void metadataNotEveryStoreCouldKeepIsRefusedNamingTheProperty() {
        local().withPropertyValues("leader.elections.reports.enabled=true", "leader.spread.metadata[bad key!]=x")
                .run(context -> assertThat(context)
                        .getFailure()
                        .rootCause()
                        .isInstanceOf(LeaderConfigurationException.class)
                        .hasMessageContaining("leader.spread.metadata"));
    }
}
