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
import dev.leaderpod.core.StoreOperation;
import dev.leaderpod.store.kubernetes.KubernetesLeaseStore;
import dev.leaderpod.store.local.FileLeaseStore;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Our {@link LeaseElector} on the Kubernetes Lease store, talking through its own {@link FaultProxy}; or, made by
 * {@link #onLocalStore}, on the local {@link FileLeaseStore} (no server, no proxy).
 */
public final class OurCandidate implements Candidate {

    private final String identity;
    private final FaultProxy proxy;
    private final AutoCloseable storeResources;
    private final LeaseElector elector;
    private final Duration stopTimeout;

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
        ElectionSettings settings = settings(lease, identity, timings);
        KubernetesClient client = MockApiServer.client(proxy.url(), namespace);
        // The store talks through this client's HTTP client, which must stay open while the store is used.
        KubernetesLeaseStore store = new KubernetesLeaseStore(client, namespace, lease, settings.requestTimeout());
        this.storeResources = () -> {
            store.close();
            client.close();
        };
        this.elector = elector(settings, storeWrapper.apply(store), identity, log, clock);
        this.stopTimeout = lifecycleStopTimeout(settings);
    }

    public OurCandidate(
            MockApiServer server, String namespace, String lease, String identity, Timings timings, ElectionLog log) {
        this(server, namespace, lease, identity, timings, log, ElectionClock.system(), UnaryOperator.identity());
    }

    private OurCandidate(
            Path directory,
            String lease,
            String identity,
            Timings timings,
            ElectionLog log,
            ElectionClock clock,
            UnaryOperator<LeaseStore> storeWrapper) {
        this.identity = identity;
        this.proxy = null;
        ElectionSettings settings = settings(lease, identity, timings);
        // As the auto-configuration builds it: the lock timeout is the request timeout.
        LeaseStore store = new FileLeaseStore(directory, settings.requestTimeout());
        this.storeResources = () -> {};
        this.elector = elector(settings, storeWrapper.apply(store), identity, log, clock);
        this.stopTimeout = lifecycleStopTimeout(settings);
    }

    /** As the auto-configuration sets it, without a drain (the harness's listener returns at once). */
    private static Duration lifecycleStopTimeout(ElectionSettings settings) {
        return settings.requestTimeout().multipliedBy(2);
    }

    /** A candidate electing through lease files in {@code directory}, as several processes on one machine would. */
    public static OurCandidate onLocalStore(
            Path directory,
            String lease,
            String identity,
            Timings timings,
            ElectionLog log,
            ElectionClock clock,
            UnaryOperator<LeaseStore> storeWrapper) {
        return new OurCandidate(directory, lease, identity, timings, log, clock, storeWrapper);
    }

    private static ElectionSettings settings(String lease, String identity, Timings timings) {
        return new ElectionSettings(
                lease, identity, timings.leaseDuration(), timings.renewDeadline(), timings.retryPeriod(), null);
    }

    private static LeaseElector elector(
            ElectionSettings settings, LeaseStore store, String identity, ElectionLog log, ElectionClock clock) {
        return LeaseElector.builder(settings, store)
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
                    public void storeCall(
                            StoreOperation operation, Duration latency, LeaseStoreException.Kind failure) {
                        if (failure == null
                                && (operation == StoreOperation.RENEW
                                        || operation == StoreOperation.ACQUIRE
                                        || operation == StoreOperation.CREATE)) {
                            log.renewed(identity, System.nanoTime() - latency.toNanos());
                        }
                    }
                })
                .build();
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

    /** What the application's lifecycle bean does on {@code context.stop()}: stop the elector if it runs. */
    @Override
    public void contextStop() {
        if (elector.isRunning()) {
            elector.stop(stopTimeout);
        }
    }

    /** What the lifecycle bean does on {@code context.start()}: start the same elector object if it does not run. */
    @Override
    public void contextStart() {
        if (!elector.isRunning()) {
            elector.start();
        }
    }

    @Override
    public void crash() {
        if (proxy != null) {
            proxy.cut();
        }
    }

    @Override
    public void close() {
        crash();
        Thread stopper = new Thread(() -> elector.stop(Duration.ofMillis(1)), "stop-" + identity);
        stopper.setDaemon(true);
        stopper.start();
        try {
            stopper.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            storeResources.close();
        } catch (Exception e) {
            // closing quietly
        }
        if (proxy != null) {
            proxy.close();
        }
    }
}
