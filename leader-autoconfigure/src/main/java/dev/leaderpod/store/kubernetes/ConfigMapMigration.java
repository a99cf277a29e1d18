package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.Candidacy;
import dev.leaderpod.core.ElectionRuntime;
import dev.leaderpod.core.ForwardingLeaseStore;
import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.VersionedLease;
import dev.leaderpod.store.kubernetes.ConfigMapLeaders.Entry;
import dev.leaderpod.store.kubernetes.ConfigMapLeaders.Phase;
import dev.leaderpod.store.kubernetes.ConfigMapLeaders.PodState;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Migration from spring-cloud-kubernetes 3.x's ConfigMap leader (docs/design.md, "Migration from the ConfigMap
 * leader"): during a rolling upgrade, the pods of the old version elect by a ConfigMap that names the leader's pod,
 * and follow it while that pod is Ready; the new ones elect by the Lease. This candidate also respects and holds the
 * old record, so that the two kinds never lead at once:
 *
 * <ul>
 *   <li>It does not stand ({@link #candidacy}) while its own pod is not Ready (the old pods would take over from it at
 *       once), while the ConfigMap names an old leader whose pod still exists, nor, once the record names nobody, until
 *       the last old leader's pod is gone, at most a retry period. An entry one of ours wrote on the pod it names (our
 *       keys name that pod and its uid) is left to the Lease.
 *   <li>A write that may start a term ({@link #store}) first judges the record (read again unless a read of less than
 *       a retry period ago stands), then writes the Lease, then writes its own pod's name into the ConfigMap on top of
 *       the version it judged — a compare-and-set, as the old pods' own writes are. Only when both landed does the
 *       write answer; a lost ConfigMap write is a lost race (an acquired Lease is released again).
 *   <li>A leader that finds the ConfigMap naming another, or its own pod not Ready, stops standing, and so hands over at
 *       once. Each write of a term whose record names this candidate reads the record again after it landed, waiting
 *       for that read as long as the elector's bound on the call allows.
 * </ul>
 *
 * Judgements are applied in the order their reads were sent, so a late answer never undoes a newer one. It reads the
 * record every retry period while it does not stand and every lease duration otherwise, and watches the ConfigMap, its
 * own pod and the old leader's pod to react within milliseconds. A release leaves the ConfigMap naming the pod: the
 * new candidates take the released Lease; the old pods take over once that pod stops being Ready.
 */
public final class ConfigMapMigration implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ConfigMapMigration.class);

    /** The Role rules a migration needs besides the Lease store's. */
    public static final String RBAC_RULES = ConfigMapLeaders.CONFIG_MAP_RULE + "; " + ConfigMapLeaders.POD_RULE;

    private static final long NOT_SET = Long.MIN_VALUE;

    /** A judgement of the record: what was read, why this candidate may not lead (null: it may), and when. */
    private record View(Entry entry, String blocker, long judgedAtNanos) {}

    private final ConfigMapLeaders leaders;
    private final String pod;
    private final String identity;
    private final ElectionRuntime runtime;
    private final Duration retryPeriod;
    private final Duration leaseDuration;
    private final long callBudgetNanos;
    /** The clock of the wait on a record that names nobody (a test's can be moved); calls are timed by the system's. */
    private final LongSupplier nanoTime;

    private final AtomicBoolean refreshQueued = new AtomicBoolean();
    private final AtomicLong reads = new AtomicLong();
    /** Acquire times of Leases this candidate created: never released by a lost claim (their hold protects them). */
    private final Set<Instant> created = ConcurrentHashMap.newKeySet();

    private volatile Runnable standingChanged = () -> {};
    private volatile View view = new View(null, "the ConfigMap leader record has not been read yet", NOT_SET);
    private volatile String ownUid;
    private volatile boolean closed;
    private volatile String lastFailure;

    // Guarded by this.
    private long lastApplied;
    private String oldLeader;
    private long freeSinceNanos = NOT_SET;

    private final WatchSlot configMapWatch = new WatchSlot();
    private final WatchSlot ownPodWatch = new WatchSlot();
    private final WatchSlot oldLeaderPodWatch = new WatchSlot();

    /**
     * @param client the application's client, through whose HTTP client the requests go
     * @param record where the old pods keep their record
     * @param podNamespace the namespace of the pods, the old ones' and this candidate's (the client's, as the old pods
     *     read it)
     * @param pod this candidate's pod name, which the old pods look up to follow it
     * @param identity this candidate's identity in the Lease
     * @param runtime the runtime of the elections, whose I/O threads the reads run on
     * @param retryPeriod how often the record is read while this candidate does not stand
     * @param leaseDuration how often it is read otherwise
     * @param requestTimeout the bound on each request
     */
    public ConfigMapMigration(
            KubernetesClient client,
            ConfigMapLeaderRecord record,
            String podNamespace,
            String pod,
            String identity,
            ElectionRuntime runtime,
            Duration retryPeriod,
            Duration leaseDuration,
            Duration requestTimeout) {
        this(
                new ConfigMapLeaders(client, record, podNamespace, requestTimeout),
                pod,
                identity,
                runtime,
                retryPeriod,
                leaseDuration,
                requestTimeout,
                System::nanoTime);
    }

    ConfigMapMigration(
            ConfigMapLeaders leaders,
            String pod,
            String identity,
            ElectionRuntime runtime,
            Duration retryPeriod,
            Duration leaseDuration,
            Duration requestTimeout,
            LongSupplier nanoTime) {
        this.leaders = leaders;
        this.pod = requireText(pod, "pod");
        this.identity = requireText(identity, "identity");
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.retryPeriod = retryPeriod;
        this.leaseDuration = leaseDuration;
        // The elector abandons a store call after 1.25 request timeouts: answer well within that.
        this.callBudgetNanos = requestTimeout.toNanos() * 11 / 10;
        this.nanoTime = nanoTime;
    }

    /** {@code candidacy}, not standing while the old record or this candidate's pod forbids leading. */
    public Candidacy candidacy(Candidacy candidacy) {
        return candidacy.standingOnlyWhile(() -> view.blocker() == null);
    }

    /** {@code store}, whose writes naming this candidate also judge and claim the old record. */
    public LeaseStore store(LeaseStore store) {
        return new ClaimingStore(store);
    }

    /** Why this candidate does not stand now, or empty when it does. */
    public Optional<String> blocker() {
        return Optional.ofNullable(view.blocker());
    }

    /** Starts reading and watching the record; {@code onStandingChanged} runs (quickly) whenever standing flips. */
    public void start(Runnable onStandingChanged) {
        this.standingChanged = Objects.requireNonNull(onStandingChanged, "onStandingChanged");
        readAgainIn(Duration.ZERO);
    }

    @Override
    public void close() {
        closed = true;
        configMapWatch.close();
        ownPodWatch.close();
        oldLeaderPodWatch.close();
        leaders.close();
    }

    // --- reading the record

    /** Reads the record and judges it; a periodic read schedules the next. On an I/O thread. */
    private void refresh(boolean periodic) {
        if (!periodic) {
            refreshQueued.set(false);
        }
        if (closed) {
            return;
        }
        try {
            read();
            lastFailure = null;
            watch();
        } catch (LeaseStoreException e) {
            // The last judgement stands: one that does not stand goes on not standing; a leader goes on under the
            // Lease's rules, and the next write that may start a term judges the record again.
            if (!Objects.equals(lastFailure, e.getMessage())) {
                lastFailure = e.getMessage();
                log.warn(
                        "Cannot read the ConfigMap leader record during the migration (leader.migration.config-map): {}",
                        e.getMessage());
            }
        } catch (RuntimeException e) {
            log.warn("Reading the ConfigMap leader record failed", e);
        } finally {
            if (periodic) {
                readAgainIn(view.blocker() != null ? retryPeriod : leaseDuration);
            }
        }
    }

    /** Schedules the next periodic read; one refused for want of an I/O thread is tried again a retry period later. */
    private void readAgainIn(Duration delay) {
        if (closed) {
            return;
        }
        runtime.schedule(
                () -> {
                    try {
                        runtime.runBlocking(() -> refresh(true));
                    } catch (RejectedExecutionException e) {
                        readAgainIn(retryPeriod);
                    }
                },
                delay);
    }

    /** Reads the record soon, once however many changes were told meanwhile. */
    private void refreshSoon() {
        if (!closed && refreshQueued.compareAndSet(false, true)) {
            try {
                runtime.runBlocking(() -> refresh(false));
            } catch (RejectedExecutionException e) {
                refreshQueued.set(false); // no I/O thread free: the periodic read comes anyway
            }
        }
    }

    /** Reads and judges the record, and applies the judgement unless a newer read's has been applied; returns it. */
    private View read() {
        long order = reads.incrementAndGet();
        Entry entry = leaders.read();
        String why = judge(entry);
        return judged(entry, why, order);
    }

    /** Why this candidate may not take leadership while the record is {@code entry}; null if it may. Reads pods. */
    private String judge(Entry entry) {
        PodState own = leaders.pod(pod);
        if (own.phase() == Phase.ABSENT) {
            return "this candidate's pod " + pod + " does not exist, so the old pods would not follow a record"
                    + " naming it. Set the environment variable POD_NAME from the downward API (fieldRef"
                    + " metadata.name)";
        }
        if (own.phase() != Phase.READY) {
            return "this candidate's pod " + pod + " is not Ready, and the old pods take over at once from a leader"
                    + " whose pod is not Ready";
        }
        ownUid = own.uid();
        String named = entry.leaderPod();
        if (named == null) {
            return untilFreeLongEnough();
        }
        synchronized (this) {
            freeSinceNanos = NOT_SET;
        }
        if (named.equals(pod)) {
            forgetOldLeader(); // this pod's: this candidate's, or an earlier one's in the same pod (the Lease decides)
            return null;
        }
        PodState namedPod = leaders.pod(named);
        if (!namedPod.running()) {
            forgetOldLeader(); // its process has ended
            return null;
        }
        if (entry.writtenByUs(namedPod.uid())) {
            forgetOldLeader(); // ours: the Lease decides who leads
            return null;
        }
        sawOldLeader(named);
        return leaders.record().describe() + " names " + named + ", a spring-cloud-kubernetes leader whose pod exists"
                + (entry.holder() != null && entry.holder().startsWith(named + "/")
                        ? " (recreated since one of ours wrote the entry)"
                        : "");
    }

    /**
     * Why a record that names nobody may not be taken yet: an old leader that removes its name (its revoke) tells its
     * own code only after, so until the last old leader seen here is gone, or the record has named nobody for a retry
     * period (also when this candidate never saw who named it), it is left alone; unless the name last seen here was
     * this candidate's own.
     */
    private String untilFreeLongEnough() {
        long now = nanoTime.getAsLong();
        String last;
        long since;
        synchronized (this) {
            Entry before = view.entry();
            if (before != null && before.names(pod, identity)) {
                return null; // the name removed was this candidate's own (by hand): no old leader is stopping
            }
            if (freeSinceNanos == NOT_SET) {
                freeSinceNanos = now;
            }
            last = oldLeader;
            since = freeSinceNanos;
        }
        if (last != null && !leaders.pod(last).running()) {
            forgetOldLeader();
            return null; // the old leader that removed its name has ended
        }
        if (now - since >= retryPeriod.toNanos()) {
            return null;
        }
        return leaders.record().describe() + " names no leader"
                + (last != null ? "; the old leader " + last + " removed its name and its pod still runs" : "")
                + ": waiting until it has named nobody for " + retryPeriod.toMillis() + " ms, in case an old leader is"
                + " still stopping";
    }

    private synchronized void sawOldLeader(String name) {
        oldLeader = name;
    }

    private synchronized void forgetOldLeader() {
        oldLeader = null;
    }

    /**
     * Takes {@code why} as the judgement of {@code entry}, read as the {@code order}th read, unless a later read's
     * judgement has been applied; tells the elector when standing flipped. Returns the judgement that stands.
     */
    private View judged(Entry entry, String why, long order) {
        View before;
        View after;
        synchronized (this) {
            before = view;
            if (order < lastApplied) {
                return before;
            }
            lastApplied = order;
            after = new View(entry, why, System.nanoTime());
            view = after;
        }
        if ((before.blocker() == null) != (why == null)) {
            if (why == null) {
                log.info("Taking part in the election again: the ConfigMap leader record lets this candidate lead"
                        + " (leader.migration.config-map)");
            } else {
                log.info("Not taking leadership while {} (leader.migration.config-map)", why);
            }
            try {
                standingChanged.run();
            } catch (RuntimeException e) { // the elector acts on its standing at its next cycle anyway
                log.warn("Telling the elector that its standing changed failed", e);
            }
        }
        return after;
    }

    /** Starts the watches that are not running: the ConfigMap's, this pod's, and the old leader's pod in the way. */
    private void watch() {
        String oldLeaderPod;
        synchronized (this) {
            oldLeaderPod = oldLeader;
        }
        configMapWatch.watch(leaders.record().name(), givenUp -> leaders.watchConfigMap(this::refreshSoon, givenUp));
        ownPodWatch.watch(pod, givenUp -> leaders.watchPod(pod, this::refreshSoon, givenUp));
        oldLeaderPodWatch.watch(oldLeaderPod, givenUp -> leaders.watchPod(oldLeaderPod, this::refreshSoon, givenUp));
    }

    /**
     * One watch the migration keeps running on a target (null: none). A watch starts outside any lock; a start that a
     * newer one overtook, or that a close came during, is closed again. A watch the client gives up on is cleared —
     * that one only, not a newer one — and the record is read again, whose read starts it anew.
     */
    private final class WatchSlot {
        private Watch watch;
        private String target;
        private long generation;

        /** Watches {@code wanted} (null: nothing), starting with {@code start}, given the callback for giving up. */
        void watch(String wanted, Function<Runnable, Watch> start) {
            long started;
            synchronized (this) {
                if (closed || (Objects.equals(target, wanted) && (wanted == null || watch != null))) {
                    return;
                }
                started = ++generation;
            }
            Watch next = wanted == null ? null : startQuietly(() -> start.apply(() -> givenUp(started)));
            Watch previous;
            synchronized (this) {
                if (started != generation || closed) {
                    previous = next; // overtaken, given up during its start, or closed meanwhile
                } else {
                    previous = watch;
                    watch = next;
                    target = next == null ? null : wanted;
                }
            }
            closeQuietly(previous);
        }

        private void givenUp(long started) {
            synchronized (this) {
                if (started != generation) {
                    return; // a watch replaced since
                }
                generation++;
                watch = null;
                target = null;
            }
            refreshSoon();
        }

        void close() {
            Watch last;
            synchronized (this) {
                generation++;
                last = watch;
                watch = null;
                target = null;
            }
            closeQuietly(last);
        }
    }

    private static Watch startQuietly(Supplier<Watch> start) {
        try {
            return start.get();
        } catch (RuntimeException e) {
            log.debug("A watch of the migration did not start; the periodic read goes on", e);
            return null;
        }
    }

    private static void closeQuietly(Watch watch) {
        if (watch != null) {
            try {
                watch.close();
            } catch (RuntimeException e) {
                log.debug("Closing a watch of the migration failed", e);
            }
        }
    }

    // --- the writes that may start a term

    /**
     * Runs {@code write}, which writes a record naming this candidate, only if the old record lets it lead, and claims
     * the old record before answering: the answer that may start a term comes only once both landed.
     *
     * @param release the release of the Lease {@code write} wrote, for when the claim is lost; null to leave it
     */
    private VersionedLease guarded(
            LeaseRecord record, Supplier<VersionedLease> write, Function<VersionedLease, ?> release) {
        if (closed) {
            throw new LeaseStoreException(
                    LeaseStoreException.Kind.OTHER, "The ConfigMap migration has stopped: no term starts");
        }
        long start = System.nanoTime();
        View current = view;
        if (current.blocker() == null
                && current.entry() != null
                && current.entry().names(pod, identity)) {
            // The record names this candidate: a renew, a hold, or a term taken back. Write, then read the record
            // again; a record an old pod took since makes this candidate stop standing before the answer, if the
            // read answers within the call's bound.
            VersionedLease written = write.get();
            recheckWithin(start);
            return written;
        }
        if (current.blocker() != null || start - current.judgedAtNanos() >= retryPeriod.toNanos()) {
            current = read();
        }
        if (current.blocker() != null) {
            throw new LeaseConflictException("Not taking the Lease: " + current.blocker());
        }
        VersionedLease written = write.get();
        try {
            claim(current.entry());
        } catch (LeaseConflictException lost) {
            if (release != null) {
                releaseQuietly(release, written);
            }
            throw lost;
        }
        return written;
    }

    /** Reads the record again after a write, waiting for the read until the call's budget from {@code start} is spent. */
    private void recheckWithin(long start) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Runnable recheck = () -> {
            try {
                read();
            } catch (RuntimeException e) {
                log.debug("Reading the ConfigMap leader record after a write failed", e);
            } finally {
                done.complete(null);
            }
        };
        try {
            try {
                runtime.runBlocking(recheck);
            } catch (RejectedExecutionException busy) {
                recheck.run(); // no I/O thread free: read on this one
            }
            long left = start + callBudgetNanos - System.nanoTime();
            if (left > 0) {
                done.get(left, TimeUnit.NANOSECONDS);
            }
        } catch (TimeoutException | ExecutionException e) {
            // It answers later: the standing it finds is acted on then.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Writes this pod's name into the record on top of {@code judged}, the entry whose judgement let it lead. A claim
     * that conflicts reads and judges once more and tries again if it still may lead.
     *
     * @throws LeaseConflictException the record may not be claimed (an old pod came first), or a newer read than the
     *     claim's found that it may not lead
     */
    private void claim(Entry judged) {
        if (judged.names(pod, identity)) {
            return;
        }
        if (!judged.exists() && !leaders.record().createIfAbsent()) {
            // The old pods cannot lead without it either (spring.cloud.kubernetes.leader.create-config-map=false).
            return;
        }
        Entry base = judged;
        for (int attempt = 0; ; attempt++) {
            long order = reads.incrementAndGet();
            try {
                View after = judged(leaders.claim(base, pod, ownUid, identity), null, order);
                if (after.blocker() != null) {
                    // A read sent after the claim found an old pod's entry: the claim's answer came late.
                    throw new LeaseConflictException("Not taking the Lease: " + after.blocker());
                }
                return;
            } catch (LeaseConflictException conflict) {
                if (attempt > 0) {
                    throw conflict;
                }
                View again = read();
                if (again.blocker() != null) {
                    throw new LeaseConflictException("Not taking the Lease: " + again.blocker(), conflict);
                }
                if (again.entry().names(pod, identity)) {
                    return;
                }
                base = again.entry();
            }
        }
    }

    /** Releases a Lease whose write landed but whose claim was lost, so that nobody waits for it to expire. */
    private static void releaseQuietly(Function<VersionedLease, ?> release, VersionedLease written) {
        try {
            release.apply(written);
        } catch (RuntimeException e) {
            log.debug("Releasing a Lease whose claim of the ConfigMap was lost failed; it expires instead", e);
        }
    }

    /** The Lease store, whose writes naming this candidate go through {@link #guarded}. */
    private final class ClaimingStore extends ForwardingLeaseStore {

        ClaimingStore(LeaseStore store) {
            super(store);
        }

        @Override
        public VersionedLease create(String name, LeaseRecord record) {
            if (!record.isHeldBy(identity)) {
                return super.create(name, record);
            }
            created.add(record.acquireTime()); // held first: never released by a lost claim
            return guarded(record, () -> super.create(name, record), null);
        }

        @Override
        public VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
            if (!record.isHeldBy(identity)) {
                return super.update(name, record, expectedVersion);
            }
            return guarded(
                    record,
                    () -> super.update(name, record, expectedVersion),
                    created.contains(record.acquireTime())
                            ? null
                            : written -> super.update(name, lostClaim(written.record()), written.version()));
        }

        @Override
        public VersionedLease createIfNeverExisted(String name, LeaseRecord record) {
            return record.isHeldBy(identity)
                    ? guarded(record, () -> super.createIfNeverExisted(name, record), null)
                    : super.createIfNeverExisted(name, record);
        }
    }

    /** The release of a Lease whose claim of the record was lost: its term never started. */
    private static LeaseRecord lostClaim(LeaseRecord written) {
        return written.released(written.renewTime(), written.application(), null);
    }

    private static String requireText(String value, String what) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(what + " must not be empty");
        }
        return value;
    }
}
