package dev.leaderpod.benchmarks.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.benchmarks.support.MockApiServer;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ThirdPartyWriterTest {

    private static final String NAMESPACE = "third-party-test";

    private final MockApiServer server = new MockApiServer();
    private final KubernetesClient admin = server.adminClient(NAMESPACE);
    private final List<String> actors = new CopyOnWriteArrayList<>();
    private ThirdPartyWriter writer;

    @BeforeEach
    void setUp() {
        admin.leases()
                .inNamespace(NAMESPACE)
                .resource(new LeaseBuilder()
                        .withNewMetadata()
                        .withName(ChaosHarness.LEASE)
                        .endMetadata()
                        .withNewSpec()
                        .withHolderIdentity("a")
                        .withLeaseDurationSeconds(3)
                        .withLeaseTransitions(7)
                        .withRenewTime(ZonedDateTime.now(ZoneOffset.UTC))
                        .endSpec()
                        .build())
                .create();
        server.injectFaults(request -> {
            actors.add(String.valueOf(request.getHeader(ThirdPartyWriter.ACTOR_HEADER)));
            return Optional.empty();
        });
        writer = new ThirdPartyWriter(server, NAMESPACE, ChaosHarness.LEASE);
    }

    @AfterEach
    void tearDown() {
        writer.close();
        admin.close();
        server.close();
    }

    private LeaseSpec spec() {
        return admin.leases()
                .inNamespace(NAMESPACE)
                .withName(ChaosHarness.LEASE)
                .get()
                .getSpec();
    }

    @Test
    void editsTheFieldsItSaysItEditedAsKubectlEditWould() {
        SplittableRandom random = new SplittableRandom(3);
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 40; i++) {
            LeaseSpec before = spec();
            List<String> changes = writer.edit(random, List.of("a", "b", "c"), Duration.ofSeconds(3));
            LeaseSpec after = spec();

            assertThat(changes).isNotEmpty();
            seen.addAll(changes);
            for (String change : changes) {
                switch (change) {
                    case "holder set to another candidate" ->
                        assertThat(after.getHolderIdentity())
                                .isIn("a", "b", "c")
                                .isNotEqualTo(before.getHolderIdentity());
                    case "holder set to a stranger" ->
                        assertThat(after.getHolderIdentity()).startsWith("stranger-");
                    case "leaseDurationSeconds shortened" ->
                        assertThat(after.getLeaseDurationSeconds()).isBetween(1, 2);
                    case "leaseTransitions reset or lowered" ->
                        assertThat(after.getLeaseTransitions()).isLessThan(Math.max(1, before.getLeaseTransitions()));
                    case "renewTime moved" ->
                        assertThat(Duration.between(before.getRenewTime(), after.getRenewTime())
                                        .abs())
                                .isGreaterThanOrEqualTo(Duration.ofMinutes(1));
                    default -> throw new AssertionError("unexpected change " + change);
                }
            }
            admin.leases().inNamespace(NAMESPACE).withName(ChaosHarness.LEASE).edit(lease -> {
                lease.getSpec().setLeaseTransitions(7); // something left to lower next time
                return lease;
            });
        }
        assertThat(seen)
                .containsExactlyInAnyOrder(
                        "holder set to another candidate",
                        "holder set to a stranger",
                        "leaseDurationSeconds shortened",
                        "leaseTransitions reset or lowered",
                        "renewTime moved");
        assertThat(actors).contains("third-party");
    }

    @Test
    void deletesTheLeaseAndThenHasNothingToEditOrDelete() {
        assertThat(writer.exists()).isTrue();
        assertThat(writer.delete()).isTrue();

        assertThat(writer.exists()).isFalse();
        assertThat(writer.edit(new SplittableRandom(1), List.of("a"), Duration.ofSeconds(3)))
                .isEmpty();
        assertThat(writer.delete()).isFalse();
    }

    @Test
    void everyRequestOfTheThirdPartyNamesIt() {
        writer.edit(new SplittableRandom(1), List.of("a", "b"), Duration.ofSeconds(3));
        writer.delete();

        assertThat(actors).isNotEmpty().allMatch("third-party"::equals);
    }

    @Test
    void aLeaseWithoutSpecIsEditedToo() {
        admin.leases().inNamespace(NAMESPACE).withName(ChaosHarness.LEASE).edit(lease -> {
            lease.setSpec(null);
            return lease;
        });
        Lease none = admin.leases()
                .inNamespace(NAMESPACE)
                .withName(ChaosHarness.LEASE)
                .get();
        assertThat(none.getSpec() == null || none.getSpec().getHolderIdentity() == null)
                .isTrue();

        assertThat(writer.edit(new SplittableRandom(5), List.of("a"), Duration.ofSeconds(3)))
                .isNotEmpty();
    }
}
