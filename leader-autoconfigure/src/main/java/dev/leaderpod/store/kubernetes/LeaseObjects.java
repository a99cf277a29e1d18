package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.LeaseRecord;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Lease objects ⇄ {@link LeaseRecord}s. Leases are handled as untyped objects so that a field in an unexpected
 * form, such as a time without microseconds, reads as {@code null} instead of failing the read.
 *
 * <p>Three annotations carry what the Lease spec has no field for:
 *
 * <ul>
 *   <li>{@value #APPLICATION_ANNOTATION}: the application; absent when the record names none.
 *   <li>{@value #SUCCESSOR_ANNOTATION}: the candidate a release hands the lease to (docs/design.md, "Hand-over to a
 *       successor"); written only when the record names one, and removed by every other write, so that a renew or an
 *       acquire on top of a release never carries the release's successor along. Empty reads as none.
 *   <li>{@value #FENCING_TOKEN_ANNOTATION}: the full 64-bit fencing token, in decimal. {@code spec.leaseTransitions} is
 *       an int32, so it gets the token capped at {@link Integer#MAX_VALUE}, for tools that read only the spec. A read
 *       takes the larger of the two, so the token neither saturates nor goes down when someone resets the spec
 *       field; a Lease without the annotation (written by something else) reads as its spec says.
 * </ul>
 *
 * <p>One label, {@value #ELECTION_LABEL}, names the application's election group (its default lease name, as a label
 * value: {@link ShortNames#labelValue}) on every Lease a store that knows the group writes, so that one watch by that
 * label sees every election of the application (docs/design.md, "Watch to be fast, poll to be right").
 */
final class LeaseObjects {

    static final String ELECTION_LABEL = "leaderpod.dev/election-of";
    static final String APPLICATION_ANNOTATION = "leaderpod.dev/application";
    static final String FENCING_TOKEN_ANNOTATION = "leaderpod.dev/fencing-token";
    static final String SUCCESSOR_ANNOTATION = "leaderpod.dev/successor";

    private static final String API_VERSION = "coordination.k8s.io/v1";
    private static final String KIND = "Lease";
    private static final String SPEC = "spec";
    private static final String HOLDER_IDENTITY = "holderIdentity";
    private static final String LEASE_DURATION_SECONDS = "leaseDurationSeconds";
    private static final String ACQUIRE_TIME = "acquireTime";
    private static final String RENEW_TIME = "renewTime";
    private static final String LEASE_TRANSITIONS = "leaseTransitions";

    // metav1.MicroTime as the API server writes it.
    private static final DateTimeFormatter MICRO_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    private LeaseObjects() {}

    /** A new Lease with {@code metadata} and an empty spec. */
    static GenericKubernetesResource newLease(ObjectMeta metadata) {
        GenericKubernetesResource lease = new GenericKubernetesResource();
        lease.setApiVersion(API_VERSION);
        lease.setKind(KIND);
        lease.setMetadata(metadata);
        lease.setAdditionalProperty(SPEC, new LinkedHashMap<String, Object>());
        return lease;
    }

    /** A deep enough copy of {@code lease} to change its metadata and spec without touching the original. */
    static GenericKubernetesResource copy(GenericKubernetesResource lease) {
        ObjectMeta metadata = new ObjectMetaBuilder(lease.getMetadata()).build();
        if (lease.getMetadata().getAnnotations() != null) {
            metadata.setAnnotations(new LinkedHashMap<>(lease.getMetadata().getAnnotations()));
        }
        GenericKubernetesResource copy = newLease(metadata);
        lease.getAdditionalProperties().forEach(copy::setAdditionalProperty);
        copy.setAdditionalProperty(SPEC, new LinkedHashMap<>(spec(lease)));
        return copy;
    }

    /** Writes {@code record} into {@code lease}, keeping every other spec field and annotation. */
    static GenericKubernetesResource write(GenericKubernetesResource lease, LeaseRecord record) {
        @SuppressWarnings("unchecked")
        Map<String, Object> spec = lease.getAdditionalProperties().get(SPEC) instanceof Map<?, ?> existing
                ? (Map<String, Object>) existing
                : new LinkedHashMap<>();
        lease.setAdditionalProperty(SPEC, spec);
        put(spec, HOLDER_IDENTITY, record.holderIdentity());
        put(spec, LEASE_DURATION_SECONDS, record.leaseDuration() == null ? null : seconds(record.leaseDuration()));
        put(spec, ACQUIRE_TIME, record.acquireTime() == null ? null : MICRO_TIME.format(record.acquireTime()));
        put(spec, RENEW_TIME, record.renewTime() == null ? null : MICRO_TIME.format(record.renewTime()));
        Long token = record.leaseTransitions();
        put(spec, LEASE_TRANSITIONS, token == null ? null : clamp(token));

        ObjectMeta metadata = lease.getMetadata();
        Map<String, String> annotations =
                metadata.getAnnotations() == null ? new LinkedHashMap<>() : metadata.getAnnotations();
        put(annotations, APPLICATION_ANNOTATION, record.application());
        put(annotations, FENCING_TOKEN_ANNOTATION, token == null ? null : Long.toString(token));
        put(annotations, SUCCESSOR_ANNOTATION, emptyToNull(record.successor()));
        metadata.setAnnotations(annotations.isEmpty() ? null : annotations);
        return lease;
    }

    /** The value of {@value #ELECTION_LABEL} on the Leases of the elections whose default lease is {@code group}. */
    static String electionLabelValue(String group) {
        return ShortNames.labelValue(group);
    }

    /** The label selector of the Leases of the elections whose default lease is {@code group}. */
    static String electionSelector(String group) {
        return ELECTION_LABEL + "=" + electionLabelValue(group);
    }

    /** Labels {@code lease} with {@value #ELECTION_LABEL}{@code =labelValue}, keeping its other labels. */
    static GenericKubernetesResource labelElection(GenericKubernetesResource lease, String labelValue) {
        ObjectMeta metadata = lease.getMetadata();
        Map<String, String> labels =
                metadata.getLabels() == null ? new LinkedHashMap<>() : new LinkedHashMap<>(metadata.getLabels());
        labels.put(ELECTION_LABEL, labelValue);
        metadata.setLabels(labels);
        return lease;
    }

    /** Whether {@code lease} carries {@value #ELECTION_LABEL}{@code =labelValue}. */
    static boolean isLabelledElection(GenericKubernetesResource lease, String labelValue) {
        ObjectMeta metadata = lease.getMetadata();
        return metadata != null
                && metadata.getLabels() != null
                && labelValue.equals(metadata.getLabels().get(ELECTION_LABEL));
    }

    /** The record {@code lease} holds; never fails on content in an unexpected form. */
    static LeaseRecord read(GenericKubernetesResource lease) {
        Map<String, Object> spec = spec(lease);
        Map<String, String> annotations =
                lease.getMetadata() == null ? null : lease.getMetadata().getAnnotations();
        Long durationSeconds = wholeNumber(spec.get(LEASE_DURATION_SECONDS));
        String application = annotations == null ? null : annotations.get(APPLICATION_ANNOTATION);
        String successor = annotations == null ? null : annotations.get(SUCCESSOR_ANNOTATION);
        return new LeaseRecord(
                spec.get(HOLDER_IDENTITY) instanceof String holder ? holder : null,
                durationSeconds == null ? null : Duration.ofSeconds(durationSeconds),
                microTime(spec.get(ACQUIRE_TIME)),
                microTime(spec.get(RENEW_TIME)),
                fencingToken(
                        wholeNumber(spec.get(LEASE_TRANSITIONS)),
                        annotations == null ? null : wholeNumber(annotations.get(FENCING_TOKEN_ANNOTATION))),
                emptyToNull(application),
                emptyToNull(successor));
    }

    private static String emptyToNull(String value) {
        return value == null || value.isEmpty() ? null : value;
    }

    // The larger of the two: the spec field saturates at int32 and may be reset by hand; an unreadable
    // annotation (null here) is ignored rather than failing the read.
    private static Long fencingToken(Long specField, Long annotation) {
        if (specField == null) {
            return annotation;
        }
        return annotation == null ? specField : Math.max(specField, annotation);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> spec(GenericKubernetesResource lease) {
        return lease.getAdditionalProperties().get(SPEC) instanceof Map<?, ?> spec
                ? (Map<String, Object>) spec
                : Map.of();
    }

    private static <V> void put(Map<String, V> map, String key, V value) {
        if (value == null) {
            map.remove(key);
        } else {
            map.put(key, value);
        }
    }

    // The Lease holds whole seconds: round up, as a lease that lasts a little longer is the safe side.
    private static int seconds(Duration duration) {
        return clamp(duration.getSeconds() + (duration.getNano() > 0 ? 1 : 0));
    }

    private static int clamp(long value) {
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, value));
    }

    private static Long wholeNumber(Object value) {
        if (value instanceof Number number) {
            return number.longValue();
        }
        if (value instanceof String text) {
            try {
                return Long.valueOf(text.strip());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    // Lenient: any ISO-8601 date-time with an offset, with or without fractions; anything else reads as null.
    private static Instant microTime(Object value) {
        if (value instanceof String text) {
            try {
                return OffsetDateTime.parse(text.strip()).toInstant();
            } catch (DateTimeParseException e) {
                return null;
            }
        }
        return null;
    }
}
