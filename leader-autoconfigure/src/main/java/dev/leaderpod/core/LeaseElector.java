package dev.leaderpod.core;

import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStore.LeaseWatcher;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Elects one leader among candidates sharing a lease in a {@link LeaseStore}, with client-go's acquire/renew
 * loop and its safety model.
 *
 * <h2>Guarantees</h2>
 *
 * <ul>
 *   <li><b>Expiry by local observation.</b> A follower considers a lease expired only when {@code leaseDuration}
 *       has passed on its own monotonic clock since it last saw the lease change. The holder's {@code renewTime}
 *       is never compared with the local wall clock, so clock offsets between nodes do no harm.
 *   <li><b>Step-down before take-over.</b> {@link #isLeader()} is true only until {@code renewDeadline} after the
 *       last successful renew was <em>sent</em>, evaluated at call time. Since {@code renewDeadline <
 *       leaseDuration}, the leader stops believing it leads before any follower can consider the lease expired.
 *       A timer publishes the revocation when the deadline passes: on the election thread, or, while a call that
 *       could outlive the deadline (by the request timeout) is in flight, on the event thread, so a stuck call
 *       cannot delay it.
 *   <li><b>Announce after the write.</b> {@link LeadershipListener#onStartedLeading} runs only after the write
 *       that made this candidate holder succeeded.
 *   <li><b>One write per renew.</b> The leader writes on top of the version of its own last write; only a
 *       conflict makes it read again.
 *   <li><b>Watch to be fast, poll to be right.</b> With a store that can watch, followers react to a release at
 *       once and otherwise only try when the lease would expire; a missed change makes their write fail with a
 *       conflict, which is the only thing that keeps two candidates from both winning.
 *   <li><b>Never single-use.</b> After losing, after any error, the candidate stays in the election with
 *       back-off; only {@link #stop} ends it.
 *   <li><b>Fencing token.</b> Every new term increments {@code leaseTransitions}; {@link LeadershipTerm#fencingToken()}
 *       exposes it.
 * </ul>
 *
 * <h2>Limits</h2>
 *
 * A lease is not a mutex across a process pause longer than {@code renewDeadline}: code that checked
 * {@link #isLeader()} and then paused may act after another candidate took over. Pass the fencing token to the
 * systems you write to so they can reject a stale leader. Clocks must tick at nearly the same rate: the margin
 * is {@code leaseDuration - renewDeadline}.
 *
 * <h2>Threads</h2>
 *
 * All election work, store calls and the step-down timer run on one election thread. Listener callbacks run on a
 * separate event thread, which exists only while there is something to deliver (or, while a renew that might outlive
 * the deadline is in flight, a deadline to watch) and ends 5 s after.
 */
public final class LeaseElector implements Leadership {

    private static final Logger log = LoggerFactory.getLogger(LeaseElector.class);

    private static final Duration RELEASED_LEASE_DURATION = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

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
    private final LeaseStore store;
    private final LeadershipListener listener;
    private final ElectionMonitor monitor;
    private final ElectionClock clock;
    private final ScheduledExecutorService electionExecutor;
    private final ScheduledExecutorService eventExecutor;
    private final boolean ownsExecutors;
    private final boolean watchEnabled;
    private final RandomGenerator random;

    // Shared between threads.
    private final AtomicReference<Term> leading = new AtomicReference<>();
    private final Object lifecycleMonitor = new Object();
    private volatile State state = State.NEW;
    private volatile boolean stopping;

    // Written only on the election thread; volatile so that snapshot() can read them.
    private volatile VersionedLease observed;
    private volatile long observedAtNanos;
    private volatile long lastRenewSentNanos;
    private volatile boolean hasRenewed;
    private volatile int consecutiveFailures;
    private volatile LeaseStoreException.Kind lastFailure;
    private volatile boolean watchHealthy;
    /** Whether {@link #observed} is known current: read since the watch (re)started, and kept so by it. */
    private boolean cacheCurrent;

    // Confined to the election thread.
    /** Highest leaseTransitions ever seen, so a lease deleted and created again keeps fencing tokens growing. */
    private long highestTransitionsSeen = -1;

    private ScheduledFuture<?> nextCycle;
    private long nextCycleAtNanos;
    private LeaseWatch watch;
    private int watchGeneration;
    private int watchFailures;
    private long holdOffUntilNanos;
    private boolean holdingOff;
    private String lastAnnouncedHolder;
    /** The last holder seen, kept while the lease is free: the "previous leader" of the next transition. */
    private String lastKnownHolder;
    /** Whether any lease content was seen yet, so that the first sight is not logged as a change. */
    private boolean announcedOnce;

    private LeaseStoreException.Kind lastLoggedFailure;
    private boolean conflictThisCycle;
    private int conflictingCycles;

    private LeaseElector(Builder builder) {
        this.settings = builder.settings;
        this.name = settings.leaseName();
        this.identity = settings.identity();
        this.store = builder.store;
        this.listener = builder.listener;
        this.monitor = builder.monitor;
        this.clock = builder.clock;
        this.watchEnabled = builder.watch;
        this.random = builder.random;
        if (builder.electionExecutor != null) {
            this.electionExecutor = builder.electionExecutor;
            this.eventExecutor = builder.eventExecutor;
            this.ownsExecutors = false;
        } else {
            this.electionExecutor = newElectionExecutor("leader-election-" + name);
            this.eventExecutor = newEventExecutor("leader-events-" + name);
            this.ownsExecutors = true;
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

    /** Whether {@link #start()} was called and {@link #stop} was not. */
    public boolean isRunning() {
        return state == State.RUNNING;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Lifecycle

    /** Joins the election. Returns at once; leadership is announced through the listener. */
    public void start() {
        synchronized (lifecycleMonitor) {
            if (state != State.NEW) {
                throw new IllegalStateException("elector for " + name + " was already started");
            }
            state = State.RUNNING;
        }
        log.info(
                "Joining leader election for {} as {} (lease {}, renew deadline {}, retry {})",
                store.describe(name),
                identity,
                settings.leaseDuration(),
                settings.renewDeadline(),
                settings.retryPeriod());
        electionExecutor.execute(() -> {
            startWatch();
            cycle();
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
                state = State.STOPPED;
                shutdownOwnedExecutors();
                return;
            }
            state = State.STOPPED;
        }
        long deadline = clock.nanoTime() + timeout.toNanos();
        stopping = true;
        // 1. Revoke first (D8): listeners drain leader-only work before the lease is given to anybody else.
        Term term = leading.getAndSet(null);
        if (term != null) {
            awaitQuietly(
                    submitEvent(() -> notifyStopped(term.info(), RevocationReason.SHUTDOWN)),
                    remaining(deadline),
                    "revocation listeners");
        }
        // 2. Then release, on the election thread, after any call in progress.
        Future<?> release = submitQuietly(electionExecutor, () -> {
            cancelNextCycle();
            closeWatch();
            Term late = leading.getAndSet(null); // acquired while we were stopping: revoke before release
            if (late != null) {
                awaitQuietly(
                        submitEvent(() -> notifyStopped(late.info(), RevocationReason.SHUTDOWN)),
                        remaining(deadline),
                        "revocation listeners");
            }
            release();
        });
        if (!awaitQuietly(release, remaining(deadline), "lease release")) {
            log.warn(
                    "Could not release {} within {}; followers take over when it expires ({}).",
                    store.describe(name),
                    timeout,
                    settings.leaseDuration());
        }
        shutdownOwnedExecutors();
    }

    /**
     * Gives leadership up: revokes, releases the lease so another candidate can take it at once, and rejoins as a
     * follower that does not try to take it back for one lease duration. Does nothing when not leading. Returns at
     * once.
     */
    public void yieldLeadership() {
        submitQuietly(electionExecutor, () -> {
            Term term = leading.get();
            if (term == null || state != State.RUNNING) {
                return;
            }
            if (leading.compareAndSet(term, null)) {
                awaitQuietly(
                        submitEvent(() -> notifyStopped(term.info(), RevocationReason.YIELDED)),
                        settings.leaseDuration(),
                        "revocation listeners");
            }
            release();
            holdingOff = true;
            holdOffUntilNanos = clock.nanoTime() + settings.leaseDuration().toNanos();
            scheduleCycle(settings.leaseDuration().toNanos());
        });
    }

    // ---------------------------------------------------------------------------------------------------------
    // The election loop (election thread)

    private void cycle() {
        nextCycle = null;
        if (state != State.RUNNING) {
            return;
        }
        long delay;
        conflictThisCycle = false;
        try {
            boolean leader = tryAcquireOrRenew();
            if (consecutiveFailures > 0) {
                log.info("{}: store calls succeed again after {} failures", name, consecutiveFailures);
                lastLoggedFailure = null;
            }
            consecutiveFailures = 0;
            delay = leader ? settings.retryPeriod().toNanos() : followerDelay();
        } catch (LeaseStoreException e) {
            delay = onFailure(e.kind(), e);
        } catch (RuntimeException e) { // a faulty store must not end the election (D9)
            delay = onFailure(LeaseStoreException.Kind.OTHER, e);
        }
        if (conflictThisCycle) {
            onConflictingCycle();
        } else {
            conflictingCycles = 0;
        }
        scheduleCycle(delay);
    }

    /**
     * One attempt to acquire or renew the lease.
     *
     * @return whether this candidate leads after the attempt
     */
    private boolean tryAcquireOrRenew() {
        // 1. A leader whose deadline passed steps down before anything else (the timer may not have run yet).
        Term term = leading.get();
        if (term != null && clock.nanoTime() - term.validUntilNanos() >= 0) {
            stepDown(term, RevocationReason.DEADLINE_PASSED);
            term = null;
        }

        // 2. Renew: write on top of our own last write, no read first (D6). A conflict is not a loss yet.
        VersionedLease cached = observed;
        if (term != null && cached != null && cached.record().isHeldBy(identity)) {
            try {
                return renew(cached, term);
            } catch (LeaseConflictException e) {
                cached = null; // somebody wrote since: read again and decide below
            }
        }

        // 3. Read, unless a healthy watch keeps the cache fresh; a stale cache only makes the write below fail.
        Optional<VersionedLease> current =
                (watchHealthy && cacheCurrent && cached != null && term == null) ? Optional.of(cached) : read();

        // 4. No lease: create it.
        if (current.isEmpty()) {
            if (term != null) {
                stepDown(term, RevocationReason.RELEASED);
            }
            if (inHoldOff()) {
                return false;
            }
            LeaseRecord fresh = new LeaseRecord(
                    identity, settings.leaseDuration(), clock.wallTime(), clock.wallTime(), highestTransitionsSeen + 1);
            String previous = lastKnownHolder;
            long sentAt = clock.nanoTime();
            try {
                VersionedLease created = call("create", () -> store.create(name, fresh));
                onOwnWrite(created, sentAt);
                startTerm(created, sentAt, previous, "created the lease");
                return true;
            } catch (LeaseConflictException e) {
                read(); // somebody created it first
                return false;
            }
        }

        VersionedLease lease = current.get();
        LeaseRecord record = lease.record();

        // 5. We lead but the lease says otherwise: someone took or cleared it.
        if (term != null && !record.isHeldBy(identity)) {
            stepDown(term, record.isHeld() ? RevocationReason.LOST : RevocationReason.RELEASED);
            term = null;
        }

        // 6. Still ours: renew with the version just read.
        if (term != null) {
            try {
                return renew(lease, term);
            } catch (LeaseConflictException e) {
                read();
                return false;
            }
        }

        // 7. Held by another candidate and not yet expired by our own clock: follow.
        if (record.isHeld() && !record.isHeldBy(identity) && !expired(lease)) {
            return false;
        }
        if (inHoldOff()) {
            return false;
        }

        // 8. Free, expired, or ours from an earlier term: start a new term with the next fencing token.
        LeaseRecord taken = new LeaseRecord(
                identity, settings.leaseDuration(), clock.wallTime(), clock.wallTime(), record.transitionsOrZero() + 1);
        String previous = record.isHeld() ? record.holderIdentity() : lastKnownHolder;
        String how = !record.isHeld()
                ? (previous == null ? "the lease was free" : previous + " had released the lease")
                : record.isHeldBy(identity)
                        ? "its own earlier term had ended"
                        : "the lease was not renewed for " + durationOf(record) + " by this candidate's clock";
        long sentAt = clock.nanoTime();
        try {
            VersionedLease written = call("acquire", () -> store.update(name, taken, lease.version()));
            onOwnWrite(written, sentAt);
            startTerm(written, sentAt, previous, how);
            return true;
        } catch (LeaseConflictException e) {
            read(); // lost the race; learn who won
            return false;
        }
    }

    /**
     * Extends {@code term} by writing on top of {@code base}.
     *
     * @return whether the term is still current; false if its deadline passed while the call was in flight (the
     *     write landed, but the term is over: the next cycle starts a new term with a new fencing token)
     */
    private boolean renew(VersionedLease base, Term term) {
        LeaseRecord current = base.record();
        LeaseRecord next = new LeaseRecord(
                identity,
                settings.leaseDuration(),
                current.acquireTime(),
                clock.wallTime(),
                current.transitionsOrZero());
        long sentAt = clock.nanoTime();
        ScheduledFuture<?> watchdog = armWatchdogIfNeeded(term, sentAt);
        VersionedLease written;
        try {
            written = call("renew", () -> store.update(name, next, base.version()));
        } finally {
            if (watchdog != null) {
                watchdog.cancel(false);
            }
        }
        onOwnWrite(written, sentAt);
        Term renewed = new Term(term.info(), sentAt + settings.renewDeadline().toNanos(), sentAt);
        return leading.compareAndSet(term, renewed);
    }

    /**
     * The deadline timer runs on the election thread, which is free at the deadline as long as no call is in flight
     * then. A call may be in flight at the deadline only if it could end after it: then, for the length of that call,
     * the event thread watches the deadline instead, so the revocation is published on time even if the call hangs.
     * A healthy leader renews well before its deadline and keeps no second thread.
     */
    private ScheduledFuture<?> armWatchdogIfNeeded(Term term, long sentAt) {
        if (sentAt + settings.requestTimeout().toNanos() - term.validUntilNanos() < 0) {
            return null;
        }
        LeadershipTerm info = term.info();
        try {
            return eventExecutor.schedule(
                    () -> checkDeadline(info, eventExecutor),
                    Math.max(0, term.validUntilNanos() - clock.nanoTime()),
                    TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            return null;
        }
    }

    private Optional<VersionedLease> read() {
        Optional<VersionedLease> lease = call("get", () -> store.get(name));
        cacheCurrent = watchHealthy;
        if (lease.isPresent()) {
            observe(lease.get());
        } else {
            observed = null;
        }
        return lease;
    }

    /** Records a lease we saw; the expiry clock restarts only when its content or version changed (D1). */
    private void observe(VersionedLease lease) {
        highestTransitionsSeen = Math.max(highestTransitionsSeen, lease.record().transitionsOrZero());
        VersionedLease previous = observed;
        if (previous == null
                || !previous.version().equals(lease.version())
                || !previous.record().equals(lease.record())) {
            observed = lease;
            observedAtNanos = clock.nanoTime();
        }
        announceHolder(lease.record());
    }

    private void onOwnWrite(VersionedLease written, long sentAt) {
        highestTransitionsSeen =
                Math.max(highestTransitionsSeen, written.record().transitionsOrZero());
        observed = written;
        observedAtNanos = sentAt;
        lastRenewSentNanos = sentAt;
        hasRenewed = true;
        announceHolder(written.record());
    }

    private boolean expired(VersionedLease lease) {
        return clock.nanoTime() - observedAtNanos >= durationOf(lease.record()).toNanos();
    }

    /** A missing, zero or negative duration (a foreign or corrupt lease) counts as our own, never as expired. */
    private Duration durationOf(LeaseRecord record) {
        Duration duration = record.leaseDuration();
        return (duration == null || duration.isNegative() || duration.isZero()) ? settings.leaseDuration() : duration;
    }

    private boolean inHoldOff() {
        if (holdingOff && clock.nanoTime() - holdOffUntilNanos < 0) {
            return true;
        }
        holdingOff = false;
        return false;
    }

    /**
     * @param previous the holder before this term, as last seen, or null
     * @param how why the lease could be taken, for the log
     */
    private void startTerm(VersionedLease written, long sentAt, String previous, String how) {
        if (stopping) {
            return; // stop() releases it; never announce a term that is already over
        }
        LeaseRecord record = written.record();
        LeadershipTerm info = new LeadershipTerm(name, identity, record.transitionsOrZero(), record.acquireTime());
        Term term = new Term(info, sentAt + settings.renewDeadline().toNanos(), sentAt);
        leading.set(term);
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
            } catch (RuntimeException e) {
                log.error("Leadership listener failed on start of term {} of {}", info.fencingToken(), name, e);
            }
        });
        armStepDownTimer(info, sentAt + settings.renewDeadline().toNanos());
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
        } catch (RuntimeException e) {
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
                } catch (RuntimeException e) {
                    log.error("Leadership listener failed on new leader of {}", name, e);
                }
            });
        }
    }

    private void release() {
        VersionedLease mine = observed;
        if (mine == null || !mine.record().isHeldBy(identity)) {
            return;
        }
        for (int attempt = 0; attempt < 2 && mine != null && mine.record().isHeldBy(identity); attempt++) {
            LeaseRecord released = new LeaseRecord(
                    "",
                    RELEASED_LEASE_DURATION,
                    mine.record().acquireTime(),
                    clock.wallTime(),
                    mine.record().transitionsOrZero());
            String version = mine.version();
            try {
                VersionedLease written = call("release", () -> store.update(name, released, version));
                observed = written;
                observedAtNanos = clock.nanoTime();
                log.info("{} released {}", identity, store.describe(name));
                return;
            } catch (LeaseConflictException e) {
                mine = read().orElse(null); // maybe only our cache was stale; retry once if still ours
            } catch (RuntimeException e) {
                log.warn("{} could not release {}: {}", identity, store.describe(name), e.getMessage());
                return;
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Scheduling and failures (election thread)

    private long followerDelay() {
        if (inHoldOff()) {
            return holdOffUntilNanos - clock.nanoTime();
        }
        VersionedLease lease = observed;
        if (!watchHealthy || lease == null) {
            return jittered(settings.retryPeriod());
        }
        LeaseRecord record = lease.record();
        if (!record.isHeld() || record.isHeldBy(identity)) {
            return 0;
        }
        // With a healthy watch a follower need not poll: it only has to try when the lease would expire.
        return Math.max(0, observedAtNanos + durationOf(record).toNanos() - clock.nanoTime());
    }

    private long onFailure(LeaseStoreException.Kind kind, RuntimeException e) {
        int failures = ++consecutiveFailures;
        lastFailure = kind;
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
                    kind == LeaseStoreException.Kind.OTHER ? e : null);
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
                    kind == LeaseStoreException.Kind.OTHER ? e : null);
        }
        long backoff = settings.retryPeriod().toNanos() << Math.min(failures - 1, 4);
        return jittered(Duration.ofNanos(Math.min(backoff, maxFollowerBackoff())));
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

    private void scheduleCycle(long delayNanos) {
        if (state != State.RUNNING) {
            return;
        }
        cancelNextCycle();
        long delay = Math.max(0, delayNanos);
        nextCycleAtNanos = clock.nanoTime() + delay;
        try {
            nextCycle = electionExecutor.schedule(this::cycle, delay, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            nextCycle = null; // shutting down
        }
    }

    /** Brings the next cycle forward to at most {@code delayNanos} from now. */
    private void scheduleCycleWithin(long delayNanos) {
        if (nextCycle == null || nextCycleAtNanos - (clock.nanoTime() + delayNanos) > 0) {
            scheduleCycle(delayNanos);
        }
    }

    private void cancelNextCycle() {
        if (nextCycle != null) {
            nextCycle.cancel(false);
            nextCycle = null;
        }
    }

    private <T> T call(String operation, Supplier<T> storeCall) {
        long start = clock.nanoTime();
        LeaseStoreException.Kind failure = null;
        try {
            return storeCall.get();
        } catch (LeaseStoreException e) {
            failure = e.kind();
            if (failure == LeaseStoreException.Kind.CONFLICT) {
                conflictThisCycle = true;
            }
            throw e;
        } catch (RuntimeException e) {
            failure = LeaseStoreException.Kind.OTHER;
            throw e;
        } finally {
            monitor.storeCall(operation, Duration.ofNanos(clock.nanoTime() - start), failure);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Watch (election thread; the store's callbacks hop onto it)

    private void startWatch() {
        if (!watchEnabled || state != State.RUNNING) {
            return;
        }
        int generation = ++watchGeneration;
        LeaseWatcher watcher = new LeaseWatcher() {
            @Override
            public void onChange(Optional<VersionedLease> lease) {
                submitQuietly(electionExecutor, () -> onWatchedChange(generation, lease));
            }

            @Override
            public void onClose(Exception cause) {
                submitQuietly(electionExecutor, () -> onWatchClosed(generation, cause));
            }
        };
        try {
            watch = store.watch(name, watcher).orElse(null);
            watchHealthy = watch != null;
            cacheCurrent = false; // changes may have been missed while there was no watch: read once
            watchFailures = 0;
        } catch (RuntimeException e) {
            onWatchClosed(generation, e);
        }
    }

    private void onWatchedChange(int generation, Optional<VersionedLease> change) {
        if (generation != watchGeneration || state != State.RUNNING) {
            return;
        }
        Term term = leading.get();
        if (change.isEmpty()) { // deleted
            observed = null;
            scheduleCycle(0);
            return;
        }
        VersionedLease lease = change.get();
        if (term != null && lease.record().isHeldBy(identity)) {
            return; // an echo of our own renew; our write result is the authoritative cache
        }
        observe(lease);
        if (term != null) {
            scheduleCycle(0); // someone else wrote while we lead: verify now
        } else {
            scheduleCycle(followerDelay());
        }
    }

    private void onWatchClosed(int generation, Exception cause) {
        if (generation != watchGeneration || state != State.RUNNING) {
            return;
        }
        watchHealthy = false;
        cacheCurrent = false;
        watch = null;
        watchFailures++;
        log.debug("{}: watch on {} closed ({}); polling until it is back", identity, name, String.valueOf(cause));
        if (cause instanceof LeaseStoreException storeFailure
                && storeFailure.kind() == LeaseStoreException.Kind.FORBIDDEN
                && watchFailures == 1) {
            log.warn("{}: cannot watch {}: {}", identity, store.describe(name), cause.getMessage());
        }
        if (leading.get() == null) {
            scheduleCycleWithin(jittered(settings.retryPeriod()));
        }
        long backoff = settings.retryPeriod().toNanos() << Math.min(watchFailures - 1, 4);
        try {
            electionExecutor.schedule(this::startWatch, Math.min(backoff, MAX_BACKOFF.toNanos()), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // shutting down
        }
    }

    private void closeWatch() {
        watchGeneration++;
        watchHealthy = false;
        if (watch != null) {
            try {
                watch.close();
            } catch (RuntimeException e) {
                log.debug("Closing the watch on {} failed", name, e);
            }
            watch = null;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Step-down timer and events (event thread)

    private void armStepDownTimer(LeadershipTerm info, long validUntilNanos) {
        scheduleQuietly(
                electionExecutor, () -> checkDeadline(info, electionExecutor), validUntilNanos - clock.nanoTime());
    }

    /**
     * Runs at the deadline, on the election thread (or, while a call that may outlive the deadline is in flight, on
     * the event thread); re-arms itself if the term was renewed meanwhile, else ends the term.
     */
    private void checkDeadline(LeadershipTerm info, ScheduledExecutorService executor) {
        Term term = leading.get();
        if (term == null || term.info() != info) {
            return;
        }
        long remaining = term.validUntilNanos() - clock.nanoTime();
        if (remaining > 0) {
            if (executor == electionExecutor) {
                scheduleQuietly(executor, () -> checkDeadline(info, executor), remaining);
            }
        } else if (leading.compareAndSet(term, null)) {
            if (executor == eventExecutor) {
                notifyStopped(info, RevocationReason.DEADLINE_PASSED);
            } else {
                submitEvent(() -> notifyStopped(info, RevocationReason.DEADLINE_PASSED));
            }
        }
    }

    private Future<?> submitEvent(Runnable event) {
        return submitQuietly(eventExecutor, event);
    }

    private static Future<?> submitQuietly(ScheduledExecutorService executor, Runnable task) {
        try {
            return executor.submit(task);
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
        }
    }

    private static ScheduledExecutorService newElectionExecutor(String threadName) {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, daemonThreads(threadName));
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }

    private static ScheduledExecutorService newEventExecutor(String threadName) {
        // The event thread exists only while there is an event to deliver or a call to watch.
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, daemonThreads(threadName));
        executor.setRemoveOnCancelPolicy(true);
        executor.setKeepAliveTime(5, TimeUnit.SECONDS);
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String name) {
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
        private boolean watch = true;
        private RandomGenerator random = new SplittableRandom();

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
         * The threads to use instead of the elector's own. {@code election} must run one task at a time (store
         * calls happen there); {@code events} must be a different executor that runs tasks in submission order.
         * The caller owns both.
         */
        public Builder executors(ScheduledExecutorService election, ScheduledExecutorService events) {
            this.electionExecutor = Objects.requireNonNull(election, "election");
            this.eventExecutor = Objects.requireNonNull(events, "events");
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

        public LeaseElector build() {
            return new LeaseElector(this);
        }
    }
}
