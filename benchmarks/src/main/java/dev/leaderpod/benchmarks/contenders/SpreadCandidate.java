package dev.leaderpod.benchmarks.contenders;

import dev.leaderpod.benchmarks.support.FaultProxy;
import dev.leaderpod.benchmarks.support.MockApiServer;
import dev.leaderpod.core.ElectionClock;
import dev.leaderpod.core.ElectionRuntime;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.PresenceStore;
import dev.leaderpod.core.RevocationReason;
import dev.leaderpod.spread.ElectionSpreader;
import dev.leaderpod.store.kubernetes.KubernetesLeaseStore;
import dev.leaderpod.store.kubernetes.KubernetesPresenceStore;
import dev.leaderpod.store.local.FileLeaseStore;
import dev.leaderpod.store.local.FilePresenceStore;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * One replica of an application with several named elections, spread over the replicas, wired as the
 * auto-configuration wires it: one {@link ElectionRuntime} for all its elections, one lease store and one presence
 * store on one client (Kubernetes) or one lease directory (local), an {@link ElectionSpreader} whose candidacy every
 * elector has, a graceful stop that leaves the spreading first and then stops each elector (as
 * {@code LeaderElections.stop()}), and a {@code context.start()} that starts them again.
 *
 * <p>Each election's grants and revocations go to that election's {@link ElectionLog}. On Kubernetes the replica
 * talks through its own {@link FaultProxy} (so that it can be cut off) or, without one, straight to the server; either
 * way its requests name it ({@link MockApiServer#CANDIDATE_HEADER}).
 */
public final class SpreadCandidate implements Candidate {

    /** Thread name prefixes of an {@link ElectionRuntime}, each followed by {@code -<identity>}. */
    public static final List<String> RUNTIME_THREADS = List.of("leader-election", "leader-events", "leader-io");

    private final String identity;
    private final FaultProxy proxy;
    private final List<AutoCloseable> resources;
    private final ElectionRuntime runtime;
    private final ElectionSpreader spreader;
    private final List<LeaseElector> electors;
    private final Duration stopTimeout;

    private SpreadCandidate(Builder builder) {
        this.identity = builder.identity;
        this.runtime = ElectionRuntime.create(identity);
        List<ElectionSettings> settings = builder.leases.stream()
                .map(lease -> new ElectionSettings(
                        lease,
                        identity,
                        builder.timings.leaseDuration(),
                        builder.timings.renewDeadline(),
                        builder.timings.retryPeriod(),
                        null))
                .toList();
        Duration requestTimeout = settings.get(0).requestTimeout();
        LeaseStore leaseStore;
        PresenceStore presenceStore;
        List<AutoCloseable> owned = new ArrayList<>();
        if (builder.directory != null) {
            this.proxy = null;
            leaseStore = new FileLeaseStore(builder.directory, requestTimeout);
            presenceStore = new FilePresenceStore(builder.directory, builder.group, requestTimeout);
        } else {
            this.proxy = builder.proxied ? new FaultProxy(builder.server.port()) : null;
            String url = proxy != null ? proxy.url() : builder.server.url();
            KubernetesClient client =
                    MockApiServer.client(url, builder.namespace, identity, builder.vertx, "k8s-client-" + identity);
            // Both stores talk through the client's HTTP client: it stays open while they are used.
            KubernetesLeaseStore kubernetesLeases =
                    new KubernetesLeaseStore(client, builder.namespace, builder.group, requestTimeout);
            KubernetesPresenceStore kubernetesPresence =
                    new KubernetesPresenceStore(client, builder.namespace, builder.group, requestTimeout);
            owned.add(kubernetesPresence);
            owned.add(kubernetesLeases::close);
            owned.add(client);
            leaseStore = kubernetesLeases;
            presenceStore = kubernetesPresence;
        }
        this.resources = owned;
        this.electors = new ArrayList<>();
        this.spreader = new ElectionSpreader(
                identity,
                builder.presenceWrapper.apply(presenceStore),
                runtime,
                builder.clock,
                builder.presenceInterval,
                builder.timings.retryPeriod(),
                () -> (Collection<LeaseElector>) electors,
                () -> Map.of("version", "benchmark"));
        LeaseStore store = builder.storeWrapper.apply(leaseStore);
        for (ElectionSettings election : settings) {
            ElectionLog log = builder.logs.apply(election.leaseName());
            electors.add(LeaseElector.builder(election, store)
                    .runtime(runtime)
                    .clock(builder.clock)
                    .candidacy(spreader.candidacy())
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
                    .build());
        }
        // As the auto-configuration: a drain (none here) plus two requests.
        this.stopTimeout = requestTimeout.multipliedBy(2);
    }

    /** A replica named {@code identity} in the elections {@code leases}, whose presence group is {@code group}. */
    public static Builder builder(String identity, String group, List<String> leases, Timings timings) {
        return new Builder(identity, group, leases, timings);
    }

    @Override
    public String identity() {
        return identity;
    }

    @Override
    public FaultProxy proxy() {
        return proxy;
    }

    public ElectionSpreader spreader() {
        return spreader;
    }

    public List<LeaseElector> electors() {
        return List.copyOf(electors);
    }

    @Override
    public int elections() {
        return electors.size();
    }

    @Override
    public boolean isLeader(int election) {
        return electors.get(election).isLeader();
    }

    @Override
    public long currentTermId(int election) {
        return electors.get(election)
                .currentTerm()
                .map(LeadershipTerm::fencingToken)
                .orElse(-1L);
    }

    /** Whether it leads any of its elections. */
    @Override
    public boolean isLeader() {
        return electors.stream().anyMatch(LeaseElector::isLeader);
    }

    /** Only for one election; use {@link #currentTermId(int)}. */
    @Override
    public long currentTermId() {
        if (electors.size() != 1) {
            throw new UnsupportedOperationException("several elections: use currentTermId(election)");
        }
        return currentTermId(0);
    }

    /** How many elections it leads now. */
    public int leads() {
        return (int) electors.stream().filter(LeaseElector::isLeader).count();
    }

    /** As {@code LeaderElections.start()}: every elector, then the spreader, at once. */
    @Override
    public void start() {
        electors.forEach(LeaseElector::start);
        spreader.start();
    }

    /**
     * The electors one at a time, {@code pause} apart, then the spreader: not what the auto-configuration does, but
     * a way around its start-up burst (see benchmarks/README.md, "Spreading named elections").
     */
    public void startStaggered(Duration pause) {
        for (LeaseElector elector : electors) {
            elector.start();
            try {
                Thread.sleep(pause.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        spreader.start();
    }

    /** As the application stops: leave the spreading (presence removed), then stop each election with its release. */
    @Override
    public void stopGracefully() {
        spreader.leave();
        electors.forEach(elector -> elector.stop(Duration.ofSeconds(10)));
    }

    /** {@code context.stop()}, as {@code LeaderElections.stop()}: leave the spreading, stop the running electors. */
    @Override
    public void contextStop() {
        spreader.leave();
        for (LeaseElector elector : electors) {
            if (elector.isRunning()) {
                elector.stop(stopTimeout);
            }
        }
    }

    /** {@code context.start()}, as {@code LeaderElections.start()}: the same electors and spreader start again. */
    @Override
    public void contextStart() {
        for (LeaseElector elector : electors) {
            if (!elector.isRunning()) {
                elector.start();
            }
        }
        spreader.start();
    }

    @Override
    public void crash() {
        if (proxy != null) {
            proxy.cut();
        }
    }

    /** As a process that ends: no presence removal, electors stopped at once (a release may not get through). */
    @Override
    public void close() {
        crash();
        Thread stopper =
                new Thread(() -> electors.forEach(elector -> elector.stop(Duration.ofMillis(1))), "stop-" + identity);
        stopper.setDaemon(true);
        stopper.start();
        try {
            stopper.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        runtime.close();
        for (AutoCloseable resource : resources) {
            try {
                resource.close();
            } catch (Exception e) {
                // closing quietly
            }
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    /** How a {@link SpreadCandidate} is made. */
    public static final class Builder {
        private final String identity;
        private final String group;
        private final List<String> leases;
        private final Timings timings;
        private MockApiServer server;
        private String namespace;
        private boolean proxied;
        private Vertx vertx;
        private Path directory;
        private Duration presenceInterval = Duration.ofSeconds(30);
        private Function<String, ElectionLog> logs = lease -> new ElectionLog();
        private ElectionClock clock = ElectionClock.system();
        private UnaryOperator<LeaseStore> storeWrapper = UnaryOperator.identity();
        private UnaryOperator<PresenceStore> presenceWrapper = UnaryOperator.identity();

        private Builder(String identity, String group, List<String> leases, Timings timings) {
            this.identity = Objects.requireNonNull(identity);
            this.group = Objects.requireNonNull(group);
            this.leases = List.copyOf(leases);
            this.timings = Objects.requireNonNull(timings);
            if (leases.isEmpty()) {
                throw new IllegalArgumentException("no election");
            }
        }

        /**
         * On the mock API server, in {@code namespace}; through a proxy of its own if {@code proxied}; on the shared
         * {@code vertx} if not null.
         */
        public Builder kubernetes(MockApiServer server, String namespace, boolean proxied, Vertx vertx) {
            this.server = server;
            this.namespace = namespace;
            this.proxied = proxied;
            this.vertx = vertx;
            return this;
        }

        /** On lease files (and presence files) in {@code directory}. */
        public Builder local(Path directory) {
            this.directory = directory;
            return this;
        }

        /** How often it announces itself (the auto-configuration's default: 30 s). */
        public Builder presenceInterval(Duration interval) {
            this.presenceInterval = interval;
            return this;
        }

        /** Where each election's grants and revocations go, by lease name. */
        public Builder logs(Function<String, ElectionLog> logsByLease) {
            this.logs = logsByLease;
            return this;
        }

        public Builder clock(ElectionClock electionClock) {
            this.clock = electionClock;
            return this;
        }

        /** Wraps the lease store (once, for all elections). */
        public Builder storeWrapper(UnaryOperator<LeaseStore> wrapper) {
            this.storeWrapper = wrapper;
            return this;
        }

        /** Wraps the presence store. */
        public Builder presenceWrapper(UnaryOperator<PresenceStore> wrapper) {
            this.presenceWrapper = wrapper;
            return this;
        }

        public SpreadCandidate build() {
            if ((server == null) == (directory == null)) {
                throw new IllegalStateException("either kubernetes(...) or local(...)");
            }
            return new SpreadCandidate(this);
        }
    }
}
