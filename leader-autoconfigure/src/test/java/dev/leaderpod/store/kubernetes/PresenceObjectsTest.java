package dev.leaderpod.store.kubernetes;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.core.Presence;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Announcements ⇄ Lease objects, on their own: the names, the group's label (hashed when a lease name is longer than
 * a label value may be), every field both ways, and what a write leaves alone.
 */
class PresenceObjectsTest {

    private static final KubernetesSerialization JSON = new KubernetesSerialization();
    // Kubernetes' own rules: an object name (DNS-1123 subdomain) and a label value.
    private static final String OBJECT_NAME = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
    private static final String LABEL_VALUE = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
    private static final Instant RENEWED = Instant.parse("2024-05-01T10:15:42.654321Z");
    private static final Presence FULL = new Presence(
            "billing-7d9f-x2x4q",
            Set.of("billing", "billing-reports"),
            Map.of("version", "1.4.2", "ready", "true"),
            null);

    // --- names and labels

    @Test
    void anAnnouncementIsNamedAfterItsLeaseAndTenHexDigitsOfTheIdentitysHash() throws Exception {
        String hash = HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-256").digest("Worker 1/é".getBytes(UTF_8)))
                .substring(0, 10);

        assertThat(PresenceObjects.objectName("billing", "Worker 1/é")).isEqualTo("billing-candidate-" + hash);
        assertThat(PresenceObjects.objectName("billing", "worker-2")).isNotEqualTo("billing-candidate-" + hash);
        assertThat(PresenceObjects.groupLabel("billing")).isEqualTo("billing");
        assertThat(PresenceObjects.selector("billing")).isEqualTo("leaderpod.dev/presence-of=billing");
    }

    @ParameterizedTest
    @ValueSource(ints = {63, 64, 100, 232, 233, 253})
    void anyLeaseNameGivesValidObjectNamesAndLabelValues(int length) {
        String leaseName = leaseName(length, '.');

        String objectName = PresenceObjects.objectName(leaseName, "worker-1");
        String label = PresenceObjects.groupLabel(leaseName);

        assertThat(objectName).hasSizeLessThanOrEqualTo(253).matches(OBJECT_NAME);
        assertThat(label).hasSizeLessThanOrEqualTo(63).matches(LABEL_VALUE);
        if (length <= 63) {
            assertThat(label).isEqualTo(leaseName);
        } else {
            assertThat(label).matches(".*-[0-9a-f]{10}");
        }
        assertThat(objectName.startsWith(leaseName + "-candidate-")).isEqualTo(length <= 232);
    }

    @Test
    void longLeaseNamesThatShareTheirStartGetDistinctLabelsAndNames() {
        String first = leaseName(240, 'a');
        String second = first.substring(0, 239) + "b";

        assertThat(PresenceObjects.groupLabel(first))
                .startsWith(first.substring(0, 52))
                .isNotEqualTo(PresenceObjects.groupLabel(second));
        assertThat(PresenceObjects.objectName(first, "worker-1"))
                .isNotEqualTo(PresenceObjects.objectName(second, "worker-1"));
    }

    // --- the object

    @Test
    void anAnnouncementRoundTripsThroughTheLeaseAsTheApiServerSendsItBack() {
        GenericKubernetesResource lease = written(FULL);
        lease.getMetadata().setResourceVersion("42");

        GenericKubernetesResource sent = JSON.unmarshal(JSON.asJson(lease), GenericKubernetesResource.class);

        assertThat(PresenceObjects.read(sent)).isEqualTo(FULL.atVersion("42"));
        assertThat(PresenceObjects.belongsTo(sent, "billing")).isTrue();
        assertThat(PresenceObjects.belongsTo(sent, "shipping")).isFalse();
    }

    @Test
    void writesTheLabelTheAnnotationsAndTheSpecAsDocumented() {
        GenericKubernetesResource lease = written(FULL);

        assertThat(lease.getMetadata().getLabels())
                .containsExactlyEntriesOf(Map.of(PresenceObjects.GROUP_LABEL, "billing"));
        assertThat(lease.getMetadata().getAnnotations())
                .containsExactlyInAnyOrderEntriesOf(Map.of(
                        "leaderpod.dev/presence-of", "billing",
                        "leaderpod.dev/elections", "billing,billing-reports",
                        "presence.leaderpod.dev/version", "1.4.2",
                        "presence.leaderpod.dev/ready", "true"));
        assertThat(spec(lease))
                .containsExactlyInAnyOrderEntriesOf(
                        Map.of("holderIdentity", "billing-7d9f-x2x4q", "renewTime", "2024-05-01T10:15:42.654321Z"));
    }

    @Test
    void aRewriteDropsMetadataNoLongerAnnouncedAndKeepsWhatOthersAdded() {
        GenericKubernetesResource lease = written(FULL);
        lease.getMetadata().getLabels().put("app", "billing");
        lease.getMetadata().getAnnotations().put("owner", "team-a");
        spec(lease).put("leaseDurationSeconds", 15);

        PresenceObjects.write(lease, "billing", new Presence("billing-7d9f-x2x4q", Set.of(), Map.of(), null), RENEWED);

        assertThat(lease.getMetadata().getAnnotations())
                .containsExactlyInAnyOrderEntriesOf(Map.of("owner", "team-a", "leaderpod.dev/presence-of", "billing"));
        assertThat(lease.getMetadata().getLabels()).containsEntry("app", "billing");
        assertThat(spec(lease)).containsEntry("leaseDurationSeconds", 15);
        assertThat(PresenceObjects.read(lease).metadata()).isEmpty();
        assertThat(PresenceObjects.read(lease).elections()).isEmpty();
    }

    @Test
    void aLongLeaseNameIsWholeInTheAnnotationThatDecidesTheGroup() {
        String leaseName = leaseName(100, 'a');
        String sameLabel = leaseName.substring(0, 99) + "b";
        GenericKubernetesResource lease = PresenceObjects.write(
                LeaseObjects.newLease(new ObjectMetaBuilder().withName("x").build()), leaseName, FULL, RENEWED);
        // A Lease of another group whose label happens to be the same (a hash collision, say).
        lease.getMetadata().getLabels().put(PresenceObjects.GROUP_LABEL, PresenceObjects.groupLabel(sameLabel));

        assertThat(lease.getMetadata().getAnnotations()).containsEntry(PresenceObjects.GROUP_ANNOTATION, leaseName);
        assertThat(PresenceObjects.belongsTo(lease, leaseName)).isTrue();
        assertThat(PresenceObjects.belongsTo(lease, sameLabel)).isFalse();
    }

    @Test
    void leasesThatAreNoAnnouncementReadAsNone() {
        GenericKubernetesResource election = JSON.unmarshal("""
                {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "billing"},
                 "spec": {"holderIdentity": "", "leaseDurationSeconds": 1}}
                """, GenericKubernetesResource.class);
        GenericKubernetesResource bare = new GenericKubernetesResource();

        assertThat(PresenceObjects.read(election)).isNull();
        assertThat(PresenceObjects.read(bare)).isNull();
        assertThat(PresenceObjects.belongsTo(election, "billing")).isFalse();
        assertThat(PresenceObjects.belongsTo(bare, "billing")).isFalse();
    }

    private static GenericKubernetesResource written(Presence presence) {
        return PresenceObjects.write(
                LeaseObjects.newLease(new ObjectMetaBuilder()
                        .withName(PresenceObjects.objectName("billing", presence.identity()))
                        .withNamespace("team-a")
                        .build()),
                "billing",
                presence,
                RENEWED);
    }

    // A valid lease name of {@code length} characters, with {@code filler} where a separator may go.
    private static String leaseName(int length, char filler) {
        StringBuilder name = new StringBuilder("billing");
        while (name.length() < length - 1) {
            name.append(name.length() % 7 == 0 ? filler : 'x');
        }
        return name.append('z').toString();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> spec(GenericKubernetesResource lease) {
        return (Map<String, Object>) lease.getAdditionalProperties().get("spec");
    }
}
