package dev.leaderpod.core;

import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One candidate's announcement that it is alive, as stored: who it is, which elections it takes part in, and what it
 * says about itself. Liveness is never read from a timestamp in it: observers see {@link #version()} change when the
 * candidate renews its announcement, and judge by their own clock (docs/design.md, "Spreading elections").
 *
 * @param identity the candidate's identity, as in the leases it holds
 * @param elections the names of the leases of the elections it takes part in
 * @param metadata what it says about itself (application version, readiness); never used for safety
 * @param version the store's version of the announcement; changes with every write, null before it was stored
 */
public record Presence(String identity, Set<String> elections, Map<String, String> metadata, String version) {

    // The name part of a Kubernetes annotation key, which is where the Kubernetes store keeps each metadata entry.
    private static final Pattern METADATA_KEY = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");

    public Presence {
        elections = Set.copyOf(elections);
        metadata = Map.copyOf(metadata);
    }

    /** The announcement of {@code identity}, not stored yet. */
    public static Presence of(String identity, Set<String> elections, Map<String, String> metadata) {
        return new Presence(identity, elections, metadata, null);
    }

    /** The same announcement as stored at {@code version}. */
    public Presence atVersion(String version) {
        return new Presence(identity, elections, metadata, version);
    }

    /**
     * This announcement, if every store can keep it as it is; every {@link PresenceStore#announce} checks it, so
     * that what the in-memory store of a test accepts, Kubernetes accepts too. Stores keep the election names as one
     * comma-separated list, and the Kubernetes store keeps each metadata entry as an annotation
     * {@code presence.leaderpod.dev/<key>}, whose name part allows at most 63 letters, digits, '-', '_' and '.',
     * starting and ending with a letter or digit.
     *
     * @throws IllegalArgumentException naming the identity, election or key that not every store can keep
     */
    public Presence requireStorable() {
        if (identity == null || identity.isEmpty()) {
            throw new IllegalArgumentException("a presence needs an identity, was '" + identity + "'");
        }
        for (String election : elections) {
            if (election.isBlank() || election.contains(",") || !election.equals(election.strip())) {
                throw new IllegalArgumentException("election name '" + election + "' of " + identity
                        + " cannot be stored: it must be non-empty, contain no ',' and not start or end with a space");
            }
        }
        for (String key : metadata.keySet()) {
            if (!METADATA_KEY.matcher(key).matches()) {
                throw new IllegalArgumentException("metadata key '" + key + "' of " + identity
                        + " cannot be stored: use at most 63 letters, digits, '-', '_' and '.', starting and ending"
                        + " with a letter or digit");
            }
        }
        return this;
    }
}
