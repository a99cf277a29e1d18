package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.InMemoryPresenceStore;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.PresenceStore;
import dev.leaderpod.store.kubernetes.KubernetesPresenceStore;
import dev.leaderpod.store.local.FilePresenceStore;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * Each store comes with the presence of the candidates beside its leases (docs/design.md, "Presence"), unless the
 * application has a presence store or a lease store of its own.
 */
class PresenceStoreAutoConfigurationTest {

    @TempDir
    Path leases;

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(LeaderElectionAutoConfiguration.class))
            .withPropertyValues("spring.application.name=billing");

    private ApplicationContextRunner local() {
        return contextRunner.withPropertyValues("leader.store=local", "leader.local.directory=" + leases);
    }

    // An API server nobody listens on: the elector's calls fail fast, which these tests do not care about.
    private ApplicationContextRunner kubernetes() {
        return contextRunner
                .withBean(KubernetesClient.class, UnreachableKubernetes::client)
                .withPropertyValues("leader.store=kubernetes");
    }

    @Test
    void theLocalStoreKeepsPresenceInTheLeaseDirectory() {
        local().run(context -> assertThat(context)
                .getBean(PresenceStore.class)
                .isInstanceOf(FilePresenceStore.class)
                .extracting(PresenceStore::describe)
                .asString()
                .startsWith("local presence files " + leases.toAbsolutePath().resolve("billing.candidates")));
    }

    @Test
    void theKubernetesStoreKeepsPresenceInTheLeasesNamespace() {
        kubernetes()
                .run(context -> assertThat(context)
                        .getBean(PresenceStore.class)
                        .isInstanceOf(KubernetesPresenceStore.class)
                        .extracting(PresenceStore::describe)
                        .isEqualTo("Kubernetes Leases client-ns/billing-candidate-*"));
        kubernetes()
                .withPropertyValues("leader.namespace=team-a", "leader.lease-name=payments")
                .run(context -> assertThat(context.getBean(PresenceStore.class).describe())
                        .isEqualTo("Kubernetes Leases team-a/payments-candidate-*"));
    }

    @Test
    void anApplicationsOwnPresenceStoreIsTheOnlyOne() {
        InMemoryPresenceStore own = new InMemoryPresenceStore();
        local().withBean(PresenceStore.class, () -> own)
                .run(context -> assertThat(context.getBean(PresenceStore.class)).isSameAs(own));
        kubernetes()
                .withBean(PresenceStore.class, () -> own)
                .run(context -> assertThat(context.getBean(PresenceStore.class)).isSameAs(own));
    }

    @Test
    void anApplicationsOwnLeaseStoreMeansNoPresenceOfOurs() {
        local().withBean(LeaseStore.class, InMemoryLeaseStore::new)
                .run(context -> assertThat(context).doesNotHaveBean(PresenceStore.class));
        kubernetes()
                .withBean(LeaseStore.class, InMemoryLeaseStore::new)
                .run(context -> assertThat(context).doesNotHaveBean(PresenceStore.class));
    }

    @Test
    void noPresenceWhenLeaderElectionIsOff() {
        local().withPropertyValues("leader.enabled=false")
                .run(context -> assertThat(context).doesNotHaveBean(PresenceStore.class));
    }
}
