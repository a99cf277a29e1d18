package dev.leaderpod.store;

import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.PresenceStore;
import dev.leaderpod.store.local.FileLeaseStore;
import dev.leaderpod.store.local.FilePresenceStore;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file store meets the contract, each candidate with its own instance over one lease directory, beside the lease
 * files of a {@link FileLeaseStore} there. It does not watch, so the contract's watch cases are skipped;
 * {@code store.local.FilePresenceStoreTest} covers what is particular to files.
 */
class FilePresenceStoreContractTest extends PresenceStoreContractTest {

    @TempDir
    Path directory;

    private FilePresenceStore store;

    @BeforeEach
    void createStore() {
        store = new FilePresenceStore(directory, LEASE);
    }

    @Override
    protected PresenceStore store() {
        return store;
    }

    @Override
    protected PresenceStore anotherCandidatesStore() {
        return new FilePresenceStore(directory, LEASE);
    }

    @Override
    protected PresenceStore anotherGroupsStore() {
        return new FilePresenceStore(directory, OTHER_LEASE);
    }

    @Override
    protected LeaseStore leaseStore() {
        return new FileLeaseStore(directory);
    }
}
