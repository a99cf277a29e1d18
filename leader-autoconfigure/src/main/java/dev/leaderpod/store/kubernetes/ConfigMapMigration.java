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
import dev.leaderpod.store.kubernetes.ConfigMapLeaders.PodState;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
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
 *   <li>It does not stand ({@link #candidacy}) while the ConfigMap names an old leader whose pod still exists, nor,
 *       after an old leader removed its name (the old code's revoke), until that pod is gone, at most
 *       {@code releaseGrace}. An entry one of ours wrote (our key names the same pod) is left to the Lease.
 *   <li>Before a term starts, the write that starts it ({@link #store}) first checks the record again, then writes the
 *       Lease, then writes its own pod's name in the ConfigMap on top of the version it read — a compare-and-set, as
 *       the old pods' own writes are. Only when both landed does the term start; a lost ConfigMap write is a lost race
 *       (the Lease write is left to expire). The old pods then follow this candidate while its pod is Ready.
 *   <li>A leader that finds the ConfigMap naming another stops standing, and so hands over at once. Each renew reads
 *       the record again after it landed, beside the watch.
 * </ul>
 *
 * It reads the record every retry period while it does not stand and every lease duration otherwise, and watches the
 * ConfigMap and the old leader's pod to react within milliseconds. A release leaves the ConfigMap naming the pod: the
 * new candidates take the released Lease; the old pods take over once that pod stops being Ready.
 */
public final class ConfigMapMigration implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ConfigMapMigration.class);

    /** The Role rules a migration needs besides the Lease store's. */
    public static final String RBAC_RULES = ConfigMapLeaders.CONFIG_MAP_RULE + "; " + ConfigMapLeaders.POD_RULE;

    private static final long NOT_RELEASED = Long.MIN_VALUE;

    private final ConfigMapLeaders leaders;
    private final String pod;
    private final String identity;
    private final ElectionRuntime runtime;
    private final Duration retryPeriod;
    private final Duration leaseDuration;
    private final Duration releaseGrace;
    private final LongSupplier nanoTime;
    private final AtomicBoolean refreshQueued = new AtomicBoolean();

    private volatile Runnable standingChanged = () -> {};
    /** Why this candidate does not stand now; null when it does. */
    private volatile String blocker = "the ConfigMap leader record has not been read yet";
    /** The acquire time of the term whose start wrote the record naming this candidate; null if none does. */
    private volatile Instant claimedTerm;

    private volatile boolean ownPodFound;
    private volatile boolean closed;

    // Guarded by this.
    private String oldLeader;
    private long oldLeaderReleasedAt = NOT_RELEASED;
    private Watch configMapWatch;
    private Watch podWatch;
    private String watchedPod;
    private volatile String lastFailure;

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
                System::nanoTime);
    }

    ConfigMapMigration(
            ConfigMapLeaders leaders,
            String pod,
            String identity,
            ElectionRuntime runtime,
            Duration retryPeriod,
            Duration leaseDuration,
            LongSupplier nanoTime) {
        this.leaders = leaders;
        this.pod = requireText(pod, "pod");
        this.identity = requireText(identity, "identity");
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.retryPeriod = retryPeriod;
        this.leaseDuration = leaseDuration;
        this.releaseGrace = retryPeriod;
        this.nanoTime = nanoTime;
    }

    /** {@code candidacy}, not standing while the old record names a live old leader. */
    public Candidacy candidacy(Candidacy candidacy) {
        return new Candidacy() {
            @Override
            public boolean standing() {
                return blocker == null && candidacy.standing();
            }

            @Override
            public Duration patience() {
                return candidacy.patience();
            }

            @Override
            public String successor(String leaseName) {
                return candidacy.successor(leaseName);
            }
        };
    }

    /** {@code store}, whose writes that start or hold a term of this candidate also claim the old record first. */
    public LeaseStore store(LeaseStore store) {
        return new ClaimingStore(store);
    }

    /** Why this candidate does not stand now, or empty when it does. */
    public Optional<String> blocker() {
        return Optional.ofNullable(blocker);
    }

    /** Starts reading and watching the record; {@code onStandingChanged} runs (quickly) whenever standing flips. */
    public void start(Runnable onStandingChanged) {
        this.standingChanged = Objects.requireNonNull(onStandingChanged, "onStandingChanged");
        readAgainIn(Duration.ZERO);
    }

    @Override
    public void close() {
        closed = true;
        synchronized (this) {
            closeQuietly(configMapWatch);
            closeQuietly(podWatch);
            configMapWatch = null;
            podWatch = null;
        }
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
            Entry entry = leaders.read();
            judged(entry, judge(entry));
            lastFailure = null;
            watch();
        } catch (LeaseStoreException e) {
            // The last judgement stands: one that does not stand goes on not standing; a leader goes on under the
            // Lease's rules, and the next term's start reads the record again.
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
                readAgainIn(blocker != null ? retryPeriod : leaseDuration);
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

    /**
     * Why this candidate may not take leadership while the record is {@code entry}; null if it may. Reads pods.
     */
    private String judge(Entry entry) {
        if (!ownPodFound) {
            if (leaders.pod(pod) == PodState.ABSENT) {
                return "this candidate's pod " + pod + " does not exist, so the old pods would not follow a record"
                        + " naming it. Set the environment variable POD_NAME from the downward API (fieldRef"
                        + " metadata.name)";
            }
            ownPodFound = true;
        }
        String named = entry.leaderPod();
        if (named == null) {
            String released = releasedOldLeader();
            if (released != null && leaders.pod(released) == PodState.RUNNING) {
                return "the old leader " + released + " removed its name from "
                        + leaders.record().describe() + "; waiting until its pod has ended, at most "
                        + releaseGrace.toMillis() + " ms";
            }
            forgetOldLeader();
            return null;
        }
        if (named.equals(pod) || entry.writtenByUs()) {
            forgetOldLeader(); // ours: the Lease decides who leads
            return null;
        }
        if (leaders.pod(named) == PodState.RUNNING) {
            sawOldLeader(named);
            return leaders.record().describe() + " names " + named
                    + ", a spring-cloud-kubernetes leader whose pod exists";
        }
        forgetOldLeader();
        return null; // its pod is gone: its process has ended
    }

    /** The old leader that removed its name less than the grace ago; null if none. */
    private synchronized String releasedOldLeader() {
        if (oldLeader == null) {
            return null;
        }
        long now = nanoTime.getAsLong();
        if (oldLeaderReleasedAt == NOT_RELEASED) {
            oldLeaderReleasedAt = now;
        }
        return now - oldLeaderReleasedAt < releaseGrace.toNanos() ? oldLeader : null;
    }

    private synchronized void sawOldLeader(String name) {
        oldLeader = name;
        oldLeaderReleasedAt = NOT_RELEASED;
    }

    private synchronized void forgetOldLeader() {
        oldLeader = null;
        oldLeaderReleasedAt = NOT_RELEASED;
    }

    /** Takes {@code why} as the judgement of {@code entry}; tells the elector when standing flipped. */
    private void judged(Entry entry, String why) {
        if (!entry.names(pod, identity)) {
            claimedTerm = null;
        }
        String before = blocker;
        blocker = why;
        if ((before == null) != (why == null)) {
            if (why == null) {
                log.info("Taking part in the election again: the ConfigMap leader record names no live old leader"
                        + " (leader.migration.config-map)");
            } else {
                log.info("Not taking leadership while {} (leader.migration.config-map)", why);
            }
            standingChanged.run();
        }
    }

    /** Starts the watches that are not running: the ConfigMap's, and the pod's of the old leader in the way. */
    private void watch() {
        String target;
        synchronized (this) {
            target = oldLeader;
        }
        Watch started = null;
        boolean needsConfigMapWatch;
        synchronized (this) {
            needsConfigMapWatch = configMapWatch == null && !closed;
        }
        if (needsConfigMapWatch) {
            started = startQuietly(() -> leaders.watchConfigMap(this::refreshSoon, this::configMapWatchClosed));
            synchronized (this) {
                if (configMapWatch == null && !closed) {
                    configMapWatch = started;
                    started = null;
                }
            }
            closeQuietly(started);
        }
        if (!Objects.equals(target, watchedPod)) {
            Watch next = target == null
                    ? null
                    : startQuietly(() -> leaders.watchPod(target, this::refreshSoon, this::podWatchClosed));
            Watch previous;
            synchronized (this) {
                previous = podWatch;
                podWatch = closed ? null : next;
                watchedPod = next == null ? null : target;
            }
            closeQuietly(previous);
            if (closed) {
                closeQuietly(next);
            }
        }
    }

    private synchronized void configMapWatchClosed() {
        configMapWatch = null; // started again by the next read
        refreshSoon();
    }

    private synchronized void podWatchClosed() {
        podWatch = null;
        watchedPod = null;
        refreshSoon();
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

    // --- the writes that start a term

    /**
     * Runs {@code write}, which writes a record naming this candidate, only if the old record lets it lead, and claims
     * the old record before answering: the answer that starts the term comes only once both landed.
     */
    private VersionedLease guarded(LeaseRecord record, Supplier<VersionedLease> write) {
        if (record.acquireTime().equals(claimedTerm)) {
            // A renew of the term that holds the record: it lands whatever the record says now; a record that an old
            // pod took since makes this candidate stop standing, and so hand over.
            VersionedLease written = write.get();
            recheck();
            return written;
        }
        Entry entry = leaders.read();
        String why = judge(entry);
        judged(entry, why);
        if (why != null) {
            throw new LeaseConflictException("Not taking the Lease: " + why);
        }
        VersionedLease written = write.get();
        claim(entry, record.acquireTime());
        return written;
    }

    /** Reads the record again for a renew; a failure leaves the judgement as it was (the watch and reads go on). */
    private void recheck() {
        try {
            Entry entry = leaders.read();
            judged(entry, judge(entry));
        } catch (LeaseStoreException e) {
            log.debug("Reading the ConfigMap leader record for a renew failed", e);
        }
    }

    private void claim(Entry entry, Instant term) {
        if (entry.names(pod, identity)) {
            claimedTerm = term;
            return;
        }
        if (!entry.exists() && !leaders.record().createIfAbsent()) {
            // The old pods cannot lead without it either (spring.cloud.kubernetes.leader.create-config-map=false).
            claimedTerm = term;
            return;
        }
        Entry claimed;
        try {
            claimed = leaders.claim(entry, pod, identity);
        } catch (LeaseConflictException first) {
            Entry again = leaders.read();
            String why = judge(again);
            judged(again, why);
            if (why != null) {
                // The Lease write landed but starts nothing: it expires as any unrenewed Lease does.
                throw new LeaseConflictException("Not taking the Lease: " + why, first);
            }
            claimed = leaders.claim(again, pod, identity); // a second conflict is a lost race as well
        }
        judged(claimed, null);
        claimedTerm = term;
    }

    /** The Lease store, whose writes naming this candidate go through {@link #guarded}. */
    private final class ClaimingStore extends ForwardingLeaseStore {

        ClaimingStore(LeaseStore store) {
            super(store);
        }

        @Override
        public VersionedLease create(String name, LeaseRecord record) {
            return record.isHeldBy(identity)
                    ? guarded(record, () -> super.create(name, record))
                    : super.create(name, record);
        }

        @Override
        public VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
            return record.isHeldBy(identity)
                    ? guarded(record, () -> super.update(name, record, expectedVersion))
                    : super.update(name, record, expectedVersion);
        }

        @Override
        public VersionedLease createIfNeverExisted(String name, LeaseRecord record) {
            return record.isHeldBy(identity)
                    ? guarded(record, () -> super.createIfNeverExisted(name, record))
                    : super.createIfNeverExisted(name, record);
        }
    }

    private static String requireText(String value, String what) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(what + " must not be empty");
        }
        return value;
    }
}
