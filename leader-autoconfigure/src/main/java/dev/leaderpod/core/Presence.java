package dev.leaderpod.core;

import java.util.Map;
import java.util.Set;

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

    public Presence {
        elections = Set.copyOf(elections);
        metadata = Map.copyOf(metadata);
    }

    /** The same announcement as stored at {@code version}. */
    public Presence atVersion(String version) {
        return new Presence(identity, elections, metadata, version);
    }
}
