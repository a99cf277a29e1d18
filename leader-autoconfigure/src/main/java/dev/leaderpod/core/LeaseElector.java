package dev.leaderpod.core;

import dev.leaderpod.core.StoreCalls.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Elects one leader among candidates sharing a lease in a {@link LeaseStore}, with client-go's acquire/renew
 * loop and its safety model. Every guarantee below is explained, with the tests that prove it, in the project's
 * {@code docs/design.md}.
 *
 * <h2>Guarantees</h2>
 *
 * <ul>
 *   <li><b>Expiry by local observation.</b> A follower considers a lease expired only when
 *       {@code max(record's duration, own lease-duration)} has passed on its own monotonic clock since it last saw the
 *       lease change. The holder's {@code renewTime} is never compared with the local wall clock, and a third party
 *       shortening the record's duration cannot shorten the wait.
 *   <li><b>An absent lease is not a free lease.</b> A lease that is missing (deleted while its holder may be cut off)
 *       is created at once but held — renewed, not led — for a lease duration before its term starts, unless the
 *       store proves, atomically with the create, that it never existed.
 *   <li><b>Step down before anyone can take over.</b> {@link #isLeader()} is true only until {@code renewDeadline}
 *       after the last successful renew was <em>sent</em>, evaluated at call time. The timer that ends the term runs
 *       on the election thread, which never performs or waits for I/O: store calls run on I/O threads, each bounded
 *       by the elector's own clock and abandoned after the bound, so no call can delay a revocation.
 *   <li><b>Announce after the write.</b> {@link LeadershipListener#onStartedLeading} runs only after the write
 *       that made this candidate holder succeeded.
 *   <li><b>One write per renew.</b> The leader writes on top of the version of its own last write; only a
 *       conflict makes it read again.
 *   <li><b>Watch to be fast, poll to be right.</b> With a store that can watch, followers react to a release at
 *       once and otherwise only try when the lease would expire; a follower that hears nothing for longer than the
 *       leader's renew interval reads, and a watch proven to have missed a change is restarted, with polling
 *       meanwhile. Only a conflicting write, never the watch, keeps two candidates from both winning.
 *   <li><b>One term, one writer.</b> A term is this candidate's only if the record names its identity <em>and</em>
 *       the acquire time it wrote; a record with its identity but another term (a second process with the same
 *       identity, or a hand edit) ends its term and is waited out like any other holder's.
 *   <li><b>One lease, one application.</b> A record naming another application is refused.
 *   <li><b>Nothing but stop ends the election.</b> After losing, after any failure or {@link Throwable} of a store
 *       or listener, the candidate stays in the election with back-off; {@link #stop} leaves it and {@link #start}
 *       joins it again.
 *   <li><b>Fencing token.</b> Every new term takes a token greater than any this candidate has seen or written:
 *       {@link LeadershipTerm#fencingToken()}.
 * </ul>
 *
 * <h2>Limits</h2>
 *
 * A lease is not a mutex across a process pause longer than {@code renewDeadline}: code that checked
 * {@link #isLeader()} and then paused may act after another candidate took over. Pass the fencing token to the
 * systems you write to so they can reject a stale leader. Clocks must tick within 1 % of each other (validated by
 * {@link ElectionSettings}). A lease released by hand (holder cleared and duration set to 1 s) is taken at once.
 *
 * <h2>Threads</h2>
 *
 * An elector owns no threads: it runs on an {@link ElectionRuntime}, shared by all elections of an application, or
 * on a private one it creates when it starts and ends when it stops. The algorithm and its timers run on the
 * runtime's election thread, which never blocks; store calls on its I/O threads; listener callbacks on its event
 * thread.
 *
 * <h2>Where things are</h2>
 *
 * This class is the algorithm: the public view, start/stop/yield, the loop ({@link #cycle()} and {@code decide}, with
 * numbered steps), create/hold/acquire, renew, release, the start and end of terms, and the deadline. Around it,
 * package-private: {@link ObservedLease} (what was seen and since when: the expiry rule), {@link OwnTerms}
 * (recognising our own writes), {@link LeaseWrites} (what we write), {@link WatchSupervisor}, {@link StoreCalls}
 * (bounded calls off the election thread), {@link CycleScheduler} (one cycle at a time, and when the next runs),
 * {@link ElectionThreads} (getting onto the runtime's threads), {@link ListenerCalls} (callbacks on the event thread),
 * {@link CallHistory} (failures in a row, for back-off and diagnostics), {@link HoldOff} (after a yield), {@link Turns} (who takes a free lease first),
 * {@link Backoff} and {@link ElectionLog} (every log line).
 *
 * <p>Reading order: {@link #cycle()} runs steps 1–3 (deadline, hold, renew, read) and {@code decide} steps 4–10 (who
 * may take over); {@code startTerm}, {@code checkDeadline} and {@link #isLeader()} are the term and its deadline;
 * {@link ObservedLease#expired} is the expiry rule.
 */
public final class LeaseElector implements Leadership {

    private enum State {
        NEW,
        RUNNING,
        STOPPED
    }

    /** A term in progress: valid until {@code validUntilNanos} unless renewed. Replaced, never mutated. */
    private record Term(LeadershipTerm info, long validUntilNanos) {}

    /**
     * A lease this candidate created and holds without leading: its term starts at {@code termAtNanos}; the next
     * renew of the hold is due at {@code nextWriteAtNanos}.
     */
    private record Unconfirmed(
            VersionedLease lease, long termAtNanos, long nextWriteAtNanos, String previous, String how) {}

    /** A read: the lease, and whether the store proved that an absent lease never existed. */
    private record Read(Optional<VersionedLease> lease, boolean neverExisted) {}

    private final ElectionSettings settings;
    private final String name;
    private final String identity;
    private final LeaseStore store;
    private final ElectionMonitor monitor;
    private final ElectionClock clock;
    private final boolean watchEnabled;
    private final Candidacy candidacy;
    /** Test seam, a no-op otherwise: see {@link Builder#termStartSeam}. */
    private final Consumer<Boolean> termStartSeam;

    private final Backoff backoff;
    private final ElectionLog log;
    private final ObservedLease observed;
    private final OwnTerms ownTerms;
    private final LeaseWrites writes;
    private final WatchSupervisor watch;
    private final CallHistory history;
    private final HoldOff holdOff;
    private final Turns turns;
    private final ElectionThreads threads;
    private final CycleScheduler cycles;
    private final ListenerCalls listeners;

    // Shared between threads.
    private final AtomicReference<Term> leading = new AtomicReference<>();
    /** Held while a term is made current and announced, and while stop() takes the term: see startTerm. */
    private final Object termStart = new Object();

    private final Object lifecycleMonitor = new Object();
    private volatile State state = State.NEW;
    private volatile StoreCalls calls;

    // Confined to the election thread.
    private Unconfirmed unconfirmed;
    /** When the hold of the lease this candidate created last ends; a stop before then must not release it. */
    private long holdEndsAtNanos;
    /** Acquire time of the write in flight that starts or holds a term not yet started (create, acquire, hold). */
    private Instant startingWrite;
    /** The revocation (drain) of the last yield, which stop() waits for before it releases; null if none. */
    private Future<?> yieldRevocation;

    private LeaseElector(Builder builder) {
        this.settings = builder.settings;
        this.name = settings.leaseName();
        this.identity = settings.identity();
        this.store = builder.store;
        this.monitor = builder.monitor;
        this.clock = builder.clock;
        this.watchEnabled = builder.watch;
        this.candidacy = builder.candidacy;
        this.termStartSeam = builder.termStartSeam;
        this.backoff = new Backoff(settings, builder.random);
        this.log = new ElectionLog(store.describe(name), settings, clock);
        this.observed = new ObservedLease(clock, settings.leaseDuration());
        this.ownTerms = new OwnTerms(identity, settings.renewDeadline().toNanos());
        this.writes = new LeaseWrites(
                identity, settings.leaseDuration(), builder.application, builder.allowOtherApplications, clock);
        this.history = new CallHistory(log);
        this.holdOff = new HoldOff(clock, settings.leaseDuration());
        this.turns = new Turns(identity, clock, observed, candidacy, settings.retryPeriod());
        this.threads = new ElectionThreads(builder.runtime, name, clock, log, this::isRunning, this::onLoopFailure);
        this.cycles = new CycleScheduler(threads, clock, this::isRunning, this::cycle, this::onStepFailure);
        this.listeners = new ListenerCalls(builder.listener, threads, log, history);
        this.watch =
                new WatchSupervisor(store, settings, clock, log, backoff, new WatchListener(), threads::whileRunning);
    }

    /** Starts building an elector for {@code settings} over {@code store}. */
    public static Builder builder(ElectionSettings settings, LeaseStore store) {
        return new Builder(settings, store);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Public view

    @Override
    public String leaseName() {
        return name;
    }

    @Override
    public String identity() {
        return identity;
    }

    @Override
    public boolean isLeader() {
        Term term = leading.get();
        return term != null && isRunning() && clock.nanoTime() - term.validUntilNanos() < 0;
    }

    @Override
    public Optional<LeadershipTerm> currentTerm() {
        Term term = leading.get();
        if (term == null || !isRunning() || clock.nanoTime() - term.validUntilNanos() >= 0) {
            return Optional.empty();
        }
        return Optional.of(term.info());
    }

    @Override
    public Optional<String> observedLeader() {
        VersionedLease lease = observed.lease();
        return lease == null || !lease.record().isHeld()
                ? Optional.empty()
                : Optional.of(lease.record().holderIdentity());
    }

    /**
     * Whether {@code term} is still the current, valid term: for code that captured a term and wants to know if it
     * may still act under it.
     */
    public boolean isCurrent(LeadershipTerm term) {
        return currentTerm().filter(current -> current == term).isPresent();
    }

    /** The settings of this election. */
    public ElectionSettings settings() {
        return settings;
    }

    /** What this candidate knows right now, without calling the store. */
    public ElectionSnapshot snapshot() {
        long now = clock.nanoTime();
        VersionedLease lease = observed.lease();
        return new ElectionSnapshot(
                name,
                identity,
                isLeader(),
                currentTerm(),
                Optional.ofNullable(lease),
                lease == null ? Optional.empty() : Optional.of(Duration.ofNanos(now - observed.changedAtNanos())),
                history.sinceLastWrite(now),
                history.failures(),
                Optional.ofNullable(history.lastFailure()),
                watch.healthy());
    }

    /** Whether {@link #start()} was called and {@link #stop} was not called since. */
    public boolean isRunning() {
        return state == State.RUNNING;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Lifecycle

    /**
     * Joins the election. Returns at once; leadership is announced through the listener. An elector that was stopped
     * may be started again (a context stopped and started, as around a checkpoint and restore).
     */
    public void start() {
        synchronized (lifecycleMonitor) {
            if (state == State.RUNNING) {
                throw new IllegalStateException("elector for " + name + " is already running");
            }
            ElectionRuntime runtime = threads.open();
            calls = new StoreCalls(
                    name,
                    runtime.io(),
                    runtime.election(),
                    clock,
                    settings.requestTimeout().plus(settings.requestTimeout().dividedBy(4)),
                    monitor,
                    history::answered,
                    this::onStepFailure);
            state = State.RUNNING;
        }
        log.joining();
        threads.whileRunning(() -> {
            cycles.reset();
            holdOff.clear();
            yieldRevocation = null;
            unconfirmed = null;
            startingWrite = null; // a call of the previous run never answers: its outcome was dropped
            observed.current(false);
            ElectionRuntime runtime = threads.runtime();
            watch.begin(watchEnabled, calls, runtime.election(), runtime.io());
            cycles.runNow(); // guarded like every cycle: one that throws is ended, and the next one comes
        });
    }

    /**
     * Leaves the election: stops leading at once ({@link #isLeader()} turns false), waits for
     * {@link LeadershipListener#onStoppedLeading} to finish, then releases the lease so a follower can take over
     * immediately. Bounded by {@code timeout}; if the store does not answer in time the lease is left to expire.
     */
    public void stop(Duration timeout) {
        synchronized (lifecycleMonitor) {
            if (state != State.RUNNING) {
                return;
            }
            state = State.STOPPED; // isLeader() turns false: a term ends with the run
        }
        long deadline = clock.nanoTime() + timeout.toNanos();
        calls.close(); // outcomes of calls still in flight belong to this run only
        // 1. Revoke first: listeners drain leader-only work before the lease is given to anybody else.
        Term term;
        synchronized (termStart) {
            term = leading.getAndSet(null); // never between a term's start and its announcement
        }
        if (term != null) {
            threads.await(listeners.stopped(term.info(), RevocationReason.SHUTDOWN), deadline, "revocation");
        }
        // 2. Stop the loop and the watch on the election thread; a term won meanwhile is revoked too.
        AtomicReference<VersionedLease> toRelease = new AtomicReference<>();
        AtomicReference<String> successor = new AtomicReference<>();
        AtomicReference<Term> late = new AtomicReference<>();
        AtomicReference<Future<?>> watchClosed = new AtomicReference<>();
        AtomicReference<Future<?>> yielded = new AtomicReference<>();
        threads.await(
                threads.onElectionThread(() -> {
                    cycles.cancel();
                    watchClosed.set(watch.close());
                    late.set(leading.getAndSet(null));
                    yielded.set(yieldRevocation);
                    VersionedLease mine = observed.lease();
                    // A lease this candidate created and still holds (its hold not over) is never released: a follower
                    // would take the release at once, while the holder of the deleted lease may still lead (docs/
                    // design.md, "Third parties cannot make two leaders"). It expires.
                    if (mine != null
                            && ownTerms.wrote(mine, clock.nanoTime())
                            && !(ownTerms.unstartedCreate(mine.record()) && clock.nanoTime() - holdEndsAtNanos < 0)) {
                        toRelease.set(mine);
                        successor.set(candidacy.successor(name));
                    }
                }),
                deadline,
                "stopping the election loop");
        if (late.get() != null) {
            threads.await(listeners.stopped(late.get().info(), RevocationReason.SHUTDOWN), deadline, "revocation");
        }
        // 2b. A yield that took the term before this stop (an operator's, a move, a candidacy that stopped standing)
        //     may still be draining; its own release went with the run. Release only once its revocation ran, as for
        //     a term this stop revokes itself. Called by a listener, the stop cannot wait for it (it is queued behind
        //     that very listener): it leaves the lease to expire rather than release before the drain.
        Future<?> yielding = yielded.get();
        boolean yieldDrained = yielding == null
                || yielding.isDone()
                || (!ListenerCalls.inListener() && threads.await(yielding, deadline, "revocation after a yield"));
        // 3. Release on an I/O thread, waiting at most until the deadline.
        if (toRelease.get() != null
                && yieldDrained
                && !threads.await(
                        threads.onIoThread(() -> releaseBlocking(toRelease.get(), successor.get())),
                        deadline,
                        "lease release")) {
            log.releaseTimedOut(timeout);
        }
        // 4. The watch's close, started in step 2, ends within the same deadline: no connection outlives stop().
        if (watchClosed.get() != null) {
            threads.await(watchClosed.get(), deadline, "watch close");
        }
        threads.close();
    }

    /**
     * Gives leadership up: revokes, releases the lease so another candidate can take it at once, and rejoins as a
     * follower that does not try to take it back for one lease duration. Does nothing when not leading. Returns at
     * once. The release names the {@link Candidacy#successor(String) candidacy's successor}, if it has one.
     */
    public void yieldLeadership() {
        yieldLeadership(null);
    }

    /**
     * Hands leadership to {@code successor}: like {@link #yieldLeadership()}, but the release names it, and other
     * candidates let it take the lease first for two retry periods (docs/design.md, "Hand-over to a successor"). A
     * successor that does not take it in that time leaves it to anyone. Never two leaders: the successor takes the
     * lease with the same compare-and-set as any candidate.
     *
     * @param successor the identity of the candidate to hand over to, or null for the candidacy's choice
     */
    public void yieldLeadership(String successor) {
        threads.whileRunning(() -> {
            Term term = leading.get();
            if (term != null) {
                yieldTerm(term, successor, true);
            }
        });
    }

    /**
     * Tells the elector that its {@link Candidacy#standing() candidacy's standing} may have changed, so that it acts
     * now rather than at its next cycle (docs/design.md, "Leadership follows readiness"). A leader that no longer
     * stands hands leadership over as a yield does — revoke, drain, then release naming the candidacy's successor —
     * but without the yield's hold-off: it takes nothing anyway while it does not stand, and once it stands again it
     * takes part at once. A follower that stands again looks at the lease now. Returns at once.
     */
    public void standingChanged() {
        threads.whileRunning(() -> {
            Term term = leading.get();
            if (term != null && !candidacy.standing()) {
                log.notStanding();
                yieldTerm(term, null, false);
            } else if (term == null && candidacy.standing()) {
                cycles.request(0);
            }
        });
    }

    /** Ends {@code term} as a yield: drain first (the listeners), then release; election thread. */
    private void yieldTerm(Term term, String successor, boolean holdOffAfter) {
        if (!leading.compareAndSet(term, null)) {
            return;
        }
        if (holdOffAfter) {
            holdOff.begin();
        }
        String to = successor != null ? successor : candidacy.successor(name);
        yieldRevocation = listeners.stopped(
                term.info(), RevocationReason.YIELDED, () -> threads.whileRunning(() -> releaseAfterYield(to)));
    }

    private void releaseAfterYield(String successor) {
        VersionedLease mine = observed.lease();
        if (leading.get() != null || mine == null || !ownTerms.wrote(mine, clock.nanoTime())) {
            return;
        }
        calls.call(StoreOperation.RELEASE, () -> releaseTerm(mine, successor), out -> {
            if (out.failed()) {
                log.couldNotRelease(out.failure());
            } else {
                see(out.value());
                log.released(successor);
            }
            cycles.request(followerDelay()); // follows, holding off: it sees who takes over
        });
    }

    /**
     * Releases the term {@code mine} holds; after a conflict, once more on top of the lease as it is now if that still
     * holds that very term (a renew of ours landed whose answer had not reached us): never another term, nor anybody
     * else's lease. As {@link #releaseBlocking} does when stopping.
     */
    private VersionedLease releaseTerm(VersionedLease mine, String successor) {
        try {
            return store.update(name, writes.release(mine.record(), successor), mine.version());
        } catch (LeaseConflictException e) {
            VersionedLease now = store.get(name).orElse(null);
            if (now == null
                    || !now.record().isHeldBy(identity)
                    || !Objects.equals(mine.record().acquireTime(), now.record().acquireTime())) {
                throw e;
            }
            return store.update(name, writes.release(now.record(), successor), now.version());
        }
    }

    /**
     * Releases {@code mine} from an I/O thread while stopping: once more after a conflict if the lease still holds
     * that very term. Never another term of ours: a release that outlives this stop must not release the term of the
     * next start.
     */
    private void releaseBlocking(VersionedLease mine, String successor) {
        Instant term = mine.record().acquireTime();
        for (int attempt = 0;
                attempt < 2
                        && mine != null
                        && mine.record().isHeldBy(identity)
                        && term.equals(mine.record().acquireTime());
                attempt++) {
            try {
                store.update(name, writes.release(mine.record(), successor), mine.version());
                log.released(successor);
                return;
            } catch (LeaseConflictException e) {
                mine = store.get(name).orElse(null); // maybe only our cache was stale
            } catch (Throwable e) {
                log.couldNotRelease(e);
                return;
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // The election loop (election thread). Store calls run elsewhere; each step continues when its call's outcome
    // comes back, and every path ends in finishCycle or failCycle, which schedule the next cycle.

    private void cycle() {
        if (!cycles.begin()) {
            return; // stopped, or another cycle runs: this one runs after it
        }
        history.cycleStarted();

        // 1. A leader whose deadline passed steps down before anything else (the timer may not have run yet).
        Term term = leading.get();
        if (term != null && clock.nanoTime() - term.validUntilNanos() >= 0) {
            stepDown(term, RevocationReason.DEADLINE_PASSED);
            term = null;
        }

        // 1b. A lease this candidate created is held (renewed, not led) for a lease duration before its term starts.
        //     A candidate that does not stand stops holding it (never releases it: a release would be taken at once,
        //     before the holder of a deleted lease has surely stopped leading); the others wait it out.
        Unconfirmed created = unconfirmed;
        if (created != null && !candidacy.standing()) {
            unconfirmed = null;
            created = null;
        }
        if (term == null && created != null) {
            long wait = created.nextWriteAtNanos() - clock.nanoTime();
            if (wait > 0) {
                finishCycle(wait);
            } else {
                hold(created);
            }
            return;
        }

        // 1c. A leader that no longer stands hands over (standingChanged() usually did already): drain, release.
        if (term != null && !candidacy.standing()) {
            log.notStanding();
            yieldTerm(term, null, false);
            finishCycle(followerDelay());
            return;
        }

        // 2. Renew: write on top of our own last write, no read first. A conflict is not a loss yet: read and decide.
        VersionedLease cached = observed.lease();
        if (term != null && cached != null && ownTerms.isTerm(cached.record(), term.info())) {
            Term renewing = term;
            renew(cached, renewing, out -> {
                if (out.conflict()) {
                    read(false, this::decide);
                } else {
                    afterRenew(out);
                }
            });
            return;
        }

        // 3. Read, unless a healthy watch keeps the cache fresh and the leader's renews are still heard (a stale cache
        //    only makes the write below fail). A follower that stopped hearing them reads, and checks the watch.
        boolean watchTrusted =
                term == null && watch.healthy() && observed.current() && (cached != null || observed.absent());
        if (watchTrusted && (observed.absent() || clock.nanoTime() - observed.changedAtNanos() < heartbeatNanos())) {
            decide(Optional.ofNullable(cached), true);
        } else {
            read(watchTrusted, this::decide);
        }
    }

    private void decide(Optional<VersionedLease> current) {
        decide(current, false);
    }

    /**
     * Steps 4–10 on the lease as just read (or as the watch keeps it).
     *
     * @param fromWatch whether {@code current} came from the watch rather than a read
     */
    private void decide(Optional<VersionedLease> current, boolean fromWatch) {
        Term term = leading.get(); // the deadline may have ended the term while the read was in flight

        // 4. No lease. It may have been deleted while its holder is cut off and still leading: create it at once, but
        //    lead only a lease duration after the create (unless the store proves the lease never existed).
        if (current.isEmpty()) {
            if (term != null) {
                stepDown(term, RevocationReason.RELEASED);
            }
            if (holdOff.active() || !candidacy.standing()) {
                finishCycle(followerDelay());
            } else {
                create(fromWatch, observed.neverExisted());
            }
            return;
        }

        VersionedLease lease = current.get();
        LeaseRecord record = lease.record();

        // 5. Another application's lease: never take part in it.
        if (writes.ofAnotherApplication(record)) {
            if (term != null) {
                stepDown(term, RevocationReason.LOST);
            }
            log.foreignApplication(record.application(), writes.application());
            finishCycle(Math.max(followerDelay(), settings.leaseDuration().toNanos()));
            return;
        }

        // 6. We lead but the lease is not our term: someone took it, cleared it, or wrote it with our identity.
        if (term != null && !ownTerms.isTerm(record, term.info())) {
            if (record.isHeldBy(identity)) {
                log.duplicateIdentity(lease, true);
            }
            stepDown(term, record.isHeld() ? RevocationReason.LOST : RevocationReason.RELEASED);
            term = null;
        }

        // 7. Still ours: renew with the version just read.
        if (term != null) {
            renew(lease, term, out -> {
                if (out.conflict()) {
                    read(false, ignored -> finishCycle(followerDelay()));
                } else {
                    afterRenew(out);
                }
            });
            return;
        }

        // 8. Held by somebody else (our identity in a term we did not write counts as somebody else) and not yet
        //    expired by our own clock, or free but not released by its holder: follow. So does a candidate that holds
        //    off after a yield (unless the lease is handed to it) or does not stand (whatever the lease).
        boolean ownEarlierTerm = ownTerms.wrote(lease, clock.nanoTime());
        if (record.isHeldBy(identity) && !ownEarlierTerm) {
            log.duplicateIdentity(lease, false);
        }
        if ((!ownEarlierTerm && !ObservedLease.isRelease(record) && !observed.expired(record))
                || (holdOff.active() && !turns.handedToUs(record) && !turns.successorMissedItsTurn(record))
                || !candidacy.standing()) {
            finishCycle(followerDelay());
            return;
        }

        // 9. A lease this candidate created (its answer lost, or its hold interrupted): hold it before leading, from
        // now.
        if (ownTerms.unstartedCreate(record)) {
            long now = clock.nanoTime();
            unconfirmed = new Unconfirmed(
                    lease, now + observed.absenceWaitNanos(), now, log.lastKnownHolder(), "created the lease");
            holdEndsAtNanos = unconfirmed.termAtNanos();
            finishCycle(0);
            return;
        }

        // 10. Free for us, but maybe not yet: a release handed to another candidate is left to it for a while, and a
        //     lease free for all is left to candidates with less patience first (docs/design.md, "Spreading
        // elections").
        if (!ownEarlierTerm) {
            long wait = turns.untilOurTurnNanos(record);
            if (wait > 0) {
                finishCycle(wait);
                return;
            }
        }

        // 11. Free, expired, or ours from an earlier term: start a new term with a token above any seen.
        acquire(lease, fromWatch);
    }

    /**
     * @param ifNeverExisted whether to create before the absence expired, on the store's proof that the lease never
     *     existed: the proof is checked atomically with the create, never taken from an earlier read
     */
    private void create(boolean fromWatch, boolean ifNeverExisted) {
        Instant start = ownTerms.startTime(clock.wallTime());
        LeaseRecord fresh = writes.newTerm(start, observed.firstToken());
        if (!ifNeverExisted) {
            ownTerms.sentCreate(start);
        }
        write(
                StoreOperation.CREATE,
                start,
                ifNeverExisted ? () -> store.createIfNeverExisted(name, fresh) : () -> store.create(name, fresh),
                log.lastKnownHolder(),
                "created the lease",
                fromWatch,
                !ifNeverExisted);
    }

    private void acquire(VersionedLease lease, boolean fromWatch) {
        LeaseRecord record = lease.record();
        if (!ObservedLease.plausible(record)) {
            log.implausibleToken(record.transitionsOrZero());
        }
        Instant start = ownTerms.startTime(clock.wallTime());
        LeaseRecord taken = writes.newTerm(start, observed.nextToken(record));
        String previous = record.isHeld() ? record.holderIdentity() : log.lastKnownHolder();
        String how = !record.isHeld()
                ? (previous == null ? "the lease was free" : previous + " had released the lease")
                : ownTerms.wrote(lease, clock.nanoTime())
                        ? "its own earlier term had ended"
                        : "the lease was not renewed for " + Duration.ofNanos(observed.expiryNanos(record))
                                + " by this candidate's clock";
        write(
                StoreOperation.ACQUIRE,
                start,
                () -> store.update(name, taken, lease.version()),
                previous,
                how,
                fromWatch,
                false);
    }

    /** Writes a record that starts a term; the term starts (and is announced) only once the write succeeded. */
    private void write(
            StoreOperation operation,
            Instant start,
            Supplier<VersionedLease> write,
            String previous,
            String how,
            boolean reliedOnWatch,
            boolean confirmFirst) {
        long sentAt = clock.nanoTime();
        ownTerms.sent(start, sentAt);
        startingWrite = start;
        calls.call(operation, write, out -> {
            startingWrite = null;
            if (out.conflict()) {
                ownTerms.lost(start); // it did not land: a record with this acquire time is somebody else's
                observed.forgetNeverExisted();
                onLostRace(reliedOnWatch);
            } else if (out.failed()) {
                failCycle(out);
                VersionedLease seen = observed.lease();
                if (seen != null && isWriteOfTerm(seen.record(), start)) {
                    // Its answer was lost, but the watch delivered it (its echo): it landed. Take it back now, as the
                    // next read would, rather than after a back-off.
                    cycles.request(0);
                }
            } else if (confirmFirst) {
                onOwnWrite(out.value(), sentAt);
                long now = clock.nanoTime();
                unconfirmed = new Unconfirmed(
                        out.value(),
                        now + observed.absenceWaitNanos(),
                        now + settings.retryPeriod().toNanos(),
                        previous,
                        how);
                holdEndsAtNanos = unconfirmed.termAtNanos();
                log.holding(Duration.ofNanos(observed.absenceWaitNanos()));
                finishCycle(settings.retryPeriod().toNanos());
            } else if (!candidacy.standing()) {
                // It stopped standing while the write was in flight (standingChanged() found no term to hand over):
                // the write landed but starts nothing. The lease is left as an earlier write of ours: taken back
                // (a new term) once it stands again, else waited out by the others.
                onOwnWrite(out.value(), sentAt);
                log.notStandingWhenTermWouldStart();
                finishCycle(followerDelay());
            } else {
                onOwnWrite(out.value(), sentAt);
                startTerm(out.value(), sentAt, previous, how);
                finishCycle(settings.retryPeriod().toNanos());
            }
        });
    }

    /**
     * Holds a lease this candidate created: renews it, without leading, until a lease duration has passed since the
     * create was answered; then the renew that ends the hold starts the term. Whoever held the deleted lease wrote it
     * last before the deletion, so before this create landed, and stopped leading a renew deadline after that write:
     * before this term starts, however the lease was deleted and created in between and whoever saw it (docs/design.md,
     * "Third parties cannot make two leaders").
     */
    private void hold(Unconfirmed created) {
        unconfirmed = null;
        LeaseRecord record = created.lease().record();
        long sentAt = clock.nanoTime();
        boolean last = sentAt - created.termAtNanos() >= 0;
        // The last renew of the hold starts the term: above any higher token seen while holding (a hand edit, a lease
        // recreated by someone else).
        Long token = last && observed.highestToken() > record.transitionsOrZero()
                ? Long.valueOf(observed.highestToken() + 1)
                : record.leaseTransitions();
        LeaseRecord write = writes.holding(record, token);
        ownTerms.sent(record.acquireTime(), sentAt);
        startingWrite = record.acquireTime();
        calls.call(
                StoreOperation.RENEW,
                () -> store.update(name, write, created.lease().version()),
                out -> {
                    startingWrite = null;
                    if (out.conflict()) {
                        read(false, this::decide); // somebody else wrote since: decide on what is there now
                    } else if (out.failed()) {
                        unconfirmed = created; // try again; if it cannot be renewed, others take it after expiry
                        failCycle(out);
                    } else if (last && !candidacy.standing()) {
                        // It stopped standing during the hold's last write: no term; it stops holding (1b).
                        onOwnWrite(out.value(), sentAt);
                        log.notStandingWhenTermWouldStart();
                        finishCycle(followerDelay());
                    } else if (last) {
                        onOwnWrite(out.value(), sentAt);
                        startTerm(out.value(), sentAt, created.previous(), created.how());
                        finishCycle(settings.retryPeriod().toNanos());
                    } else {
                        onOwnWrite(out.value(), sentAt);
                        long nextWrite = Math.min(
                                clock.nanoTime() + settings.retryPeriod().toNanos(), created.termAtNanos());
                        unconfirmed = new Unconfirmed(
                                out.value(), created.termAtNanos(), nextWrite, created.previous(), created.how());
                        holdEndsAtNanos = unconfirmed.termAtNanos();
                        finishCycle(nextWrite - clock.nanoTime());
                    }
                });
    }

    /**
     * A write that started a term lost to another writer. If it relied on the watch and the watch never delivered the
     * winner, the watch missed it: restart the watch (two candidates racing for a release is no fault of the watch).
     */
    private void onLostRace(boolean reliedOnWatch) {
        read(false, winner -> {
            if (reliedOnWatch
                    && !watch.delivered(winner.map(VersionedLease::version).orElse(null))) {
                observed.current(false); // poll until the watch proves itself
                watch.suspect("a write that relied on it conflicted with a change it had not delivered");
            }
            finishCycle(followerDelay());
        });
    }

    /** Extends {@code term} by writing on top of {@code base}; {@code then} gets the outcome. */
    private void renew(VersionedLease base, Term term, StoreCalls.Continuation<VersionedLease> then) {
        LeadershipTerm info = term.info();
        LeaseRecord next = writes.renewal(info, base.record()); // the term's token, whatever a third party wrote
        long sentAt = clock.nanoTime();
        ownTerms.sent(info.acquiredAt(), sentAt);
        calls.call(StoreOperation.RENEW, () -> store.update(name, next, base.version()), out -> {
            if (!out.failed()) {
                onOwnWrite(out.value(), sentAt);
                if (clock.nanoTime() - term.validUntilNanos() >= 0
                        || !leading.compareAndSet(
                                term,
                                new Term(info, sentAt + settings.renewDeadline().toNanos()))) {
                    // The deadline passed while the call was in flight (even if its timer has not run yet): the write
                    // landed, but the term is over and never resumes. The next cycle starts a new term with a new
                    // fencing token.
                    stepDown(term, RevocationReason.DEADLINE_PASSED);
                    finishCycle(0);
                    return;
                }
            }
            then.accept(out);
        });
    }

    private void afterRenew(Outcome<VersionedLease> out) {
        if (out.failed()) {
            failCycle(out);
        } else {
            finishCycle(leading.get() != null ? settings.retryPeriod().toNanos() : 0);
        }
    }

    /**
     * Reads the lease and hands it to {@code then}; a failed read fails the cycle.
     *
     * @param checkWatch whether the read replaces a trusted watch: a change it shows that the watch did not deliver
     *     proves the watch missed it
     */
    private void read(boolean checkWatch, Consumer<Optional<VersionedLease>> then) {
        calls.call(
                StoreOperation.GET,
                () -> {
                    Optional<VersionedLease> lease = store.get(name);
                    return new Read(lease, lease.isEmpty() && store.provablyNeverExisted(name));
                },
                out -> {
                    if (out.failed()) {
                        failCycle(out);
                        return;
                    }
                    Read read = out.value();
                    boolean changed = read.lease().map(this::see).orElseGet(() -> seeAbsent(read.neverExisted()));
                    observed.current(watch.healthy());
                    if (checkWatch && changed) {
                        observed.current(false); // poll until the watch proves itself
                        watch.suspect("a read found a change it had not delivered");
                    }
                    then.accept(read.lease());
                });
    }

    /** Records a lease that was read or watched; tells listeners of a new holder. Returns whether it changed. */
    private boolean see(VersionedLease lease) {
        boolean changed = observed.see(lease);
        listeners.seen(lease.record());
        return changed;
    }

    private boolean seeAbsent(boolean neverExisted) {
        boolean wasAbsent = observed.absent();
        if (observed.seeAbsent(neverExisted)) {
            log.deleted();
        }
        return !wasAbsent;
    }

    private void onOwnWrite(VersionedLease written, long sentAt) {
        ownTerms.landed(written);
        observed.seeOwnWrite(written, sentAt);
        history.landed(sentAt);
        listeners.seen(written.record());
    }

    /** Whether {@code record} is the write in flight that starts or holds a term of this candidate. */
    private boolean isStartingWrite(LeaseRecord record) {
        return startingWrite != null && isWriteOfTerm(record, startingWrite);
    }

    /** Whether {@code record} names this candidate and the term that started (or starts) at {@code acquireTime}. */
    private boolean isWriteOfTerm(LeaseRecord record, Instant acquireTime) {
        return record.isHeldBy(identity) && acquireTime.equals(record.acquireTime());
    }

    /** How long a watching follower waits for the leader's next renew before it reads for itself. */
    private long heartbeatNanos() {
        return settings.retryPeriod().toNanos() * 5 / 4;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Terms and their deadline (election thread; listeners on the event thread)

    private void startTerm(VersionedLease written, long sentAt, String previous, String how) {
        if (!isRunning()) {
            return; // stop() releases what it finds; never announce a term that is already over
        }
        LeaseRecord record = written.record();
        ownTerms.started(record.acquireTime());
        LeadershipTerm info = new LeadershipTerm(name, identity, record.transitionsOrZero(), record.acquireTime());
        long validUntil = sentAt + settings.renewDeadline().toNanos();
        termStartSeam.accept(false);
        // Current and announced at once for stop(), which takes the term under the same lock on its own thread: its
        // revocation is never queued before the grant. (A term made current after stop() took the term is revoked by
        // the stop's second step, on this thread.) Nothing here waits: the lock is held for a log line and an enqueue.
        synchronized (termStart) {
            if (!leading.compareAndSet(null, new Term(info, validUntil))) {
                return; // a term is current already: never replace it
            }
            termStartSeam.accept(true);
            log.leads(info, previous, how);
            listeners.started(info);
        }
        armDeadline(info, validUntil);
    }

    /** The deadline timer runs on the election thread, which never waits for I/O: it is on time. */
    private void armDeadline(LeadershipTerm info, long validUntilNanos) {
        threads.schedule(() -> checkDeadline(info), validUntilNanos - clock.nanoTime());
    }

    /** Runs at the deadline; re-arms itself if the term was renewed meanwhile, else ends the term. */
    private void checkDeadline(LeadershipTerm info) {
        Term term = leading.get();
        if (term == null || term.info() != info) {
            return;
        }
        if (term.validUntilNanos() - clock.nanoTime() > 0) {
            armDeadline(info, term.validUntilNanos());
        } else {
            stepDown(term, RevocationReason.DEADLINE_PASSED);
        }
    }

    private void stepDown(Term term, RevocationReason reason) {
        if (leading.compareAndSet(term, null)) {
            listeners.stopped(term.info(), reason);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Ends of cycles and failures (election thread)

    private void finishCycle(long delayNanos) {
        cycles.finish(delayNanos);
        log.cycleEnded(history.conflictThisCycle());
    }

    private void failCycle(Outcome<?> out) {
        int failures = history.failed(out.kind());
        Term term = leading.get();
        long left = term == null ? -1 : Math.max(0, term.validUntilNanos() - clock.nanoTime());
        log.failed(out.kind(), out.failure(), failures, left);
        if (term != null) {
            finishCycle(settings.retryPeriod().toNanos()); // keep trying to renew until the deadline
            return;
        }
        // A follower backs off; one holding a lease it created keeps renewing it as a leader would.
        long delay = unconfirmed != null ? settings.retryPeriod().toNanos() : backoff.afterFailures(failures);
        finishCycle(backoff.jittered(Duration.ofNanos(delay)));
    }

    /**
     * When a follower's next cycle runs. A candidate holding off after a yield follows like any other — it reads,
     * watches and expects the leader's renews, so its view of the lease stays current — but takes nothing before the
     * hold-off ends (decide, steps 4 and 8). Where another follower would act now, it waits for the watch's news or,
     * without a trusted watch, polls; and it looks again the moment the hold-off ends. A candidate that does not
     * stand ({@link Candidacy#standing()}) is held off the same way with no end: where another would act now, it
     * polls.
     */
    private long followerDelay() {
        if (!candidacy.standing()) {
            // Takes nothing, open-ended: follows as any follower, but where one would act now it looks again a poll
            // later (standingChanged() brings that forward when it stands again).
            long delay = untilNextLookNanos();
            return delay > 0 ? delay : backoff.poll();
        }
        VersionedLease seen = observed.lease();
        if (seen != null && turns.handedToUs(seen.record())) {
            return 0; // even while holding off after a yield: a release naming us is ours to take
        }
        long delay = untilNextLookNanos();
        if (!holdOff.active()) {
            return delay;
        }
        long remaining = holdOff.remainingNanos();
        if (delay == 0 && !(watch.healthy() && observed.current())) {
            delay = backoff.poll();
        }
        return delay == 0 ? remaining : Math.min(delay, remaining);
    }

    /** When a follower looks at the lease again: 0 when it may be taken now. */
    private long untilNextLookNanos() {
        boolean watchTrusted = watch.healthy() && observed.current();
        if (observed.absent()) {
            return 0; // create it (and hold it a lease duration before leading)
        }
        VersionedLease lease = observed.lease();
        if (!watchTrusted || lease == null) {
            return backoff.poll();
        }
        LeaseRecord record = lease.record();
        if (ownTerms.wrote(lease, clock.nanoTime())) {
            return 0;
        }
        if (ObservedLease.isRelease(record)) {
            return Math.max(0, turns.untilOurTurnNanos(record));
        }
        // With a healthy watch a follower need not poll: it tries when the lease would expire, and reads if the
        // leader's renews stop arriving (a dead leader, or a watch that died without closing).
        long untilHeartbeatMissed = observed.changedAtNanos() + heartbeatNanos() - clock.nanoTime();
        long next = untilHeartbeatMissed > 0 ? untilHeartbeatMissed : backoff.poll();
        return Math.max(0, Math.min(observed.untilExpiryNanos(), next));
    }

    /**
     * A step of the cycle threw (reported by {@link StoreCalls} for continuations, and by the {@link CycleScheduler}
     * for a cycle it ran): the algorithm failed (a bug, an {@link Error}); the loop goes on after a retry period. Every
     * step dispatches its store call last, so a step that threw has no call in flight and the cycle can be ended here.
     */
    private void onStepFailure(Throwable e) {
        log.loopFailed(e);
        if (cycles.inCycle()) {
            finishCycle(backoff.poll());
        }
    }

    /** Work hopped onto the election thread threw (the watch's news, a yield). */
    private void onLoopFailure(Throwable e) {
        log.loopFailed(e);
        cycles.requestWithin(backoff.poll());
    }

    /** What the watch tells the elector. */
    private final class WatchListener implements WatchSupervisor.Listener {

        @Override
        public void changed(Optional<VersionedLease> change) {
            Term term = leading.get();
            if (change.isEmpty()) {
                seeAbsent(false);
            } else if (term != null && ownTerms.isTerm(change.get().record(), term.info())) {
                return; // an echo of our own renew; our write result is the authoritative cache
            } else if (term == null && isStartingWrite(change.get().record())) {
                // The echo of the write that starts (or holds) a term, ahead of its answer: the answer ends the cycle
                // and says when the next runs. Asking for a cycle now would renew at once: a second write per term.
                see(change.get());
                return;
            } else {
                see(change.get());
            }
            if (term != null) {
                cycles.request(0); // someone else wrote while we lead: verify now
            } else if (watch.healthy() && observed.current()) {
                cycles.request(followerDelay()); // a trusted watch: the change restarts the wait for the next one
            } else {
                // A watch not trusted (no read since it started, or a read found a change it had not delivered yet):
                // its changes must not put off the poll whose read restores the trust. Each renew of the leader
                // would put it off by another retry period, and a release would be taken over only at a poll.
                cycles.requestWithin(followerDelay());
            }
        }

        @Override
        public void started() {
            observed.current(false); // changes may have been missed while there was no watch: read once
            if (leading.get() == null && !cycles.inCycle()) {
                // Read now rather than at the next poll: a follower trusts the watch only after a read since it
                // started, and until then a release it delivers waits for that poll. A cycle still running needs no
                // extra read: its read, or the one after a lost write, comes back after this, or it wins a term.
                cycles.request(0);
            }
        }

        @Override
        public void ended() {
            observed.current(false);
            if (leading.get() == null) {
                cycles.requestWithin(backoff.poll());
            }
        }
    }

    /** Builds a {@link LeaseElector}. */
    public static final class Builder {
        private final ElectionSettings settings;
        private final LeaseStore store;
        private LeadershipListener listener = new LeadershipListener() {};
        private ElectionMonitor monitor = ElectionMonitor.NONE;
        private ElectionClock clock = ElectionClock.system();
        private ElectionRuntime runtime;
        private boolean watch = true;
        private RandomGenerator random = new SplittableRandom();
        private String application;
        private boolean allowOtherApplications;
        private Candidacy candidacy = Candidacy.EAGER;
        private Consumer<Boolean> termStartSeam = current -> {};

        private Builder(ElectionSettings settings, LeaseStore store) {
            this.settings = Objects.requireNonNull(settings, "settings");
            this.store = Objects.requireNonNull(store, "store");
        }

        /** Receives leadership callbacks on the event thread. */
        public Builder listener(LeadershipListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** Receives store-call measurements on the election thread. */
        public Builder monitor(ElectionMonitor monitor) {
            this.monitor = Objects.requireNonNull(monitor, "monitor");
            return this;
        }

        /** The clock; the system clock by default. */
        public Builder clock(ElectionClock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * The threads to run on, shared with other elections; the caller closes it. Without one the elector creates
         * its own when it starts ({@code leader-election-<lease>} …) and ends them when it stops.
         */
        public Builder runtime(ElectionRuntime runtime) {
            this.runtime = Objects.requireNonNull(runtime, "runtime");
            return this;
        }

        /** Shorthand for {@link #runtime(ElectionRuntime) runtime(ElectionRuntime.of(election, events, io))}. */
        public Builder executors(ScheduledExecutorService election, ScheduledExecutorService events, Executor io) {
            return runtime(ElectionRuntime.of(election, events, io));
        }

        /** Whether to watch the lease when the store can (default true). */
        public Builder watch(boolean watch) {
            this.watch = watch;
            return this;
        }

        /** Source of the retry jitter. */
        public Builder random(RandomGenerator random) {
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        /**
         * The application this candidate belongs to, written into the lease; a lease of another application is
         * refused unless {@code allowOtherApplications}. Null (the default) writes and checks nothing.
         */
        public Builder application(String application, boolean allowOtherApplications) {
            this.application = (application == null || application.isBlank()) ? null : application;
            this.allowOtherApplications = allowOtherApplications;
            return this;
        }

        /** How this candidate takes part beside the lease rules (default {@link Candidacy#EAGER}). */
        public Builder candidacy(Candidacy candidacy) {
            this.candidacy = Objects.requireNonNull(candidacy, "candidacy");
            return this;
        }

        /**
         * Test seam (LeaseElectorStopRaceTest): {@code seam} runs on the election thread as a term starts, with
         * {@code false} once the election was found running (the term is not current yet), then with {@code true} once
         * the term is current (not announced yet), so that a test can stop the elector in either window.
         */
        Builder termStartSeam(Consumer<Boolean> seam) {
            this.termStartSeam = Objects.requireNonNull(seam, "seam");
            return this;
        }

        public LeaseElector build() {
            return new LeaseElector(this);
        }
    }
}
