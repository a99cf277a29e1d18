package dev.leaderpod.store.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.core.LeaseRecord;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Lease objects ⇄ records, on their own: every field both ways, the three annotations beside the spec
 * (docs/design.md, "One lease, one application", "Fencing tokens strictly increase", "Hand-over to a successor"), the microsecond the times
 * keep ("One identity, one candidate"), leases written by others, and everything a write must leave alone.
 */
class LeaseObjectsTest {

    private static final KubernetesSerialization JSON = new KubernetesSerialization();
    private static final Instant ACQUIRED = Instant.parse("2024-05-01T10:15:30.123456Z");
    private static final Instant RENEWED = Instant.parse("2024-05-01T10:15:42.654321Z");
    private static final LeaseRecord FULL =
            new LeaseRecord("billing-7d9f-x2x4q", Duration.ofSeconds(15), ACQUIRED, RENEWED, 7L, "BillingService");

    // --- round trip

    @Test
    void aRecordWithEveryFieldRoundTrips() {
        assertThat(LeaseObjects.read(written(FULL))).isEqualTo(FULL);
    }

    @Test
    void aRecordWithNoFieldRoundTripsAndWritesNothing() {
        LeaseRecord empty = new LeaseRecord(null, null, null, null, null, null);

        GenericKubernetesResource lease = written(empty);

        assertThat(LeaseObjects.read(lease)).isEqualTo(empty);
        assertThat(spec(lease)).isEmpty();
        assertThat(lease.getMetadata().getAnnotations()).isNull();
    }

    @Test
    void writesTheSpecAsTheApiServerKeepsIt() {
        GenericKubernetesResource lease = written(FULL);

        assertThat(lease.getApiVersion()).isEqualTo("coordination.k8s.io/v1");
        assertThat(lease.getKind()).isEqualTo("Lease");
        assertThat(spec(lease))
                .containsEntry("holderIdentity", "billing-7d9f-x2x4q")
                .containsEntry("leaseDurationSeconds", 15)
                .containsEntry("acquireTime", "2024-05-01T10:15:30.123456Z")
                .containsEntry("renewTime", "2024-05-01T10:15:42.654321Z")
                .containsEntry("leaseTransitions", 7);
        assertThat(lease.getMetadata().getAnnotations())
                .containsExactlyInAnyOrderEntriesOf(Map.of(
                        LeaseObjects.APPLICATION_ANNOTATION, "BillingService",
                        LeaseObjects.FENCING_TOKEN_ANNOTATION, "7"));
    }

    @Test
    void theRecordSurvivesJsonAsTheApiServerSendsItBack() {
        GenericKubernetesResource lease = JSON.unmarshal(JSON.asJson(written(FULL)), GenericKubernetesResource.class);

        assertThat(LeaseObjects.read(lease)).isEqualTo(FULL);
    }

    // --- times: metav1.MicroTime

    @Test
    void timesKeepTheMicrosecondAndDropWhatIsBelow() {
        LeaseRecord nanos = new LeaseRecord(
                "a", null, Instant.parse("2024-05-01T10:15:30.123456789Z"), Instant.parse("2024-05-01T10:15:30Z"), 1L);

        GenericKubernetesResource lease = written(nanos);

        assertThat(spec(lease))
                .containsEntry("acquireTime", "2024-05-01T10:15:30.123456Z")
                .containsEntry("renewTime", "2024-05-01T10:15:30.000000Z");
        assertThat(LeaseObjects.read(lease).acquireTime()).isEqualTo("2024-05-01T10:15:30.123456Z");
        assertThat(LeaseObjects.read(lease).renewTime()).isEqualTo("2024-05-01T10:15:30Z");
    }

    @ParameterizedTest(name = "{0} reads as {1}")
    @CsvSource(
            nullValues = "null",
            value = {
                "2024-05-01T10:15:30.123456Z, 2024-05-01T10:15:30.123456Z",
                "2024-05-01T10:15:30Z, 2024-05-01T10:15:30Z",
                "2024-05-01T12:15:30.5+02:00, 2024-05-01T10:15:30.500Z",
                "' 2024-05-01T10:15:30Z ', 2024-05-01T10:15:30Z",
                "yesterday, null",
                "2024-05-01 10:15:30, null",
            })
    void timesWrittenByOthersReadLeniently(String written, Instant read) {
        GenericKubernetesResource lease = foreign("{\"renewTime\": \"" + written + "\"}");

        assertThat(LeaseObjects.read(lease).renewTime()).isEqualTo(read);
    }

    // --- duration

    @ParameterizedTest(name = "{0} ms is written as {1} s")
    @CsvSource({"15000, 15", "1500, 2", "1, 1", "0, 0"})
    void durationsAreWholeSecondsRoundedUp(long millis, int seconds) {
        GenericKubernetesResource lease = written(new LeaseRecord("a", Duration.ofMillis(millis), null, null, null));

        assertThat(spec(lease)).containsEntry("leaseDurationSeconds", seconds);
        assertThat(LeaseObjects.read(lease).leaseDuration()).isEqualTo(Duration.ofSeconds(seconds));
    }

    // --- fencing token: the annotation beside the int32 spec field

    @Test
    void aTokenBeyondInt32IsWholeInTheAnnotationAndCappedInTheSpec() {
        long token = Integer.MAX_VALUE + 5L;

        GenericKubernetesResource lease = written(new LeaseRecord("a", null, null, null, token));

        assertThat(spec(lease)).containsEntry("leaseTransitions", Integer.MAX_VALUE);
        assertThat(lease.getMetadata().getAnnotations())
                .containsEntry(LeaseObjects.FENCING_TOKEN_ANNOTATION, "2147483652");
        assertThat(LeaseObjects.read(lease).leaseTransitions()).isEqualTo(token);
    }

    @ParameterizedTest(name = "spec {0}, annotation {1}: token {2}")
    @CsvSource(
            nullValues = "null",
            value = {
                "7, 7, 7",
                "0, 7, 7", // the spec field reset by hand: the token does not go down
                "9, 7, 9", // the spec field raised by hand: never below it either
                "5, seven, 5", // an unreadable annotation is ignored
                "4, null, 4", // a Lease of client-go or fabric8: as its spec says
                "null, 7, 7",
                "null, null, null",
            })
    void theTokenReadIsTheLargerOfSpecAndAnnotation(Integer spec, String annotation, Long token) {
        GenericKubernetesResource lease = foreign(spec == null ? "{}" : "{\"leaseTransitions\": " + spec + "}");
        if (annotation != null) {
            lease.getMetadata().setAnnotations(Map.of(LeaseObjects.FENCING_TOKEN_ANNOTATION, annotation));
        }

        assertThat(LeaseObjects.read(lease).leaseTransitions()).isEqualTo(token);
    }

    // --- application

    @Test
    void noApplicationRemovesOnlyOurAnnotation() {
        GenericKubernetesResource lease = written(FULL);
        lease.getMetadata().getAnnotations().put("owner", "team-a");

        LeaseObjects.write(lease, new LeaseRecord("b", null, null, null, 8L, null));

        assertThat(lease.getMetadata().getAnnotations())
                .doesNotContainKey(LeaseObjects.APPLICATION_ANNOTATION)
                .containsEntry("owner", "team-a")
                .containsEntry(LeaseObjects.FENCING_TOKEN_ANNOTATION, "8");
        assertThat(LeaseObjects.read(lease).application()).isNull();
    }

    @Test
    void anEmptyApplicationAnnotationReadsAsNone() {
        GenericKubernetesResource lease = foreign("{}");
        lease.getMetadata().setAnnotations(Map.of(LeaseObjects.APPLICATION_ANNOTATION, ""));

        assertThat(LeaseObjects.read(lease).application()).isNull();
    }

    // --- successor: only in the release that names one

    @Test
    void aReleaseNamingASuccessorRoundTripsThroughItsAnnotation() {
        LeaseRecord release =
                new LeaseRecord("", Duration.ofSeconds(1), ACQUIRED, RENEWED, 7L, "BillingService", "billing-0");

        GenericKubernetesResource lease =
                JSON.unmarshal(JSON.asJson(written(release)), GenericKubernetesResource.class);

        assertThat(lease.getMetadata().getAnnotations()).containsEntry(LeaseObjects.SUCCESSOR_ANNOTATION, "billing-0");
        assertThat(LeaseObjects.read(lease)).isEqualTo(release);
    }

    @Test
    void aWriteNamingNoSuccessorRemovesTheAnnotationOfTheReleaseItReplaces() {
        GenericKubernetesResource lease =
                written(new LeaseRecord("", Duration.ofSeconds(1), ACQUIRED, RENEWED, 7L, "BillingService", "b"));
        lease.getMetadata().getAnnotations().put("owner", "team-a");

        LeaseObjects.write(lease, new LeaseRecord("b", Duration.ofSeconds(15), RENEWED, RENEWED, 8L, "BillingService"));

        assertThat(lease.getMetadata().getAnnotations())
                .doesNotContainKey(LeaseObjects.SUCCESSOR_ANNOTATION)
                .containsEntry("owner", "team-a")
                .containsEntry(LeaseObjects.FENCING_TOKEN_ANNOTATION, "8");
        assertThat(LeaseObjects.read(lease).successor()).isNull();
    }

    @Test
    void anEmptySuccessorIsNoneBothWays() {
        GenericKubernetesResource lease = written(new LeaseRecord("", null, null, null, null, null, ""));
        GenericKubernetesResource handEdited = foreign("{}");
        handEdited.getMetadata().setAnnotations(Map.of(LeaseObjects.SUCCESSOR_ANNOTATION, ""));

        assertThat(lease.getMetadata().getAnnotations()).isNull();
        assertThat(LeaseObjects.read(lease).successor()).isNull();
        assertThat(LeaseObjects.read(handEdited).successor()).isNull();
    }

    // --- leases written by others

    @Test
    void aForeignLeaseReadsAsItsSpecSaysAndOddFieldsAsNothing() {
        GenericKubernetesResource lease = foreign("""
                {"holderIdentity": 42, "leaseDurationSeconds": " 30 ", "acquireTime": "2024-05-01T10:15:30Z",
                 "leaseTransitions": "many"}
                """);

        assertThat(LeaseObjects.read(lease))
                .isEqualTo(new LeaseRecord(
                        null, Duration.ofSeconds(30), Instant.parse("2024-05-01T10:15:30Z"), null, null, null));
    }

    @Test
    void aLeaseWithoutSpecOrMetadataReadsAsEmpty() {
        GenericKubernetesResource lease = new GenericKubernetesResource();

        assertThat(LeaseObjects.read(lease)).isEqualTo(new LeaseRecord(null, null, null, null, null, null));
    }

    // --- what a write leaves alone

    @Test
    void aWriteKeepsOthersLabelsAnnotationsOwnerReferencesAndSpecFields() {
        GenericKubernetesResource lease = JSON.unmarshal("""
                {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                 "metadata": {"name": "billing", "namespace": "team-a", "resourceVersion": "41",
                              "labels": {"app": "billing"},
                              "annotations": {"owner": "team-a", "leaderpod.dev/fencing-token": "6"},
                              "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "billing",
                                                   "uid": "1234"}],
                              "finalizers": ["example.com/keep"]},
                 "spec": {"holderIdentity": "someone", "strategy": "OldestEmulationVersion",
                          "preferredHolder": "billing-0"},
                 "status": {"note": "kept"}}
                """, GenericKubernetesResource.class);

        LeaseObjects.write(lease, FULL);

        assertThat(lease.getMetadata().getName()).isEqualTo("billing");
        assertThat(lease.getMetadata().getResourceVersion()).isEqualTo("41");
        assertThat(lease.getMetadata().getLabels()).containsExactlyEntriesOf(Map.of("app", "billing"));
        assertThat(lease.getMetadata().getAnnotations())
                .containsEntry("owner", "team-a")
                .containsEntry(LeaseObjects.FENCING_TOKEN_ANNOTATION, "7");
        assertThat(lease.getMetadata().getOwnerReferences())
                .singleElement()
                .satisfies(owner -> assertThat(owner.getUid()).isEqualTo("1234"));
        assertThat(lease.getMetadata().getFinalizers()).containsExactly("example.com/keep");
        assertThat(spec(lease))
                .containsEntry("holderIdentity", "billing-7d9f-x2x4q")
                .containsEntry("strategy", "OldestEmulationVersion")
                .containsEntry("preferredHolder", "billing-0");
        assertThat(lease.getAdditionalProperties()).containsKey("status");
        assertThat(LeaseObjects.read(lease)).isEqualTo(FULL);
    }

    @Test
    void aCopyCanBeWrittenWithoutTouchingTheOriginal() {
        GenericKubernetesResource original = written(FULL);
        original.getMetadata().setLabels(Map.of("app", "billing"));
        String before = JSON.asJson(original);

        GenericKubernetesResource copy = LeaseObjects.copy(original);
        LeaseObjects.write(copy, new LeaseRecord("b", Duration.ofSeconds(20), null, null, 8L, null));

        assertThat(JSON.asJson(original)).isEqualTo(before);
        assertThat(LeaseObjects.read(copy).holderIdentity()).isEqualTo("b");
        assertThat(copy.getMetadata().getLabels()).containsEntry("app", "billing");
    }

    // --- the election group's label

    @Test
    void theElectionLabelNamesTheGroupKeepsOtherLabelsAndLeavesTheKeptObjectAlone() {
        GenericKubernetesResource original = written(FULL);
        original.getMetadata().setLabels(new java.util.LinkedHashMap<>(Map.of("app", "billing")));
        String before = JSON.asJson(original);

        GenericKubernetesResource labelled =
                LeaseObjects.labelElection(LeaseObjects.copy(original), LeaseObjects.electionLabelValue("billing"));

        assertThat(labelled.getMetadata().getLabels())
                .containsEntry("app", "billing")
                .containsEntry("leaderpod.dev/election-of", "billing");
        assertThat(LeaseObjects.isLabelledElection(labelled, "billing")).isTrue();
        assertThat(LeaseObjects.isLabelledElection(labelled, "jobs")).isFalse();
        assertThat(LeaseObjects.isLabelledElection(original, "billing")).isFalse();
        assertThat(JSON.asJson(original)).isEqualTo(before);
        assertThat(LeaseObjects.electionSelector("billing")).isEqualTo("leaderpod.dev/election-of=billing");
    }

    @Test
    void aGroupLongerThanALabelValueIsLabelledByItsStartAndAHash() {
        String group = "a".repeat(70) + ".example";

        String value = LeaseObjects.electionLabelValue(group);

        assertThat(value)
                .hasSize(63)
                .startsWith("a".repeat(52) + "-")
                .matches("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
        assertThat(value).isNotEqualTo(LeaseObjects.electionLabelValue("a".repeat(70) + ".example.org"));
    }

    private static GenericKubernetesResource written(LeaseRecord record) {
        return LeaseObjects.write(
                LeaseObjects.newLease(new ObjectMetaBuilder()
                        .withName("billing")
                        .withNamespace("team-a")
                        .build()),
                record);
    }

    // A Lease as client-go, fabric8 or kubectl may have left it, with {@code specJson} as its spec.
    private static GenericKubernetesResource foreign(String specJson) {
        return JSON.unmarshal("""
                {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "billing"},
                 "spec": %s}
                """.formatted(specJson), GenericKubernetesResource.class);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> spec(GenericKubernetesResource lease) {
        return (Map<String, Object>) lease.getAdditionalProperties().get("spec");
    }
}
