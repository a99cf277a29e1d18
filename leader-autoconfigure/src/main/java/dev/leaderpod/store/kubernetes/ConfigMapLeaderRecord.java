package dev.leaderpod.store.kubernetes;

import java.util.Objects;

/**
 * Where spring-cloud-kubernetes 3.x's ConfigMap leader keeps its record of one role, as that project is configured
 * ({@code spring.cloud.kubernetes.leader.*}): the ConfigMap, and the key whose value is the leader's pod name. Read and
 * written by {@link ConfigMapMigration}.
 *
 * @param namespace the ConfigMap's namespace ({@code spring.cloud.kubernetes.leader.namespace}, else the client's)
 * @param name the ConfigMap's name ({@code spring.cloud.kubernetes.leader.config-map-name}, default {@code leaders})
 * @param role the role the old pods elect ({@code spring.cloud.kubernetes.leader.role})
 * @param leaderIdPrefix the prefix of the role's key ({@code spring.cloud.kubernetes.leader.leader-id-prefix}, default
 *     {@code leader.id.})
 * @param createIfAbsent whether a missing ConfigMap is created when this candidate claims the record, as the old pods
 *     create it ({@code spring.cloud.kubernetes.leader.create-config-map}, default true)
 */
public record ConfigMapLeaderRecord(
        String namespace, String name, String role, String leaderIdPrefix, boolean createIfAbsent) {

    /** Beside the old pods' key: which candidate of ours wrote the entry, as {@code <pod>/<identity>}. */
    private static final String HOLDER_KEY_PREFIX = "leaderpod.dev.holder.";

    /** And the uid of that pod, so that a Pod recreated under the same name is not taken for it. */
    private static final String HOLDER_UID_KEY_PREFIX = "leaderpod.dev.holder-uid.";

    public ConfigMapLeaderRecord {
        requireText(namespace, "namespace");
        requireText(name, "name");
        requireText(role, "role");
        Objects.requireNonNull(leaderIdPrefix, "leaderIdPrefix");
    }

    /** The key whose value is the leader's pod name, as the old pods read and write it. */
    String leaderKey() {
        return leaderIdPrefix + role;
    }

    /**
     * Our key beside it, which the old pods neither read nor remove: the pod and identity of the candidate of ours that
     * wrote the entry. An entry whose pod is the one this key names was written by one of ours, so the Lease decides
     * who leads; any other entry was written by an old pod.
     */
    String holderKey() {
        return HOLDER_KEY_PREFIX + role;
    }

    /** Our key for the uid of the pod that {@link #holderKey()} names. */
    String holderUidKey() {
        return HOLDER_UID_KEY_PREFIX + role;
    }

    /** The record as logs and failures name it. */
    String describe() {
        return "ConfigMap " + namespace + "/" + name + " (key " + leaderKey() + ")";
    }

    private static void requireText(String value, String what) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(what + " must not be empty");
        }
    }
}
