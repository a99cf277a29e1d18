package dev.leaderpod.test;

import dev.leaderpod.autoconfigure.LeaderElections;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.Leadership;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.VersionedLease;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Leadership in a test, granted and revoked by the test. The elections of the application context run as they do in
 * production — the same electors, {@code @LeaderOnly} gating and drain, listeners, {@code OnGrantedEvent} /
 * {@code OnRevokedEvent}, lifecycle beans, meters — but on an in-memory lease, on a clock that stands still and on
 * executors that run only when this class runs them: nothing happens in the background, and no term ends on its own.
 *
 * <p>Initially nobody leads: every lease is held by {@link #OTHER_CANDIDATE}, a stand-in for the other replicas.
 * {@link #grant()} makes that candidate hand the lease to this instance; {@link #revoke()} makes it take the lease
 * back. Both return once everything the transition causes has run, on the calling thread: the listeners, the
 * {@code @LeaderOnly} lifecycle beans (started on a grant, stopped on a revocation), the drain of running
 * {@code @LeaderOnly} calls, and the events. {@link #revokeAsync()} ends the term on the calling thread and leaves
 * the drain and the events to another thread, for a test that revokes while a {@code @LeaderOnly} call runs.
 *
 * <pre>{@code
 * @SpringBootTest
 * class PriceJobTest {
 *
 *     @Autowired TestLeadership leadership;
 *     @Autowired PriceJob job;
 *
 *     @Test
 *     void publishesOnlyWhileLeading() {
 *         job.publishPrices();                              // a follower's call: skipped
 *         long token = leadership.grant().fencingToken();
 *         job.publishPrices();                              // runs, with the granted token
 *         leadership.revoke();
 *     }
 * }
 * }</pre>
 *
 * <p>Every grant is a new term whose fencing token is larger than any before it (the other candidate's terms take
 * tokens too): read it from {@link #grant()} or {@link #fencingToken()}, never assume a value. After each test method
 * the kit revokes every election, so each test starts with no leader even in a cached context.
 *
 * <p>Thread-safe. Only one thread at a time runs the elections' tasks: a call made while another thread does (a
 * revocation draining a {@code @LeaderOnly} call) waits for it, at most until the drain timeout has passed.
 */
public final class TestLeadership {

    /** The identity of the stand-in for the other replicas, which holds every lease this instance does not lead. */
    public static final String OTHER_CANDIDATE = "leader-test-other-candidate";

    /** The duration of a released lease, as every candidate writes it: it may be taken at once. */
    private static final Duration RELEASED = Duration.ofSeconds(1);

    private final DrivenRuntime runtime;
    private final InMemoryLeaseStore store;
    private final Supplier<LeaderElections> elections;

    TestLeadership(DrivenRuntime runtime, InMemoryLeaseStore store, Supplier<LeaderElections> elections) {
        this.runtime = runtime;
        this.store = store;
        this.elections = elections;
    }

    /**
     * Makes this instance the leader of the default election and returns its term, once the listeners, the
     * {@code @LeaderOnly} lifecycle beans and the {@code OnGrantedEvent} listeners ran. While it leads already, returns
     * the current term.
     *
     * @throws IllegalStateException if the elections do not run (the context was not started, or is closed)
     */
    public LeadershipTerm grant() {
        return grant(LeaderElections.DEFAULT);
    }

    /**
     * Makes this instance the leader of the election {@code election} ({@code ""}: the default one), as
     * {@link #grant()} does; the other elections are left as they are.
     *
     * @throws IllegalArgumentException if there is no such election
     * @throws IllegalStateException if this instance is no candidate in it ({@code leader.elections.<name>.enabled=false}),
     *     or the elections do not run
     */
    public LeadershipTerm grant(String election) {
        return runtime.drive(() -> {
            runtime.runAll();
            LeaseElector elector = elector(election);
            Optional<LeadershipTerm> current = elector.currentTerm();
            if (current.isPresent()) {
                return current.get();
            }
            handOverTo(elector);
            runtime.runAll();
            return elector.currentTerm()
                    .orElseThrow(() -> new IllegalStateException("This instance did not take the lease "
                            + elector.leaseName() + " handed to it: " + elector.snapshot()));
        });
    }

    /**
     * Ends this instance's term of the default election: the other candidate takes the lease. Returns once the term
     * is over ({@code isLeader()} false, {@code isCurrent(term)} false), the {@code @LeaderOnly} lifecycle beans
     * stopped, the running {@code @LeaderOnly} calls of the term returned (or {@code leader.drain-timeout} passed),
     * and the {@code OnRevokedEvent} listeners ran; the listeners are told the reason
     * {@link dev.leaderpod.core.RevocationReason#LOST}. Does nothing when this instance does not lead.
     *
     * <p>The drain runs on the calling thread: a test that revokes while a {@code @LeaderOnly} call it started is
     * blocked uses {@link #revokeAsync()}.
     */
    public void revoke() {
        revoke(LeaderElections.DEFAULT);
    }

    /**
     * Ends this instance's term of the election {@code election}, as {@link #revoke()} does.
     *
     * @throws IllegalArgumentException if there is no such election
     */
    public void revoke(String election) {
        runtime.drive(() -> {
            runtime.runAll();
            LeaseElector elector = elector(election);
            Optional<LeadershipTerm> term = elector.currentTerm();
            if (term.isPresent()) {
                takeOver(elector);
                runtime.runAll();
                requireEnded(elector, term.get());
            }
            return null;
        });
    }

    /**
     * Ends this instance's term of the default election on the calling thread and returns at once; the rest of the
     * revocation (lifecycle beans stopped, running {@code @LeaderOnly} calls drained, {@code OnRevokedEvent}) runs on
     * another thread, and the returned future completes when it is done. For a test that revokes while a
     * {@code @LeaderOnly} call is blocked inside:
     *
     * <pre>{@code
     * CompletableFuture<Void> revoked = leadership.revokeAsync();
     * // the term is over already: elector.isCurrent(term) is false, inside the call too
     * assertThat(revoked).isNotDone();                   // the drain waits for the call
     * proceed.countDown();                               // let the call return
     * revoked.get(10, SECONDS);                          // OnRevokedEvent was published
     * }</pre>
     *
     * Completed at once when this instance does not lead. Until the future completes, other calls of this class
     * (and the context's close) wait for it.
     *
     * @throws IllegalStateException if called from a listener or an event of the elections
     */
    public CompletableFuture<Void> revokeAsync() {
        return revokeAsync(LeaderElections.DEFAULT);
    }

    /**
     * Ends this instance's term of the election {@code election}, as {@link #revokeAsync()} does.
     *
     * @throws IllegalArgumentException if there is no such election
     */
    public CompletableFuture<Void> revokeAsync(String election) {
        runtime.acquire();
        boolean handedOver = false;
        try {
            runtime.requireHandOverPossible();
            runtime.runAll();
            LeaseElector elector = elector(election);
            Optional<LeadershipTerm> term = elector.currentTerm();
            if (term.isEmpty()) {
                return CompletableFuture.completedFuture(null);
            }
            takeOver(elector);
            runtime.runAllButEvents();
            requireEnded(elector, term.get());
            CompletableFuture<Void> revoked = new CompletableFuture<>();
            Thread drain = new Thread(
                    () -> {
                        try {
                            runtime.runAll();
                            revoked.complete(null);
                        } catch (Throwable e) {
                            revoked.completeExceptionally(e);
                        } finally {
                            runtime.release();
                        }
                    },
                    "test-leadership-revoke-" + elector.leaseName());
            drain.setDaemon(true);
            runtime.handOver(drain);
            handedOver = true;
            drain.start();
            return revoked;
        } finally {
            if (!handedOver) {
                runtime.release();
            }
        }
    }

    /** Ends every term this instance has, as {@link #revoke(String)} does for each election. */
    public void revokeAll() {
        runtime.drive(() -> {
            runtime.runAll();
            List<String> leading = new ArrayList<>();
            elections().electors().forEach((name, elector) -> {
                if (elector.currentTerm().isPresent()) {
                    leading.add(name);
                }
            });
            leading.forEach(this::revoke);
            return null;
        });
    }

    /**
     * Runs what the elections have to do now, and returns once it ran: what the application started itself, such as
     * a yield ({@code LeaderContext.yield()}, {@code POST /actuator/leader}) or a named election that a lazy bean
     * declared. {@link #grant()} and {@link #revoke()} do it first anyway.
     */
    public void runPending() {
        runtime.drive(() -> {
            runtime.runAll();
            return null;
        });
    }

    /** The current term of the default election: empty unless this instance leads it. */
    public Optional<LeadershipTerm> term() {
        return term(LeaderElections.DEFAULT);
    }

    /**
     * The current term of the election {@code election}: empty unless this instance leads it.
     *
     * @throws IllegalArgumentException if there is no such election
     */
    public Optional<LeadershipTerm> term(String election) {
        return elections().election(election).currentTerm();
    }

    /**
     * The fencing token of the current term of the default election.
     *
     * @throws IllegalStateException if this instance does not lead it
     */
    public long fencingToken() {
        return fencingToken(LeaderElections.DEFAULT);
    }

    /**
     * The fencing token of the current term of the election {@code election}.
     *
     * @throws IllegalArgumentException if there is no such election
     * @throws IllegalStateException if this instance does not lead it
     */
    public long fencingToken(String election) {
        return term(election)
                .orElseThrow(() -> new IllegalStateException(
                        "This instance does not lead the election " + describe(election) + ": grant it first"))
                .fencingToken();
    }

    private LeaseElector elector(String election) {
        LeaderElections all = elections();
        Leadership leadership = all.election(election);
        LeaseElector elector = all.electors().get(election == null ? LeaderElections.DEFAULT : election);
        if (elector == null) {
            throw new IllegalStateException("This instance is no candidate in the election " + describe(election)
                    + " (leader.elections." + election + ".enabled=false): it can be neither granted nor revoked"
                    + " (lease " + leadership.leaseName() + ")");
        }
        if (!elector.isRunning()) {
            throw new IllegalStateException("The election " + describe(election) + " does not run: the application"
                    + " context was not started, or is closed");
        }
        return elector;
    }

    private LeaderElections elections() {
        return elections.get();
    }

    /** The other candidate releases the lease to this instance: a release naming it as the successor. */
    private void handOverTo(LeaseElector elector) {
        String lease = elector.leaseName();
        Optional<VersionedLease> current = store.get(lease);
        LeaseRecord base = current.map(VersionedLease::record).orElse(null);
        LeaseRecord release = new LeaseRecord(
                "",
                RELEASED,
                base == null ? runtime.wallTime() : base.acquireTime(),
                runtime.wallTime(),
                base == null ? 0L : base.transitionsOrZero(),
                base == null ? null : base.application(),
                elector.identity());
        if (current.isPresent()) {
            store.update(lease, release, current.get().version());
        } else {
            store.create(lease, release);
        }
    }

    /** The other candidate takes the lease over from this instance: a new term of its own, with the next token. */
    private void takeOver(LeaseElector elector) {
        String lease = elector.leaseName();
        VersionedLease current = store.get(lease)
                .orElseThrow(() -> new IllegalStateException("The lease " + lease + " of a leading election is gone"));
        LeaseRecord record = current.record();
        store.update(
                lease,
                new LeaseRecord(
                        OTHER_CANDIDATE,
                        elector.settings().leaseDuration(),
                        runtime.wallTime(),
                        runtime.wallTime(),
                        record.transitionsOrZero() + 1,
                        record.application()),
                current.version());
    }

    private static void requireEnded(LeaseElector elector, LeadershipTerm term) {
        if (elector.isCurrent(term)) {
            throw new IllegalStateException("The term " + term.fencingToken() + " of " + elector.leaseName()
                    + " did not end when another candidate took the lease: " + elector.snapshot());
        }
    }

    private static String describe(String election) {
        return election == null || election.isEmpty() ? "'' (the default)" : "'" + election + "'";
    }
}
