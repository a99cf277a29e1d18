package dev.leaderpod.autoconfigure;

import dev.leaderpod.core.Candidacy;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStore;

/**
 * What the default election also respects while an application moves to this starter from another leader election
 * ({@code leader.migration.*}): a condition on its standing, and a store whose writes that start a term also claim the
 * other election's record.
 */
interface ElectionMigration extends AutoCloseable {

    /** {@code candidacy}, not standing while the other election has a live leader. */
    Candidacy candidacy(Candidacy candidacy);

    /** {@code store}, claiming the other election's record before a term starts. */
    LeaseStore store(LeaseStore store);

    /** Starts following the other election; tells {@code elector} when its standing changes. */
    void start(LeaseElector elector);

    @Override
    void close();
}
