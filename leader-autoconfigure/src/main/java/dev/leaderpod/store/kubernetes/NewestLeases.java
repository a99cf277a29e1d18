package dev.leaderpod.store.kubernetes;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The newest Lease object seen per name, on which the store builds its next write: a write replaces the whole
 * object, so writing on an older one would strip the labels, annotations and owner references someone added since.
 *
 * <p>Objects arrive out of order: a watch event may be delivered after the result of a later write, and a read may
 * be answered after a write that was sent later. So an object replaces the one kept only if it is newer. Kubernetes
 * calls resourceVersions opaque, but for one object a later write's version compares greater as an integer on every
 * real API server (they are etcd revisions) and on the fabric8 mock; so versions that both parse as a {@code long}
 * are compared as numbers. Otherwise the order is unknown, and the object this store got as the answer to its own
 * read or write wins over one from a watch, which is the more likely to be late.
 */
final class NewestLeases {

    private final Map<String, GenericKubernetesResource> newest = new ConcurrentHashMap<>();

    /** The newest object kept for {@code name}, or {@code null}. */
    GenericKubernetesResource get(String name) {
        return newest.get(name);
    }

    /**
     * Keeps {@code lease} unless the one kept is newer.
     *
     * @param answered whether {@code lease} answered this store's own read or write (rather than came by watch)
     */
    void offer(String name, GenericKubernetesResource lease, boolean answered) {
        newest.compute(name, (key, kept) -> kept == null || isNewer(lease, kept, answered) ? lease : kept);
    }

    /** A read found no Lease: forget it. */
    void absent(String name) {
        newest.remove(name);
    }

    /** A watch reported {@code deleted} gone: forget it, unless what is kept is newer (a Lease created since). */
    void deleted(String name, GenericKubernetesResource deleted) {
        newest.computeIfPresent(name, (key, kept) -> isNewer(deleted, kept, false) ? null : kept);
    }

    static boolean isNewer(GenericKubernetesResource candidate, GenericKubernetesResource kept, boolean answered) {
        Long candidateVersion = number(version(candidate));
        Long keptVersion = number(version(kept));
        if (candidateVersion != null && keptVersion != null) {
            return candidateVersion >= keptVersion; // equal: the same version, either object will do
        }
        return answered;
    }

    private static String version(GenericKubernetesResource lease) {
        return lease.getMetadata() == null ? null : lease.getMetadata().getResourceVersion();
    }

    private static Long number(String version) {
        if (version == null) {
            return null;
        }
        try {
            return Long.parseLong(version);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
