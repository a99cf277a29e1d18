package dev.leaderpod.core;

import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStore.LeaseWatcher;
import dev.leaderpod.core.StoreCalls.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 *       is created only after it has been seen absent for a lease duration, unless the store can prove it never
 *       existed.
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
 * Election work and timers run on one election thread that never blocks. Store calls run on I/O threads that exist
 * only while a call runs (and shortly after). Listener callbacks run on an event thread that exists only while there
 * is something to deliver.
 */
public final class LeaseElector implements Leadership {

    private static final Logger log = LoggerFactory.getLogger(LeaseElector.class);

    private static final Duration RELEASED_LEASE_DURATION = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    /** Abandoned calls that may still hold an I/O thread before new calls fail at once. */
    private static final int MAX_IO_THREADS = 4;
    /** How many of this candidate's own acquire times are remembered to recognise its own writes. */
    private static final int OWN_TERMS_REMEMBERED = 4;
    /** A duplicate identity is reported again at most this often. */
    private static final Duration REPEAT_ERROR_EVERY = Duration.ofMinutes(10);

    private enum State {
        NEW,
        RUNNING,
        STOPPED
    }

    /** A term in progress: valid until {@code validUntilNanos} unless renewed. Replaced, never mutated. */
    private record Term(LeadershipTerm info, long validUntilNanos, long lastRenewSentNanos) {}

    private final ElectionSettings settings;
    private final String name;
    private final String identity;
    private final String application;
    private final boolean allowOtherApplications;
    private final LeaseStore store;
    private final LeadershipListener listener;
    private final ElectionMonitor monitor;
    private final ElectionClock clock;
    private final boolean watchEnabled;
    private final RandomGenerator random;
    private final boolean ownsExecutors;
    /** How long a watching follower waits for the leader's next renew before it reads for itself. */
    private final long heartbeatNanos;

    // Shared between threads.
    private final AtomicReference<Term> leading = new AtomicReference<>();
    private final Object lifecycleMonitor = new Object();
    private volatile State state = State.NEW;
    private volatile boolean stopping;
    private volatile ScheduledExecutorService electionExecutor;
    private volatile ScheduledExecutorService eventExecutor;
    private volatile Executor ioExecutor;
    private volatile StoreCalls calls;

    // Written only on the election thread (and by stop() once it stopped); volatile so that snapshot() can read them.
    private volatile VersionedLease observed;
    private volatile long observedAtNanos;
    private volatile long lastRenewSentNanos;
    private volatile boolean hasRenewed;
    private volatile int consecutiveFailures;
    private volatile LeaseStoreException.Kind lastFailure;
    private volatile boolean watchHealthy;

    // Confined to the election thread.
    /** Whether the lease was absent when last looked at; {@link #observedAtNanos} is when that was first seen. */
    private boolean observedAbsent;
    /** Whether {@link #observed} is known current: read since the watch (re)started, and kept so by it. */
    private boolean cacheCurrent;
    /** Highest fencing token ever seen or written, so tokens keep growing whatever happens to the lease. */
    private long highestTokenSeen = -1;
    /** Longest duration of a held record seen: an absent lease is waited out for at least as long. */
    private Duration longestDurationSeen = Duration.ZERO;
    /** Acquire times of the terms this candidate wrote or tried to write: how it recognises its own records. */
    private final Deque<Instant> ownAcquireTimes = new ArrayDeque<>();

    private ScheduledFuture<?> nextCycle;
    private long nextCycleAtNanos;
    private boolean cycleRunning;
    private boolean rerunRequested;
    private long rerunAtNanos;
    private boolean conflictThisCycle;
    private int conflictingCycles;

    private LeaseWatch watch;
    private int watchGeneration;
    private boolean watchStarting;
    private int closedEarlyGeneration = -1;
    private long watchStartedAtNanos;
    private int watchFailures;
    private boolean watchWarned;
    /** Version of the last change the watch delivered (null for a deletion). */
    private String lastWatchedVersion;

    private long holdOffUntilNanos;
    private boolean holdingOff;

    private String lastAnnouncedHolder;
    /** The last holder seen, kept while the lease is free: the "previous leader" of the next transition. */
    private String lastKnownHolder;
    /** Whether any lease content was seen yet, so that the first sight is not logged as a change. */
    private boolean announcedOnce;

    private LeaseStoreException.Kind lastLoggedFailure;
    private String duplicateVersionSeen;
    private long duplicateReportedAtNanos;
    private boolean duplicateReported;
    private String refusedApplication;

    private LeaseElector(Builder builder) {
        this.settings = builder.settings;
        this.name = settings.leaseName();
        this.identity = settings.identity();
        this.application = builder.application;
        this.allowOtherApplications = builder.allowOtherApplications;
        this.store = builder.store;
        this.listener = builder.listener;
        this.monitor = builder.monitor;
        this.clock = builder.clock;
        this.watchEnabled = builder.watch;
        this.random = builder.random;
        this.heartbeatNanos = settings.retryPeriod().toNanos() * 5 / 4;
        this.ownsExecutors = builder.electionExecutor == null;
        if (!ownsExecutors) {
            this.electionExecutor = builder.electionExecutor;
            this.eventExecutor = builder.eventExecutor;
            this.ioExecutor = builder.ioExecutor;
        }
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
        return term != null && !stopping && clock.nanoTime() - term.validUntilNanos() < 0;
    }

    @Override
    public Optional<LeadershipTerm> currentTerm() {
        Term term = leading.get();
        if (term == null || stopping || clock.nanoTime() - term.validUntilNanos() >= 0) {
            return Optional.empty();
        }
        return Optional.of(term.info());
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
        VersionedLease lease = observed;
        return new ElectionSnapshot(
                name,
                identity,
                isLeader(),
                currentTerm(),
                Optional.ofNullable(lease),
                lease == null ? Optional.empty() : Optional.of(Duration.ofNanos(now - observedAtNanos)),
                hasRenewed ? Optional.of(Duration.ofNanos(now - lastRenewSentNanos)) : Optional.empty(),
                consecutiveFailures,
                Optional.ofNullable(lastFailure),
                watchHealthy);
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
            if (ownsExecutors) {
                electionExecutor = newElectionExecutor("leader-election-" + name);
                eventExecutor = newEventExecutor("leader-events-" + name);
                ioExecutor = newIoExecutor("leader-io-" + name);
            }
            calls = new StoreCalls(
                    name,
                    ioExecutor,
                    electionExecutor,
                    clock,
                    callBound(),
                    monitor,
                    this::onOutcome,
                    this::onStepFailure);
            stopping = false;
            state = State.RUNNING;
        }
        log.info(
                "Joining leader election for {} as {} (lease {}, renew deadline {}, retry {})",
                store.describe(name),
                identity,
                settings.leaseDuration(),
                settings.renewDeadline(),
                settings.retryPeriod());
        onElectionThread(() -> {
            resetRunState();
            startWatch();
            cycle();
        });
    }

    /**
     * The elector's own bound on one store call: the store's request timeout plus a margin, so the store's own timeout,
     * with its better message, normally comes first.
     */
    private Duration callBound() {
        return settings.requestTimeout().plus(settings.requestTimeout().dividedBy(4));
    }

    private void resetRunState() {
        cancelNextCycle();
        cycleRunning = false;
        rerunRequested = false;
        watch = null;
        watchStarting = false;
        watchHealthy = false;
        cacheCurrent = false;
        watchFailures = 0;
        watchWarned = false;
        holdingOff = false;
        consecutiveFailures = 0;
        conflictingCycles = 0;
        lastLoggedFailure = null;
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
            state = State.STOPPED;
        }
        long deadline = clock.nanoTime() + timeout.toNanos();
        stopping = true;
        // 1. Revoke first: listeners drain leader-only work before the lease is given to anybody else.
        Term term = leading.getAndSet(null);
        if (term != null) {
            awaitQuietly(
                    submitEvent(() -> notifyStopped(term.info(), RevocationReason.SHUTDOWN)),
                    remaining(deadline),
                    "revocation listeners");
        }
        // 2. Stop the loop and the watch on the election thread; a term won meanwhile is revoked too.
        AtomicReference<VersionedLease> toRelease = new AtomicReference<>();
        AtomicReference<Term> late = new AtomicReference<>();
        awaitQuietly(
                submitQuietly(electionExecutor, () -> {
                    cancelNextCycle();
                    closeWatch();
                    late.set(leading.getAndSet(null));
                    VersionedLease mine = observed;
                    if (mine != null && isOwnTerm(mine.record())) {
                        toRelease.set(mine);
                    }
                }),
                remaining(deadline),
                "stopping the election loop");
        if (late.get() != null) {
            awaitQuietly(
                    submitEvent(() -> notifyStopped(late.get().info(), RevocationReason.SHUTDOWN)),
                    remaining(deadline),
                    "revocation listeners");
        }
        // 3. Release on an I/O thread, waiting at most until the deadline.
        if (toRelease.get() != null) {
            Future<?> release = submitQuietly(ioExecutor, () -> releaseBlocking(toRelease.get()));
            if (!awaitQuietly(release, remaining(deadline), "lease release")) {
                log.warn(
                        "Could not release {} within {}; followers take over when it expires ({}).",
                        store.describe(name),
                        timeout,
                        settings.leaseDuration());
            }
        }
        shutdownOwnedExecutors();
    }

    /**
     * Gives leadership up: revokes, releases the lease so another candidate can take it at once, and rejoins as a
     * follower that does not try to take it back for one lease duration. Does nothing when not leading. Returns at
     * once.
     */
    public void yieldLeadership() {
        onElectionThread(() -> {
            Term term = leading.get();
            if (term == null || state != State.RUNNING || !leading.compareAndSet(term, null)) {
                return;
            }
            holdingOff = true;
            holdOffUntilNanos = clock.nanoTime() + settings.leaseDuration().toNanos();
            // Drain first, then release: the release waits for the listeners, on the election thread's terms.
            submitEvent(() -> {
                notifyStopped(term.info(), RevocationReason.YIELDED);
                onElectionThread(this::releaseAfterYield);
            });
        });
    }

    private void releaseAfterYield() {
        VersionedLease mine = observed;
        if (state != State.RUNNING || leading.get() != null || mine == null || !isOwnTerm(mine.record())) {
            return;
        }
        calls.call(StoreOperation.RELEASE, () -> store.update(name, releaseOf(mine.record()), mine.version()), out -> {
            if (!out.failed()) {
                observe(out.value());
                log.info("{} released {}", identity, store.describe(name));
            } else {
                log.warn(
                        "{} could not release {}: {}",
                        identity,
                        store.describe(name),
                        out.failure().toString());
            }
            requestCycle(Math.max(0, holdOffUntilNanos - clock.nanoTime()));
        });
    }

    /** Releases {@code mine} from an I/O thread while stopping: once more after a conflict if it is still ours. */
    private void releaseBlocking(VersionedLease mine) {
        for (int attempt = 0; attempt < 2 && mine != null && isOwnTerm(mine.record()); attempt++) {
            try {
                VersionedLease written = store.update(name, releaseOf(mine.record()), mine.version());
                observed = written;
                observedAtNanos = clock.nanoTime();
                log.info("{} released {}", identity, store.describe(name));
                return;
            } catch (LeaseConflictException e) {
                mine = store.get(name).orElse(null); // maybe only our cache was stale
            } catch (Throwable e) {
                log.warn("{} could not release {}: {}", identity, store.describe(name), e.toString());
                return;
            }
        }
    }

    private LeaseRecord releaseOf(LeaseRecord mine) {
        return new LeaseRecord(
                "",
                RELEASED_LEASE_DURATION,
                mine.acquireTime(),
                clock.wallTime(),
                mine.leaseTransitions(),
                mine.application() != null ? mine.application() : application);
    }

    // ---------------------------------------------------------------------------------------------------------
    // The election loop (election thread). Store calls run elsewhere; each step continues when its call's outcome
    // comes back, and every path ends in finishCycle or failCycle, which schedule the next cycle.

    private void cycle() {
        nextCycle = null;
        if (state != State.RUNNING) {
            return;
        }
        if (cycleRunning) {
            requestCycle(0);
            return;
        }
        cycleRunning = true;
        conflictThisCycle = false;

        // 1. A leader whose deadline passed steps down before anything else (the timer may not have run yet).
        Term term = leading.get();
        if (term != null && clock.nanoTime() - term.validUntilNanos() >= 0) {
            stepDown(term, RevocationReason.DEADLINE_PASSED);
            term = null;
        }

        // 2. Renew: write on top of our own last write, no read first. A conflict is not a loss yet: read and decide.
        VersionedLease cached = observed;
        if (term != null && cached != null && isCurrentTerm(cached.record(), term)) {
            Term renewing = term;
            renew(cached, renewing, out -> {
                if (out.conflict()) {
                    read(false, this::decide);
                } else {
                    afterRenew(out, renewing);
                }
            });
            return;
        }

        // 3. Read, unless a healthy watch keeps the cache fresh and the leader's renews are still heard (a stale cache
        //    only makes the write below fail). A follower that stopped hearing them reads, and checks the watch.
        boolean watchTrusted = term == null && watchHealthy && cacheCurrent && (cached != null || observedAbsent);
        if (watchTrusted && (observedAbsent || clock.nanoTime() - observedAtNanos < heartbeatNanos)) {
            decideOnCache();
        } else {
            read(watchTrusted, this::decide);
        }
    }

    private void decideOnCache() {
        decide(Optional.ofNullable(observed), true);
    }

    private void decide(Optional<VersionedLease> current) {
        decide(current, false);
    }

    /**
     * Steps 4–8 on the lease as just read (or as the watch keeps it).
     *
     * @param fromWatch whether {@code current} came from the watch rather than a read
     */
    private void decide(Optional<VersionedLease> current, boolean fromWatch) {
        Term term = leading.get(); // the deadline may have ended the term while the read was in flight

        // 4. No lease. It may have been deleted while its holder is cut off: wait as for an unrenewed lease.
        if (current.isEmpty()) {
            if (term != null) {
                stepDown(term, RevocationReason.RELEASED);
            }
            if (inHoldOff() || !absenceExpired()) {
                finishCycle(followerDelay());
                return;
            }
            create(fromWatch);
            return;
        }

        VersionedLease lease = current.get();
        LeaseRecord record = lease.record();

        // 5. Another application's lease: never take part in it.
        if (belongsToAnotherApplication(record)) {
            if (term != null) {
                stepDown(term, RevocationReason.LOST);
            }
            reportForeignApplication(record);
            finishCycle(Math.max(followerDelay(), settings.leaseDuration().toNanos()));
            return;
        }

        // 6. We lead but the lease is not our term: someone took it, cleared it, or wrote it with our identity.
        if (term != null && !isCurrentTerm(record, term)) {
            if (record.isHeldBy(identity)) {
                reportDuplicateIdentity(lease, true);
            }
            stepDown(term, record.isHeld() ? RevocationReason.LOST : RevocationReason.RELEASED);
            term = null;
        }

        // 7. Still ours: renew with the version just read.
        if (term != null) {
            Term renewing = term;
            renew(lease, renewing, out -> {
                if (out.conflict()) {
                    read(false, ignored -> finishCycle(followerDelay()));
                } else {
                    afterRenew(out, renewing);
                }
            });
            return;
        }

        // 8. Held by somebody else (our identity in a term we did not write counts as somebody else) and not yet
        //    expired by our own clock, or free but not released by its holder: follow.
        boolean ownEarlierTerm = isOwnTerm(record);
        if (record.isHeldBy(identity) && !ownEarlierTerm) {
            reportDuplicateIdentity(lease, false);
        }
        if (!ownEarlierTerm && !isReleased(record) && !expired(record)) {
            finishCycle(followerDelay());
            return;
        }
        if (inHoldOff()) {
            finishCycle(followerDelay());
            return;
        }

        // 9. Free, expired, or ours from an earlier term: start a new term with a token above any seen.
        acquire(lease, fromWatch);
    }

    private void create(boolean fromWatch) {
        Instant now = termStartTime();
        LeaseRecord fresh = new LeaseRecord(
                identity, settings.leaseDuration(), now, clock.wallTime(), highestTokenSeen + 1, application);
        String previous = lastKnownHolder;
        long sentAt = clock.nanoTime();
        rememberOwnTerm(now);
        calls.call(StoreOperation.CREATE, () -> store.create(name, fresh), out -> {
            if (out.conflict()) {
                onLostRace(fromWatch); // somebody created it first
            } else if (out.failed()) {
                failCycle(out);
            } else {
                onOwnWrite(out.value(), sentAt);
                startTerm(out.value(), sentAt, previous, "created the lease");
                finishCycle(settings.retryPeriod().toNanos());
            }
        });
    }

    private void acquire(VersionedLease lease, boolean fromWatch) {
        LeaseRecord record = lease.record();
        Instant now = termStartTime();
        LeaseRecord taken = new LeaseRecord(
                identity,
                settings.leaseDuration(),
                now,
                clock.wallTime(),
                nextToken(record.transitionsOrZero()),
                application);
        String previous = record.isHeld() ? record.holderIdentity() : lastKnownHolder;
        String how = !record.isHeld()
                ? (previous == null ? "the lease was free" : previous + " had released the lease")
                : isOwnTerm(record)
                        ? "its own earlier term had ended"
                        : "the lease was not renewed for " + Duration.ofNanos(expiryNanos(record))
                                + " by this candidate's clock";
        long sentAt = clock.nanoTime();
        rememberOwnTerm(now);
        calls.call(StoreOperation.ACQUIRE, () -> store.update(name, taken, lease.version()), out -> {
            if (out.conflict()) {
                onLostRace(fromWatch);
            } else if (out.failed()) {
                failCycle(out);
            } else {
                onOwnWrite(out.value(), sentAt);
                startTerm(out.value(), sentAt, previous, how);
                finishCycle(settings.retryPeriod().toNanos());
            }
        });
    }

    /**
     * A write that started a term lost to another writer. If it relied on the watch, the watch missed that writer:
     * distrust it (restart it, poll meanwhile).
     */
    private void onLostRace(boolean reliedOnWatch) {
        read(false, winner -> {
            // Two candidates racing for a release is no fault of the watch; a winner it never delivered is.
            String won = winner.map(VersionedLease::version).orElse(null);
            if (reliedOnWatch && !Objects.equals(won, lastWatchedVersion)) {
                distrustWatch("a write that relied on it conflicted with a change it had not delivered");
            }
            finishCycle(followerDelay());
        });
    }

    /** Extends {@code term} by writing on top of {@code base}; {@code then} gets the outcome. */
    private void renew(VersionedLease base, Term term, StoreCalls.Continuation<VersionedLease> then) {
        LeadershipTerm info = term.info();
        LeaseRecord next = new LeaseRecord(
                identity,
                settings.leaseDuration(),
                info.acquiredAt(),
                clock.wallTime(),
                info.fencingToken(), // our term's token, whatever a third party wrote into the record
                application != null ? application : base.record().application());
        long sentAt = clock.nanoTime();
        calls.call(StoreOperation.RENEW, () -> store.update(name, next, base.version()), out -> {
            if (!out.failed()) {
                onOwnWrite(out.value(), sentAt);
                Term renewed = new Term(info, sentAt + settings.renewDeadline().toNanos(), sentAt);
                if (!leading.compareAndSet(term, renewed)) {
                    // The deadline passed while the call was in flight: the write landed, the term is over. The next
                    // cycle starts a new term with a new fencing token.
                    finishCycle(0);
                    return;
                }
            }
            then.accept(out);
        });
    }

    private void afterRenew(Outcome<VersionedLease> out, Term term) {
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
    private void read(boolean checkWatch, java.util.function.Consumer<Optional<VersionedLease>> then) {
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
                    // Compared with what is known now, not when the read was sent: the watch may have delivered the
                    // same change meanwhile.
                    boolean news = read.lease().isPresent()
                            ? observedAbsent
                                    || observed == null
                                    || !read.lease().get().version().equals(observed.version())
                            : !observedAbsent;
                    cacheCurrent = watchHealthy;
                    if (read.lease().isPresent()) {
                        observe(read.lease().get());
                    } else {
                        observeAbsent(read.neverExisted());
                    }
                    if (checkWatch && news && watchHealthy) {
                        distrustWatch("a read found a change it had not delivered");
                    }
                    then.accept(read.lease());
                });
    }

    /** A read: the lease, and whether the store proved that an absent lease never existed. */
    private record Read(Optional<VersionedLease> lease, boolean neverExisted) {}

    /** Records a lease we saw; the expiry clock restarts only when its content or version changed. */
    private void observe(VersionedLease lease) {
        LeaseRecord record = lease.record();
        highestTokenSeen = Math.max(highestTokenSeen, record.transitionsOrZero());
        if (record.isHeld()
                && record.leaseDuration() != null
                && record.leaseDuration().compareTo(longestDurationSeen) > 0) {
            longestDurationSeen = record.leaseDuration();
        }
        VersionedLease previous = observed;
        if (observedAbsent
                || previous == null
                || !previous.version().equals(lease.version())
                || !previous.record().equals(record)) {
            observed = lease;
            observedAtNanos = clock.nanoTime();
        }
        observedAbsent = false;
        announceHolder(record);
    }

    /**
     * Records that the lease is absent. The expiry clock starts at the first sight of the absence, as for a record
     * that stopped changing; a store that proves the lease never existed lets it be created at once.
     */
    private void observeAbsent(boolean neverExisted) {
        if (!observedAbsent || observed != null) {
            observedAbsent = true;
            observed = null;
            observedAtNanos = neverExisted ? clock.nanoTime() - absenceWaitNanos() : clock.nanoTime();
            if (announcedOnce && lastAnnouncedHolder != null) {
                log.info(
                        "{} was deleted; nobody creates it before {} have passed (its last holder may still lead)",
                        store.describe(name),
                        Duration.ofNanos(absenceWaitNanos()));
            }
        } else if (neverExisted) {
            observedAtNanos = Math.min(observedAtNanos, clock.nanoTime() - absenceWaitNanos());
        }
    }

    private void onOwnWrite(VersionedLease written, long sentAt) {
        highestTokenSeen = Math.max(highestTokenSeen, written.record().transitionsOrZero());
        observed = written;
        observedAbsent = false;
        observedAtNanos = sentAt;
        lastRenewSentNanos = sentAt;
        hasRenewed = true;
        announceHolder(written.record());
    }

    /** Whether {@code record} has not changed for its expiry time by this candidate's clock. */
    private boolean expired(LeaseRecord record) {
        return clock.nanoTime() - observedAtNanos >= expiryNanos(record);
    }

    /**
     * How long a record must stay unchanged before it counts as expired: the longer of the record's duration and
     * ours, so that a duration shortened by a third party (or missing, zero, negative) never shortens the wait.
     */
    private long expiryNanos(LeaseRecord record) {
        Duration own = settings.leaseDuration();
        Duration duration = record.leaseDuration();
        return (duration == null || duration.compareTo(own) < 0) ? own.toNanos() : duration.toNanos();
    }

    private long absenceWaitNanos() {
        return Math.max(settings.leaseDuration().toNanos(), longestDurationSeen.toNanos());
    }

    private boolean absenceExpired() {
        return observedAbsent && clock.nanoTime() - observedAtNanos >= absenceWaitNanos();
    }

    /** A lease its holder gave up: no holder, and the 1 s duration of a release (ours, client-go's, fabric8's). */
    private static boolean isReleased(LeaseRecord record) {
        return !record.isHeld()
                && record.leaseDuration() != null
                && record.leaseDuration().compareTo(RELEASED_LEASE_DURATION) <= 0;
    }

    /** Whether {@code record} is {@code term}: our identity and the acquire time we wrote when it started. */
    private boolean isCurrentTerm(LeaseRecord record, Term term) {
        return record.isHeldBy(identity)
                && Objects.equals(record.acquireTime(), term.info().acquiredAt());
    }

    /** Whether {@code record} is a term this candidate wrote (or tried to write), current or earlier. */
    private boolean isOwnTerm(LeaseRecord record) {
        return record.isHeldBy(identity) && ownAcquireTimes.contains(record.acquireTime());
    }

    private void rememberOwnTerm(Instant acquireTime) {
        ownAcquireTimes.addFirst(acquireTime);
        while (ownAcquireTimes.size() > OWN_TERMS_REMEMBERED) {
            ownAcquireTimes.removeLast();
        }
    }

    /** A term start time unique to this candidate, at the precision every store keeps (microseconds). */
    private Instant termStartTime() {
        Instant now = clock.wallTime().truncatedTo(ChronoUnit.MICROS);
        Instant last = ownAcquireTimes.peekFirst();
        return (last != null && !now.isAfter(last)) ? last.plus(1, ChronoUnit.MICROS) : now;
    }

    /** The next fencing token: above the record's, above every token seen or written by this candidate. */
    private long nextToken(long recordToken) {
        return Math.max(recordToken, highestTokenSeen) + 1; // a new lease starts at highestTokenSeen + 1 (0 if none)
    }

    private boolean belongsToAnotherApplication(LeaseRecord record) {
        return !allowOtherApplications
                && application != null
                && record.application() != null
                && !record.application().equals(application);
    }

    private boolean inHoldOff() {
        if (holdingOff && clock.nanoTime() - holdOffUntilNanos < 0) {
            return true;
        }
        holdingOff = false;
        return false;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Terms (election thread; listeners on the event thread)

    /**
     * @param previous the holder before this term, as last seen, or null
     * @param how why the lease could be taken, for the log
     */
    private void startTerm(VersionedLease written, long sentAt, String previous, String how) {
        if (stopping || state != State.RUNNING) {
            return; // stop() releases what it finds; never announce a term that is already over
        }
        LeaseRecord record = written.record();
        LeadershipTerm info = new LeadershipTerm(name, identity, record.transitionsOrZero(), record.acquireTime());
        long validUntil = sentAt + settings.renewDeadline().toNanos();
        leading.set(new Term(info, validUntil, sentAt));
        log.info(
                "{} now leads {} (fencing token {}, previous leader {}, {})",
                identity,
                store.describe(name),
                info.fencingToken(),
                previous == null ? "none" : previous,
                how);
        submitEvent(() -> {
            try {
                listener.onStartedLeading(info);
            } catch (Throwable e) {
                log.error("Leadership listener failed on start of term {} of {}", info.fencingToken(), name, e);
            }
        });
        armStepDownTimer(info, validUntil);
    }

    private void stepDown(Term term, RevocationReason reason) {
        if (leading.compareAndSet(term, null)) {
            submitEvent(() -> notifyStopped(term.info(), reason));
        }
    }

    private void notifyStopped(LeadershipTerm info, RevocationReason reason) {
        if (reason == RevocationReason.DEADLINE_PASSED) {
            LeaseStoreException.Kind failure = lastFailure;
            log.warn(
                    "{} no longer leads {} ({}, fencing token was {}): no renew succeeded within the renew deadline"
                            + " ({}; {}). Another candidate takes over once the lease expires; check the store's"
                            + " reachability and this process's pauses (GC, CPU limits).",
                    identity,
                    name,
                    reason,
                    info.fencingToken(),
                    settings.renewDeadline(),
                    consecutiveFailures > 0 && failure != null
                            ? consecutiveFailures + " failures in a row, last " + failure
                            : "a renew call may still be in flight");
        } else {
            log.info("{} no longer leads {} ({}, fencing token was {})", identity, name, reason, info.fencingToken());
        }
        try {
            listener.onStoppedLeading(info, reason);
        } catch (Throwable e) {
            log.error("Leadership listener failed on end of term {} of {}", info.fencingToken(), name, e);
        }
    }

    private void announceHolder(LeaseRecord record) {
        String holder = record.isHeld() ? record.holderIdentity() : null;
        if (!announcedOnce || !Objects.equals(holder, lastAnnouncedHolder)) {
            // One INFO line per change of holder on every candidate; the new leader logs its own in startTerm.
            String previous = lastKnownHolder;
            boolean sawFree = announcedOnce && lastAnnouncedHolder == null;
            boolean firstSight = !announcedOnce;
            announcedOnce = true;
            lastAnnouncedHolder = holder;
            long transitions = record.transitionsOrZero();
            if (holder == null) {
                log.debug("{} is free (previous leader {})", name, previous == null ? "none" : previous);
            } else {
                lastKnownHolder = holder;
                if (!holder.equals(identity)) {
                    String how = firstSight
                            ? "as found on joining"
                            : sawFree
                                    ? (previous == null ? "the lease was free" : previous + " had released the lease")
                                    : "taken over from " + previous;
                    log.info(
                            "{} is now led by {} (fencing token {}, previous leader {}, {})",
                            name,
                            holder,
                            transitions,
                            previous == null ? "none" : previous,
                            how);
                }
            }
            if (firstSight && holder == null) {
                return; // nothing changed for listeners: no holder before, none now
            }
            submitEvent(() -> {
                try {
                    listener.onNewLeader(holder, transitions);
                } catch (Throwable e) {
                    log.error("Leadership listener failed on new leader of {}", name, e);
                }
            });
        }
    }

    /**
     * A record names this candidate's identity in a term it did not write. Once is a leftover (a restart with a fixed
     * identity, a hand edit); a change of it, or a write of ours overtaken by it, is a second process with our identity.
     */
    private void reportDuplicateIdentity(VersionedLease lease, boolean whileLeading) {
        boolean proven =
                whileLeading || (duplicateVersionSeen != null && !duplicateVersionSeen.equals(lease.version()));
        duplicateVersionSeen = lease.version();
        long now = clock.nanoTime();
        if (!proven || (duplicateReported && now - duplicateReportedAtNanos < REPEAT_ERROR_EVERY.toNanos())) {
            return;
        }
        duplicateReported = true;
        duplicateReportedAtNanos = now;
        log.error(
                "{}: another process writes {} with this candidate's identity '{}' (a term this candidate did not"
                        + " start{}). Two candidates with one identity could both believe they lead: this one {} and"
                        + " takes part only once that term expires. Give every candidate a unique leader.identity (the"
                        + " default, the pod name plus a random suffix, is unique).",
                identity,
                store.describe(name),
                identity,
                lease.record().acquireTime() == null
                        ? ""
                        : ", acquired " + lease.record().acquireTime(),
                whileLeading ? "stopped leading at once" : "does not lead beside it");
    }

    private void reportForeignApplication(LeaseRecord record) {
        if (record.application().equals(refusedApplication)) {
            return;
        }
        refusedApplication = record.application();
        log.error(
                "{} belongs to application '{}', but this candidate is of application '{}': it refuses to take part"
                        + " in another application's election. Give this application its own leader.lease-name, or set"
                        + " leader.allow-other-applications=true in every application that shares the lease on purpose.",
                store.describe(name),
                record.application(),
                application);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Scheduling and failures (election thread)

    /** Every store call's outcome: a success ends a series of failures (a conflict is an answer too). */
    private void onOutcome(Outcome<?> out) {
        if ((!out.failed() || out.conflict()) && consecutiveFailures > 0) {
            log.info("{}: store calls succeed again after {} failures", name, consecutiveFailures);
            lastLoggedFailure = null;
            consecutiveFailures = 0;
        }
    }

    private void finishCycle(long delayNanos) {
        endCycle(delayNanos);
    }

    private void failCycle(Outcome<?> out) {
        endCycle(onFailure(out.kind(), out.failure()));
    }

    private void endCycle(long delayNanos) {
        cycleRunning = false;
        if (conflictThisCycle) {
            onConflictingCycle();
        } else {
            conflictingCycles = 0;
        }
        long delay = delayNanos;
        if (rerunRequested) {
            rerunRequested = false;
            delay = Math.min(delay, rerunAtNanos - clock.nanoTime());
        }
        scheduleCycle(delay);
    }

    private long followerDelay() {
        if (inHoldOff()) {
            return holdOffUntilNanos - clock.nanoTime();
        }
        long now = clock.nanoTime();
        boolean watchTrusted = watchHealthy && cacheCurrent;
        if (observedAbsent) {
            long untilExpiry = Math.max(0, observedAtNanos + absenceWaitNanos() - now);
            return watchTrusted ? untilExpiry : Math.min(untilExpiry, jittered(settings.retryPeriod()));
        }
        VersionedLease lease = observed;
        if (!watchTrusted || lease == null) {
            return jittered(settings.retryPeriod());
        }
        LeaseRecord record = lease.record();
        if (isOwnTerm(record) || isReleased(record)) {
            return 0;
        }
        // With a healthy watch a follower need not poll: it tries when the lease would expire, and reads if the
        // leader's renews stop arriving (a dead leader, or a watch that died without closing).
        long untilExpiry = observedAtNanos + expiryNanos(record) - now;
        long untilHeartbeatMissed = observedAtNanos + heartbeatNanos - now;
        long next = untilHeartbeatMissed > 0 ? untilHeartbeatMissed : jittered(settings.retryPeriod());
        return Math.max(0, Math.min(untilExpiry, next));
    }

    private long onFailure(LeaseStoreException.Kind kind, Throwable e) {
        int failures = ++consecutiveFailures;
        lastFailure = kind;
        if (e instanceof LeaseConflictException) {
            conflictThisCycle = true;
        }
        Throwable trace = kind == LeaseStoreException.Kind.OTHER ? e : null;
        Term term = leading.get();
        if (term != null) {
            // Every failure of a leader counts against its renew deadline: each one is worth a line.
            long left = Math.max(0, term.validUntilNanos() - clock.nanoTime());
            lastLoggedFailure = kind;
            log.warn(
                    "{} leads {} but could not renew it ({} in a row, {}): {}. {} Leading for at most {} more"
                            + " unless a renew succeeds.",
                    identity,
                    store.describe(name),
                    failures,
                    kind,
                    e.getMessage(),
                    hint(kind),
                    Duration.ofNanos(left),
                    trace);
            return settings.retryPeriod().toNanos(); // keep trying to renew until the deadline
        }
        if (kind != lastLoggedFailure || failures % 10 == 0) {
            lastLoggedFailure = kind;
            log.warn(
                    "{}: {} failed ({} in a row, {}): {}. {} Staying in the election and retrying with back-off.",
                    identity,
                    store.describe(name),
                    failures,
                    kind,
                    e.getMessage(),
                    hint(kind),
                    trace);
        }
        long backoff = settings.retryPeriod().toNanos() << Math.min(failures - 1, 4);
        long capped = Math.min(backoff, maxFollowerBackoff());
        if (observedAbsent) {
            capped = Math.min(
                    capped,
                    Math.max(
                            settings.retryPeriod().toNanos(), observedAtNanos + absenceWaitNanos() - clock.nanoTime()));
        }
        return jittered(Duration.ofNanos(capped));
    }

    /**
     * The longest a failing follower waits between attempts: at most lease duration − renew deadline (never below
     * the retry period). Nothing else wakes a follower when the API server comes back (nobody can write, so the watch
     * is silent), so this bound is what keeps a leader within lease duration + retry period of the end of an outage;
     * the doubling up to it still spares a struggling server.
     */
    private long maxFollowerBackoff() {
        long margin = settings.leaseDuration().minus(settings.renewDeadline()).toNanos();
        return Math.max(settings.retryPeriod().toNanos(), Math.min(margin, MAX_BACKOFF.toNanos()));
    }

    /** What an operator can do about a failure of this kind. */
    private String hint(LeaseStoreException.Kind kind) {
        return switch (kind) {
            case FORBIDDEN ->
                "Grant the missing permission (the message names the rule) to this candidate's service account.";
            case TIMEOUT ->
                "No answer within request-timeout (" + settings.requestTimeout()
                        + "): check the load of the store (API server) and the network path to it.";
            case UNAVAILABLE ->
                "The store (API server) cannot be reached: check DNS, network policies and that it is up.";
            case SERVER_ERROR -> "The store (API server) answered with an error: check its logs.";
            case CONFLICT -> "Another writer changed the lease.";
            case OTHER -> "Unexpected failure; the stack trace follows.";
        };
    }

    /** Losing one race is normal; losing a write in several cycles in a row means someone else writes the lease. */
    private void onConflictingCycle() {
        int cycles = ++conflictingCycles;
        if (cycles == 3 || cycles % 10 == 0) {
            log.warn(
                    "{}: writes to {} were overtaken by another writer in {} election cycles in a row. Another"
                            + " process is writing this lease: a second candidate with the same identity ({}), or"
                            + " another application using the lease name {}? Give every candidate a unique identity"
                            + " and every application its own lease name.",
                    identity,
                    store.describe(name),
                    cycles,
                    identity,
                    name);
        }
    }

    private long jittered(Duration base) {
        long nanos = base.toNanos();
        return nanos + (long) (random.nextDouble() * 0.2 * nanos);
    }

    /** Runs the next cycle in {@code delayNanos}, replacing the one scheduled; while a cycle runs, after it. */
    private void requestCycle(long delayNanos) {
        if (cycleRunning) {
            long at = clock.nanoTime() + Math.max(0, delayNanos);
            rerunAtNanos = rerunRequested ? Math.min(rerunAtNanos, at) : at;
            rerunRequested = true;
        } else {
            scheduleCycle(delayNanos);
        }
    }

    private void scheduleCycle(long delayNanos) {
        if (state != State.RUNNING) {
            return;
        }
        cancelNextCycle();
        long delay = Math.max(0, delayNanos);
        nextCycleAtNanos = clock.nanoTime() + delay;
        try {
            nextCycle = electionExecutor.schedule(this::runCycle, delay, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            nextCycle = null; // shutting down
        }
    }

    /** Brings the next cycle forward to at most {@code delayNanos} from now. */
    private void requestCycleWithin(long delayNanos) {
        if (cycleRunning) {
            requestCycle(delayNanos);
        } else if (nextCycle == null || nextCycleAtNanos - (clock.nanoTime() + delayNanos) > 0) {
            scheduleCycle(delayNanos);
        }
    }

    private void cancelNextCycle() {
        if (nextCycle != null) {
            nextCycle.cancel(false);
            nextCycle = null;
        }
    }

    /**
     * Runs a cycle so that no {@link Throwable} ends the election: a failure of the algorithm itself (a bug, an
     * {@link Error}) is logged and the loop goes on after a retry period. Every step dispatches its store call last,
     * so a step that threw has no call in flight and the cycle can be ended here.
     */
    private void runCycle() {
        try {
            cycle();
        } catch (Throwable e) {
            onStepFailure(e);
        }
    }

    /** A step of the cycle threw (called by {@link StoreCalls} for continuations, and by {@link #runCycle()}). */
    private void onStepFailure(Throwable e) {
        log.error("{}: unexpected failure in the election loop; retrying in {}", name, settings.retryPeriod(), e);
        if (cycleRunning) {
            endCycle(jittered(settings.retryPeriod()));
        }
    }

    /** Wraps other election-thread work (watch events, start, yield) so that no {@link Throwable} escapes it. */
    private Runnable guarded(Runnable work) {
        return () -> {
            try {
                work.run();
            } catch (Throwable e) {
                log.error(
                        "{}: unexpected failure in the election loop; retrying in {}", name, settings.retryPeriod(), e);
                requestCycleWithin(jittered(settings.retryPeriod()));
            }
        };
    }

    private void onElectionThread(Runnable work) {
        submitQuietly(electionExecutor, guarded(work));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Watch (election thread; the store's callbacks hop onto it)

    private void startWatch() {
        if (!watchEnabled || state != State.RUNNING || watchStarting || watch != null) {
            return;
        }
        int generation = ++watchGeneration;
        watchStarting = true;
        LeaseWatcher watcher = new LeaseWatcher() {
            @Override
            public void onChange(Optional<VersionedLease> lease) {
                onElectionThread(() -> onWatchedChange(generation, lease));
            }

            @Override
            public void onClose(Exception cause) {
                onElectionThread(() -> onWatchClosed(generation, cause));
            }
        };
        calls.call(
                StoreOperation.WATCH,
                () -> store.watch(name, watcher),
                out -> {
                    watchStarting = false;
                    LeaseWatch started = out.failed() ? null : out.value().orElse(null);
                    if (generation != watchGeneration
                            || state != State.RUNNING
                            || closedEarlyGeneration == generation) {
                        closeOnIoThread(started);
                        if (closedEarlyGeneration == generation && generation == watchGeneration) {
                            afterWatchEnded(new IllegalStateException("the watch closed as it started"));
                        }
                        return;
                    }
                    if (out.failed()) {
                        afterWatchEnded(out.failure());
                    } else if (started != null) {
                        watch = started;
                        watchHealthy = true;
                        cacheCurrent = false; // changes may have been missed while there was no watch: read once
                        watchStartedAtNanos = clock.nanoTime();
                        if (watchWarned) {
                            watchWarned = false;
                            log.info("{}: watching {} again", identity, store.describe(name));
                        }
                        if (leading.get() == null && !cycleRunning) {
                            // Read now rather than at the next poll: a follower trusts the watch only after a read
                            // since it started, and until then every change it delivers (the leader's renews) puts
                            // the poll off by another retry period, so a release would wait that long ("Watch to be
                            // fast, poll to be right", docs/design.md). A cycle still running needs no extra read: its
                            // read, or the one after a lost write, comes back after this, or it wins a term.
                            requestCycle(0);
                        }
                    }
                },
                LeaseElector::closeQuietly);
    }

    private void onWatchedChange(int generation, Optional<VersionedLease> change) {
        if (generation != watchGeneration || state != State.RUNNING) {
            return;
        }
        watchFailures = 0; // it delivers: whatever failed before is over
        lastWatchedVersion = change.map(VersionedLease::version).orElse(null);
        Term term = leading.get();
        if (change.isEmpty()) { // deleted
            observeAbsent(false);
            requestCycle(term != null ? 0 : followerDelay());
            return;
        }
        VersionedLease lease = change.get();
        if (term != null && isCurrentTerm(lease.record(), term)) {
            return; // an echo of our own renew; our write result is the authoritative cache
        }
        observe(lease);
        requestCycle(term != null ? 0 : followerDelay()); // someone else wrote while we lead: verify now
    }

    private void onWatchClosed(int generation, Exception cause) {
        if (generation != watchGeneration || state != State.RUNNING) {
            return;
        }
        if (watchStarting) {
            closedEarlyGeneration = generation; // the start's outcome handles it
            return;
        }
        closeOnIoThread(watch);
        afterWatchEnded(cause);
    }

    /**
     * The watch ended or could not start: poll until it is back, and start it again with back-off. A watch that
     * cannot start (a Role without {@code watch}) is worth one WARN, not one per attempt.
     */
    private void afterWatchEnded(Throwable cause) {
        boolean wasHealthyForLong = watch != null
                && clock.nanoTime() - watchStartedAtNanos
                        >= settings.leaseDuration().toNanos();
        watch = null;
        watchHealthy = false;
        cacheCurrent = false;
        watchGeneration++;
        if (wasHealthyForLong) {
            watchFailures = 0;
        }
        watchFailures++;
        boolean worthWarning =
                (cause instanceof LeaseStoreException failure && failure.kind() != LeaseStoreException.Kind.UNAVAILABLE)
                        || watchFailures >= 3;
        if (worthWarning && !watchWarned) {
            watchWarned = true;
            log.warn(
                    "{}: cannot watch {} ({}); polling every {} instead and retrying the watch with back-off. Followers"
                            + " then see a release within a retry period rather than at once.",
                    identity,
                    store.describe(name),
                    cause.getMessage(),
                    settings.retryPeriod());
        } else {
            log.debug("{}: watch on {} ended ({}); polling until it is back", identity, name, String.valueOf(cause));
        }
        if (leading.get() == null) {
            requestCycleWithin(jittered(settings.retryPeriod()));
        }
        long backoff = settings.retryPeriod().toNanos() << Math.min(watchFailures - 1, 4);
        scheduleQuietly(electionExecutor, guarded(this::startWatch), Math.min(backoff, MAX_BACKOFF.toNanos()));
    }

    /** The watch is proven to have missed a change: restart it and poll until it is back. */
    private void distrustWatch(String why) {
        if (!watchHealthy) {
            return;
        }
        log.info("{}: the watch on {} missed changes ({}); restarting it", identity, store.describe(name), why);
        closeWatch();
        cacheCurrent = false;
        startWatch();
    }

    private void closeWatch() {
        watchGeneration++;
        watchHealthy = false;
        watchStarting = false;
        LeaseWatch closing = watch;
        watch = null;
        closeOnIoThread(closing);
    }

    /** Closing a watch may block on the network: never on the election thread. */
    private void closeOnIoThread(LeaseWatch closing) {
        if (closing != null && submitQuietly(ioExecutor, () -> closeQuietly(closing)) == null) {
            closeQuietly(closing);
        }
    }

    private static void closeQuietly(LeaseWatch watch) {
        if (watch == null) {
            return;
        }
        try {
            watch.close();
        } catch (Throwable e) {
            log.debug("Closing a watch failed", e);
        }
    }

    private static void closeQuietly(Optional<LeaseWatch> watch) {
        watch.ifPresent(LeaseElector::closeQuietly);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Step-down timer (election thread, which never waits for I/O)

    private void armStepDownTimer(LeadershipTerm info, long validUntilNanos) {
        scheduleQuietly(electionExecutor, () -> checkDeadline(info), validUntilNanos - clock.nanoTime());
    }

    /** Runs at the deadline; re-arms itself if the term was renewed meanwhile, else ends the term. */
    private void checkDeadline(LeadershipTerm info) {
        Term term = leading.get();
        if (term == null || term.info() != info) {
            return;
        }
        long remaining = term.validUntilNanos() - clock.nanoTime();
        if (remaining > 0) {
            armStepDownTimer(info, term.validUntilNanos());
        } else {
            stepDown(term, RevocationReason.DEADLINE_PASSED);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Threads

    private Future<?> submitEvent(Runnable event) {
        return submitQuietly(eventExecutor, event);
    }

    private static Future<?> submitQuietly(java.util.concurrent.ExecutorService executor, Runnable task) {
        try {
            return executor.submit(task);
        } catch (RejectedExecutionException e) {
            return null;
        }
    }

    private static Future<?> submitQuietly(Executor executor, Runnable task) {
        if (executor instanceof java.util.concurrent.ExecutorService service) {
            return submitQuietly(service, task);
        }
        java.util.concurrent.FutureTask<Void> future = new java.util.concurrent.FutureTask<>(task, null);
        try {
            executor.execute(future);
            return future;
        } catch (RejectedExecutionException e) {
            return null;
        }
    }

    private static void scheduleQuietly(ScheduledExecutorService executor, Runnable task, long delayNanos) {
        try {
            executor.schedule(task, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // shutting down
        }
    }

    private Duration remaining(long deadlineNanos) {
        return Duration.ofNanos(Math.max(0, deadlineNanos - clock.nanoTime()));
    }

    private boolean awaitQuietly(Future<?> future, Duration timeout, String what) {
        if (future == null) {
            return false;
        }
        try {
            future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            log.warn("{}: {} failed", name, what, e.getCause());
            return true;
        } catch (TimeoutException e) {
            log.warn("{}: {} did not finish within {}", name, what, timeout);
            return false;
        }
    }

    private void shutdownOwnedExecutors() {
        if (ownsExecutors) {
            electionExecutor.shutdownNow();
            eventExecutor.shutdown();
            ((ThreadPoolExecutor) ioExecutor).shutdownNow(); // interrupts calls that are still hung
        }
    }

    private static ScheduledExecutorService newElectionExecutor(String threadName) {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, daemonThreads(threadName));
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }

    private static ScheduledExecutorService newEventExecutor(String threadName) {
        // The event thread exists only while there is an event to deliver.
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, daemonThreads(threadName));
        executor.setRemoveOnCancelPolicy(true);
        executor.setKeepAliveTime(5, TimeUnit.SECONDS);
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    /**
     * I/O threads exist only while a call runs (and half a second after). A hung call keeps its thread until the store
     * gives up on it; more than {@link #MAX_IO_THREADS} hung calls make new calls fail at once rather than pile up.
     */
    private static Executor newIoExecutor(String threadName) {
        return new ThreadPoolExecutor(
                0, MAX_IO_THREADS, 500, TimeUnit.MILLISECONDS, new SynchronousQueue<>(), daemonThreads(threadName));
    }

    private static ThreadFactory daemonThreads(String name) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, count.getAndIncrement() == 0 ? name : name + "-" + count.get());
            thread.setDaemon(true);
            return thread;
        };
    }

    /** Builds a {@link LeaseElector}. */
    public static final class Builder {
        private final ElectionSettings settings;
        private final LeaseStore store;
        private LeadershipListener listener = new LeadershipListener() {};
        private ElectionMonitor monitor = ElectionMonitor.NONE;
        private ElectionClock clock = ElectionClock.system();
        private ScheduledExecutorService electionExecutor;
        private ScheduledExecutorService eventExecutor;
        private Executor ioExecutor;
        private boolean watch = true;
        private RandomGenerator random = new SplittableRandom();
        private String application;
        private boolean allowOtherApplications;

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
         * The threads to use instead of the elector's own, owned by the caller. {@code election} must run one task
         * at a time and never block (the algorithm and its timers run there); {@code events} must be another executor
         * that runs tasks in submission order (listeners); {@code io} runs store calls, which may block or hang, and
         * should start a new thread rather than queue behind a hung call.
         */
        public Builder executors(ScheduledExecutorService election, ScheduledExecutorService events, Executor io) {
            this.electionExecutor = Objects.requireNonNull(election, "election");
            this.eventExecutor = Objects.requireNonNull(events, "events");
            this.ioExecutor = Objects.requireNonNull(io, "io");
            return this;
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

        public LeaseElector build() {
            return new LeaseElector(this);
        }
    }
}
