package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.Presence;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Announcements ⇄ Lease objects, for {@link KubernetesPresenceStore}. One Lease per candidate of a group (the
 * candidates of one election lease), named {@code <lease-name>-candidate-<first 10 hex digits of the SHA-256 of the
 * identity>}, so a candidate finds its own without listing and any identity makes a valid name:
 *
 * <pre>
 * metadata:
 *   name: billing-candidate-3f9a1c0b7e
 *   labels:
 *     leaderpod.dev/presence-of: billing          # what the store lists and watches by
 *   annotations:
 *     leaderpod.dev/presence-of: billing          # the lease name itself, always whole
 *     leaderpod.dev/elections: billing,billing-reports
 *     presence.leaderpod.dev/version: 1.4.2       # metadata, one annotation per key
 * spec:
 *   holderIdentity: billing-7d9f-x2x4q            # the identity, as in the leases it holds
 *   renewTime: "2024-05-01T10:15:42.654321Z"      # informational; makes every write a change
 * </pre>
 *
 * <p>A label value has at most 63 characters and a lease name up to 253: a longer lease name is labelled with its
 * first 52 characters, '-' and 10 hex digits of its SHA-256; the annotation always holds the whole name, and only
 * Leases whose annotation (or, without one, label) is exactly the lease name belong to the group, so two long names
 * that share their label still never mix. Likewise a lease name longer than 232 characters leaves no room for the
 * suffix in an object name: its first 221 characters, '-' and 10 hex digits of its SHA-256 stand for it there.
 *
 * <p>An identity is known by 40 bits of its hash: two identities of one group that share them (about one chance in
 * two million for a thousand candidates) share one Lease and overwrite each other's announcement. And a named election
 * called {@code candidate-<10 hex digits>} would have its Lease named like an announcement; the presence store would
 * still never list or delete it, as it carries no presence label and no holder this store wrote.
 *
 * <p>The API server does not change the version of an object a write leaves unchanged, and observers judge a
 * candidate alive by its announcement's version changing: so every write carries a new {@code spec.renewTime}. It is
 * never compared with any clock (docs/design.md, "Presence").
 */
final class PresenceObjects {

    static final String GROUP_LABEL = "leaderpod.dev/presence-of";
    static final String GROUP_ANNOTATION = "leaderpod.dev/presence-of";
    static final String ELECTIONS_ANNOTATION = "leaderpod.dev/elections";
    static final String METADATA_PREFIX = "presence.leaderpod.dev/";

    private static final String SPEC = "spec";
    private static final String HOLDER_IDENTITY = "holderIdentity";
    private static final String RENEW_TIME = "renewTime";
    private static final int LONGEST_NAME = 253;
    private static final String NAME_INFIX = "-candidate-";

    // metav1.MicroTime as the API server writes it.
    private static final DateTimeFormatter MICRO_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    private PresenceObjects() {}

    /** The name of the Lease of {@code identity}'s announcement among the candidates of {@code leaseName}. */
    static String objectName(String leaseName, String identity) {
        return namePrefix(leaseName) + ShortNames.hash(identity);
    }

    /** What the names of the Leases of the candidates of {@code leaseName} start with. */
    static String namePrefix(String leaseName) {
        return ShortNames.shortened(leaseName, LONGEST_NAME - NAME_INFIX.length() - ShortNames.HASH_DIGITS)
                + NAME_INFIX;
    }

    /** The value of {@value #GROUP_LABEL} on the announcements of the candidates of {@code leaseName}. */
    static String groupLabel(String leaseName) {
        return ShortNames.labelValue(leaseName);
    }

    /** The label selector of the group of {@code leaseName}. */
    static String selector(String leaseName) {
        return GROUP_LABEL + "=" + groupLabel(leaseName);
    }

    /** Whether {@code lease} is an announcement among the candidates of {@code leaseName}. */
    static boolean belongsTo(GenericKubernetesResource lease, String leaseName) {
        ObjectMeta metadata = lease.getMetadata();
        if (metadata == null) {
            return false;
        }
        String group = metadata.getAnnotations() == null
                ? null
                : metadata.getAnnotations().get(GROUP_ANNOTATION);
        if (group == null) {
            group = metadata.getLabels() == null ? null : metadata.getLabels().get(GROUP_LABEL);
        }
        return leaseName.equals(group);
    }

    /**
     * Writes {@code presence} of the candidates of {@code leaseName} into {@code lease} at {@code renewTime}, keeping
     * every label, annotation and spec field that is not the store's; metadata annotations no longer announced are
     * removed.
     */
    static GenericKubernetesResource write(
            GenericKubernetesResource lease, String leaseName, Presence presence, Instant renewTime) {
        ObjectMeta metadata = lease.getMetadata();
        Map<String, String> labels =
                metadata.getLabels() == null ? new LinkedHashMap<>() : new LinkedHashMap<>(metadata.getLabels());
        labels.put(GROUP_LABEL, groupLabel(leaseName));
        metadata.setLabels(labels);
        Map<String, String> annotations = metadata.getAnnotations() == null
                ? new LinkedHashMap<>()
                : new LinkedHashMap<>(metadata.getAnnotations());
        annotations.keySet().removeIf(key -> key.startsWith(METADATA_PREFIX));
        annotations.put(GROUP_ANNOTATION, leaseName);
        if (presence.elections().isEmpty()) {
            annotations.remove(ELECTIONS_ANNOTATION);
        } else {
            annotations.put(ELECTIONS_ANNOTATION, String.join(",", new TreeSet<>(presence.elections())));
        }
        new TreeMap<>(presence.metadata()).forEach((key, value) -> annotations.put(METADATA_PREFIX + key, value));
        metadata.setAnnotations(annotations);

        @SuppressWarnings("unchecked")
        Map<String, Object> spec = lease.getAdditionalProperties().get(SPEC) instanceof Map<?, ?> existing
                ? new LinkedHashMap<>((Map<String, Object>) existing)
                : new LinkedHashMap<>();
        spec.put(HOLDER_IDENTITY, presence.identity());
        spec.put(RENEW_TIME, MICRO_TIME.format(renewTime));
        lease.setAdditionalProperty(SPEC, spec);
        return lease;
    }

    /** The announcement {@code lease} holds, at its version; null if it names no candidate. */
    static Presence read(GenericKubernetesResource lease) {
        ObjectMeta metadata = lease.getMetadata();
        String identity = identity(lease);
        if (metadata == null || identity == null) {
            return null;
        }
        Map<String, String> annotations = metadata.getAnnotations() == null ? Map.of() : metadata.getAnnotations();
        Set<String> elections = Arrays.stream(
                        annotations.getOrDefault(ELECTIONS_ANNOTATION, "").split(","))
                .map(String::strip)
                .filter(name -> !name.isEmpty())
                .collect(Collectors.toSet());
        Map<String, String> announced = new TreeMap<>();
        annotations.forEach((key, value) -> {
            if (key.startsWith(METADATA_PREFIX) && key.length() > METADATA_PREFIX.length() && value != null) {
                announced.put(key.substring(METADATA_PREFIX.length()), value);
            }
        });
        return new Presence(identity, elections, announced, metadata.getResourceVersion());
    }

    /** The candidate {@code lease} announces, or null if it names none. */
    static String identity(GenericKubernetesResource lease) {
        return lease.getAdditionalProperties().get(SPEC) instanceof Map<?, ?> spec
                        && spec.get(HOLDER_IDENTITY) instanceof String identity
                        && !identity.isEmpty()
                ? identity
                : null;
    }
}
