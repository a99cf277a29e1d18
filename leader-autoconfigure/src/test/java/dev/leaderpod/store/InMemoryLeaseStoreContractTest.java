package dev.leaderpod.store;

import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeaseStore;

/** The reference store meets the contract; candidates share one instance. */
class InMemoryLeaseStoreContractTest extends LeaseStoreContractTest {

    private final InMemoryLeaseStore store = new InMemoryLeaseStore();

    @Override
    protected LeaseStore store() {
        return store;
    }
}
