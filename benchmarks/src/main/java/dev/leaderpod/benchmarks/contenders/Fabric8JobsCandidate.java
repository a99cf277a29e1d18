package dev.leaderpod.benchmarks.contenders;

import dev.leaderpod.benchmarks.support.FaultProxy;
import dev.leaderpod.benchmarks.support.MockApiServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One replica of an application with several jobs, each with a leader of its own, as users hand-roll it with
 * fabric8: one {@code LeaderElector} (a {@link Fabric8Candidate}: Lease lock, release on cancel, restarted when it
 * ends) per job, all on the replica's one client. Nothing spreads the jobs: whoever gets a lease first keeps it.
 *
 * <p>The client's task executor (a cached pool, fabric8's default, on which every {@code LeaderElector} of the client
 * runs its loop) names its threads {@code fabric8-exec-<identity>-<n>}, so that they can be counted per replica.
 */
public final class Fabric8JobsCandidate implements Candidate {

    /** Thread name prefix of the client's task executor, followed by {@code -<identity>-<n>}. */
    public static final String EXECUTOR_THREADS = "fabric8-exec";

    private final String identity;
    private final FaultProxy proxy;
    private final KubernetesClient client;
    private final List<Fabric8Candidate> jobs = new ArrayList<>();

    /**
     * @param proxied through a proxy of its own (so that it can be cut off), else straight to the server
     * @param vertx the shared Vert.x of the HTTP client, or null for one of its own
     */
    public Fabric8JobsCandidate(
            MockApiServer server,
            String namespace,
            List<String> leases,
            String identity,
            Timings timings,
            Function<String, ElectionLog> logs,
            boolean proxied,
            Vertx vertx) {
        this.identity = identity;
        this.proxy = proxied ? new FaultProxy(server.port()) : null;
        this.client = MockApiServer.client(
                proxy != null ? proxy.url() : server.url(),
                namespace,
                identity,
                vertx,
                EXECUTOR_THREADS + "-" + identity);
        for (String lease : leases) {
            jobs.add(new Fabric8Candidate(client, proxy, namespace, lease, identity, timings, logs.apply(lease)));
        }
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
    public int elections() {
        return jobs.size();
    }

    @Override
    public boolean isLeader(int election) {
        return jobs.get(election).isLeader();
    }

    @Override
    public long currentTermId(int election) {
        return jobs.get(election).currentTermId();
    }

    /** Whether it leads any of its jobs. */
    @Override
    public boolean isLeader() {
        return jobs.stream().anyMatch(Fabric8Candidate::isLeader);
    }

    @Override
    public long currentTermId() {
        throw new UnsupportedOperationException("several elections: use currentTermId(election)");
    }

    @Override
    public void start() {
        jobs.forEach(Fabric8Candidate::start);
    }

    /** Each job's elector cancelled in turn, each releasing its lease if it leads. */
    @Override
    public void stopGracefully() {
        jobs.forEach(Fabric8Candidate::stopGracefully);
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
        Thread stopper = new Thread(() -> jobs.forEach(Fabric8Candidate::close), "stop-" + identity);
        stopper.setDaemon(true);
        stopper.start();
        try {
            stopper.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.close();
        if (proxy != null) {
            proxy.close();
        }
    }
}
