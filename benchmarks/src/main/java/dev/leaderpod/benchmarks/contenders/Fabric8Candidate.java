package dev.leaderpod.benchmarks.contenders;

import dev.leaderpod.benchmarks.support.FaultProxy;
import dev.leaderpod.benchmarks.support.MockApiServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfig;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.Lock;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;

/**
 * fabric8's {@code LeaderElector} with a {@link LeaseLock}, configured as spring-cloud-kubernetes 5.0's Lease
 * election configures it: the given timings (15 s / 10 s / 2 s by default), release on cancel, and a new elector
 * started whenever the previous one ends normally (fabric8's elector is single-use; spring-cloud-kubernetes 5.0
 * restarts it). Leadership as user code sees it is what the callbacks said last, which is what
 * spring-cloud-kubernetes turns into its events.
 */
public final class Fabric8Candidate implements Candidate {

    private final String identity;
    private final FaultProxy proxy;
    private final KubernetesClient client;
    /** Whether the proxy and client are this candidate's own, to cut and close with it. */
    private final boolean ownsClient;

    private final LeaderElectionConfig config;
    private volatile boolean leader;
    private volatile long term = -1;
    private long grants;
    private volatile boolean running;
    private volatile CompletableFuture<?> future;

    public Fabric8Candidate(
            MockApiServer server,
            String namespace,
            String lease,
            String identity,
            Timings timings,
            ElectionLog log,
            UnaryOperator<Lock> lockWrapper) {
        this(null, null, namespace, lease, identity, timings, log, lockWrapper, server);
    }

    /**
     * One of several electors of one replica, on the replica's {@code client} (and {@code proxy}, which may be
     * null), which this candidate neither cuts nor closes: one {@code LeaderElector} per job, as users hand-roll
     * named elections with fabric8.
     */
    public Fabric8Candidate(
            KubernetesClient client,
            FaultProxy proxy,
            String namespace,
            String lease,
            String identity,
            Timings timings,
            ElectionLog log) {
        this(client, proxy, namespace, lease, identity, timings, log, UnaryOperator.identity(), null);
    }

    private Fabric8Candidate(
            KubernetesClient sharedClient,
            FaultProxy sharedProxy,
            String namespace,
            String lease,
            String identity,
            Timings timings,
            ElectionLog log,
            UnaryOperator<Lock> lockWrapper,
            MockApiServer server) {
        this.identity = identity;
        this.ownsClient = sharedClient == null;
        this.proxy = ownsClient ? new FaultProxy(server.port()) : sharedProxy;
        this.client = ownsClient ? MockApiServer.client(proxy.url(), namespace) : sharedClient;
        Lock lock = new RecordingLock(lockWrapper.apply(new LeaseLock(namespace, lease, identity)), identity, log);
        this.config = new LeaderElectionConfigBuilder()
                .withReleaseOnCancel()
                .withName("benchmark " + lease)
                .withLeaseDuration(timings.leaseDuration())
                .withRenewDeadline(timings.renewDeadline())
                .withRetryPeriod(timings.retryPeriod())
                .withLock(lock)
                .withLeaderCallbacks(new LeaderCallbacks(
                        () -> {
                            leader = true;
                            term = ++grants;
                            log.granted(identity);
                        },
                        () -> {
                            leader = false;
                            term = -1;
                            log.revoked(identity);
                        },
                        newLeader -> {}))
                .build();
    }

    public Fabric8Candidate(
            MockApiServer server, String namespace, String lease, String identity, Timings timings, ElectionLog log) {
        this(server, namespace, lease, identity, timings, log, UnaryOperator.identity());
    }

    @Override
    public String identity() {
        return identity;
    }

    @Override
    public FaultProxy proxy() {
        return proxy;
    }

    @Override
    public synchronized void start() {
        running = true;
        launch();
    }

    private synchronized void launch() {
        if (!running) {
            return;
        }
        CompletableFuture<?> started =
                client.leaderElector().withConfig(config).build().start();
        future = started;
        started.whenComplete((ok, error) -> {
            if (error == null) {
                launch(); // ended normally (lost leadership): spring-cloud-kubernetes 5.0 starts a new one
            }
        });
    }

    @Override
    public boolean isLeader() {
        return leader;
    }

    @Override
    public long currentTermId() {
        return term;
    }

    @Override
    public void stopGracefully() {
        CompletableFuture<?> current;
        synchronized (this) {
            running = false;
            current = future;
        }
        if (current != null) {
            current.cancel(true); // release on cancel
        }
    }

    /**
     * fabric8's elector cannot be stopped and started: it is single-use. The equivalent its API allows, and what
     * spring-cloud-kubernetes 5.0 can do on {@code context.stop()}: cancel the running elector's future (with
     * release on cancel: the lease is released and {@code onStopLeading} runs, in this thread).
     */
    @Override
    public void contextStop() {
        stopGracefully();
    }

    /** The equivalent of {@code context.start()}: a new {@code LeaderElector} from the same config, lock and client. */
    @Override
    public void contextStart() {
        start();
    }

    @Override
    public void crash() {
        if (proxy != null) {
            proxy.cut();
        }
    }

    @Override
    public void close() {
        if (ownsClient) {
            proxy.cut();
        }
        synchronized (this) {
            running = false;
        }
        CompletableFuture<?> current = future;
        if (current != null) {
            current.cancel(true);
        }
        if (ownsClient) {
            client.close();
            proxy.close();
        }
    }

    /** Records successful writes (renews and acquisitions) of this candidate. */
    private record RecordingLock(Lock delegate, String identity, ElectionLog log) implements Lock {
        @Override
        public LeaderElectionRecord get(KubernetesClient client) {
            return delegate.get(client);
        }

        @Override
        public void create(KubernetesClient client, LeaderElectionRecord record) {
            long sent = System.nanoTime();
            delegate.create(client, record);
            if (identity.equals(record.getHolderIdentity())) {
                log.renewed(identity, sent);
            }
        }

        @Override
        public void update(KubernetesClient client, LeaderElectionRecord record) {
            long sent = System.nanoTime();
            delegate.update(client, record);
            if (identity.equals(record.getHolderIdentity())) {
                log.renewed(identity, sent);
            }
        }

        @Override
        public String identity() {
            return delegate.identity();
        }

        @Override
        public String describe() {
            return delegate.describe();
        }
    }
}
