package dev.leaderpod.benchmarks.contenders;

import dev.leaderpod.benchmarks.support.FaultProxy;
import dev.leaderpod.benchmarks.support.MockApiServer;
import dev.leaderpod.core.ElectionClock;
import dev.leaderpod.core.ElectionMonitor;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.RevocationReason;
import dev.leaderpod.store.kubernetes.KubernetesLeaseStore;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.Optional;
import java.util.function.UnaryOperator;

/** Our {@link LeaseElector} on the Kubernetes Lease store, talking through its own {@link FaultProxy}. */
public final class OurCandidate implements Candidate {

    private final String identity;
    private final FaultProxy proxy;
    private final KubernetesClient client;
    private final KubernetesLeaseStore store;
    private final LeaseElector elector;

    public OurCandidate(
            MockApiServer server,
            String namespace,
            String lease,
            String identity,
            Timings timings,
            ElectionLog log,
            ElectionClock clock,
            UnaryOperator<LeaseStore> storeWrapper) {
        this.identity = identity;
        this.proxy = new FaultProxy(server.port());
        this.client = MockApiServer.client(proxy.url(), namespace);
        ElectionSettings settings = new ElectionSettings(
                lease, identity, timings.leaseDuration(), timings.renewDeadline(), timings.retryPeriod(), null);
        // The store talks through this client's HTTP client, which must stay open while the store is used.
        this.store = new KubernetesLeaseStore(client, namespace, settings.requestTimeout());
        this.elector = LeaseElector.builder(settings, storeWrapper.apply(store))
                .clock(clock)
                .listener(new LeadershipListener() {
                    @Override
                    public void onStartedLeading(LeadershipTerm term) {
                        log.granted(identity);
                    }

                    @Override
                    public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
                        log.revoked(identity);
                    }
                })
                .monitor(new ElectionMonitor() {
                    @Override
                    public void storeCall(String operation, Duration latency, LeaseStoreException.Kind failure) {
                        if (failure == null
                                && (operation.equals("renew")
                                        || operation.equals("acquire")
                                        || operation.equals("create"))) {
                            log.renewed(identity, System.nanoTime() - latency.toNanos());
                        }
                    }
                })
                .build();
    }

    public OurCandidate(
            MockApiServer server, String namespace, String lease, String identity, Timings timings, ElectionLog log) {
        this(server, namespace, lease, identity, timings, log, ElectionClock.system(), UnaryOperator.identity());
    }

    @Override
    public String identity() {
        return identity;
    }

    @Override
    public FaultProxy proxy() {
        return proxy;
    }

    public LeaseElector elector() {
        return elector;
    }

    /** The fencing token of the current term, if leading. */
    public Optional<Long> fencingToken() {
        return elector.currentTerm().map(LeadershipTerm::fencingToken);
    }

    @Override
    public void start() {
        elector.start();
    }

    @Override
    public boolean isLeader() {
        return elector.isLeader();
    }

    @Override
    public long currentTermId() {
        return elector.currentTerm().map(LeadershipTerm::fencingToken).orElse(-1L);
    }

    @Override
    public void stopGracefully() {
        elector.stop(Duration.ofSeconds(10));
    }

    @Override
    public void crash() {
        proxy.cut();
    }

    @Override
    public void close() {
        proxy.cut();
        Thread stopper = new Thread(() -> elector.stop(Duration.ofMillis(1)), "stop-" + identity);
        stopper.setDaemon(true);
        stopper.start();
        try {
            stopper.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        store.close();
        client.close();
        proxy.close();
    }
}
