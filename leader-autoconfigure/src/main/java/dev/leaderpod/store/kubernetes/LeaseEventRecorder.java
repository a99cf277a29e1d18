package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipListenerOrder;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.RevocationReason;
import dev.leaderpod.store.kubernetes.BoundedHttp.Reply;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;

/**
 * Records every leadership transition as a Kubernetes Event on the election's Lease (docs/design.md, "Kubernetes
 * Events"), so that {@code kubectl describe lease <name>} and {@code kubectl get events} show the election's
 * history, as client-go's leader election does (reason {@value #REASON}).
 *
 * <p>Which events: the candidate that becomes leader records it, once per term ("pod-b became leader of billing
 * (fencing token 7) after pod-a released it"); a leader whose term ends while it keeps running records that it
 * stopped leading, and why. A leader that shuts down records nothing more: its release is the last request it sends,
 * and its successor's event says that it released the lease.
 *
 * <p>What kind: core/v1 {@code events} whose {@code involvedObject} is the Lease (with its uid, which
 * {@code kubectl describe} matches on, read with one GET of the Lease before each post; the store's Role grants
 * {@code get} on leases already). Core/v1 rather than events.k8s.io/v1: it is what client-go's recorder writes and
 * leader election records with, it has no required fields beyond the object, reason and message, and its Role rule
 * is in the core group ({@value #RBAC_RULE}).
 *
 * <p>Never in the election's way: a listener only queues the event, with the time of the transition, and returns;
 * one daemon thread of its own, started when there is something to post and ending 5 s after, posts them one at a
 * time through the application's client ({@link BoundedHttp}: no retry, each request bounded by the request
 * timeout). The queue holds {@value #QUEUE_CAPACITY} events; more are dropped while it is full (a hung API server), so
 * nothing piles up. A post refused with 403 is one WARN naming the Role rule, and no event is posted again until
 * the application restarts; other failures are a WARN the first time, then DEBUG until a post succeeds.
 */
public final class LeaseEventRecorder implements AutoCloseable {

    /** The reason of every event, as client-go's leader election records it. */
    public static final String REASON = "LeaderElection";

    /** The rule to grant in a Role of the Lease's namespace. */
    public static final String RBAC_RULE = "apiGroups: [\"\"], resources: [\"events\"], verbs: [\"create\"]";

    /** The reporting component (and source component) of the events. */
    public static final String COMPONENT = "leaderpod.dev/leader-election";

    /** Events waiting to be posted at most; more are dropped. */
    static final int QUEUE_CAPACITY = 16;

    private static final Logger log = LoggerFactory.getLogger(LeaseEventRecorder.class);
    private static final String JSON = "application/json";
    private static final int MAX_NAME = 253;
    private static final int MAX_REPORTING_INSTANCE = 128;

    private final String namespace;
    private final KubernetesSerialization serialization;
    private final KubernetesFailures failures;
    private final BoundedHttp http;
    private final LeaseApi leases;
    private final String eventsUrl;
    private final Clock clock;
    private final ThreadPoolExecutor poster;
    private final AtomicLong lastEventNanos = new AtomicLong();
    private final AtomicBoolean forbidden = new AtomicBoolean();
    private final AtomicBoolean warnedFailure = new AtomicBoolean();
    private final AtomicBoolean warnedDrop = new AtomicBoolean();

    /**
     * A recorder of events on the Leases of {@code namespace}, posted through {@code client}'s HTTP client (which it
     * does not close), each request bounded by {@code requestTimeout}.
     */
    public LeaseEventRecorder(KubernetesClient client, String namespace, Duration requestTimeout) {
        this(client, namespace, requestTimeout, Clock.systemUTC());
    }

    LeaseEventRecorder(KubernetesClient client, String namespace, Duration requestTimeout, Clock clock) {
        Objects.requireNonNull(client, "client");
        if (namespace == null || namespace.isBlank()) {
            throw new IllegalArgumentException("namespace must not be empty");
        }
        if (requestTimeout == null || requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("requestTimeout must be positive, was " + requestTimeout);
        }
        this.namespace = namespace;
        this.serialization = client.getKubernetesSerialization();
        String base = client.getMasterUrl().toString();
        this.failures = new KubernetesFailures(serialization, namespace, RBAC_RULE, base, requestTimeout);
        this.http = BoundedHttp.derivedFrom(client, requestTimeout, failures);
        this.leases = new LeaseApi(http, client.getMasterUrl(), namespace);
        this.eventsUrl = (base.endsWith("/") ? base : base + "/") + "api/v1/namespaces/"
                + URLEncoder.encode(namespace, StandardCharsets.UTF_8) + "/events";
        this.clock = clock;
        AtomicInteger threads = new AtomicInteger();
        this.poster = new ThreadPoolExecutor(
                0,
                1,
                5,
                TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(QUEUE_CAPACITY),
                runnable -> {
                    Thread thread = new Thread(
                            runnable,
                            "leader-k8s-events" + (threads.getAndIncrement() == 0 ? "" : "-" + threads.get()));
                    thread.setDaemon(true);
                    return thread;
                },
                (task, executor) -> dropped());
    }

    /**
     * The listener that records the transitions of the election on the Lease {@code leaseName}, in which this
     * candidate is {@code identity}: one per election.
     */
    public LeadershipListener listener(String leaseName, String identity) {
        return new ElectionHistory(leaseName, identity);
    }

    /** Whether a post was refused with 403, so that no event is posted any more. */
    public boolean isForbidden() {
        return forbidden.get();
    }

    /** Posts nothing more; an event being posted is abandoned. */
    @Override
    public void close() {
        poster.shutdownNow();
        http.close();
    }

    /** Queues an event; never blocks, never throws. */
    void record(String leaseName, String identity, String type, String message) {
        if (forbidden.get() || poster.isShutdown()) {
            return;
        }
        Instant at = clock.instant();
        // The event's name: unique among this recorder's events even when two transitions share a clock tick.
        long nanos = lastEventNanos.updateAndGet(last -> Math.max(last + 1, epochNanos(at)));
        String name = eventName(leaseName, nanos);
        try {
            poster.execute(() -> post(name, leaseName, identity, type, message, at));
        } catch (RejectedExecutionException e) {
            dropped(); // shut down meanwhile
        }
    }

    private void post(String name, String leaseName, String identity, String type, String message, Instant at) {
        if (forbidden.get()) {
            return;
        }
        String subject = "Kubernetes Event on Lease " + namespace + "/" + leaseName;
        try {
            Reply reply = http.send(
                    http.request(eventsUrl)
                            .post(
                                    JSON,
                                    serialization.asJson(
                                            event(name, leaseName, uidOf(leaseName), identity, type, message, at)))
                            .build(),
                    subject,
                    "create");
            if (reply.successful()) {
                warnedFailure.set(false);
                log.debug("Recorded event on Lease {}/{}: {}", namespace, leaseName, message);
            } else if (reply.code() == 403) {
                if (forbidden.compareAndSet(false, true)) {
                    log.warn(
                            "Not recording leadership transitions as Kubernetes Events any more: {}. Events are off"
                                    + " until the application restarts; grant the rule, or set"
                                    + " leader.kubernetes.events.enabled=false.",
                            failures.rejected(subject, "create", reply.code(), reply.body())
                                    .getMessage());
                }
            } else {
                failed(failures.rejected(subject, "create", reply.code(), reply.body()));
            }
        } catch (LeaseStoreException e) {
            failed(e);
        } catch (RuntimeException e) {
            failed(failures.failed(subject, "create", e));
        }
    }

    /** The uid of the Lease, which {@code kubectl describe lease} matches events on; null if it cannot be read. */
    private String uidOf(String leaseName) {
        try {
            Reply reply = leases.get(leaseName);
            if (reply.successful()) {
                Lease lease = serialization.unmarshal(reply.body(), Lease.class);
                return lease.getMetadata() == null ? null : lease.getMetadata().getUid();
            }
            log.debug("Could not read the uid of Lease {}/{}: HTTP {}", namespace, leaseName, reply.code());
        } catch (RuntimeException e) {
            log.debug("Could not read the uid of Lease {}/{}", namespace, leaseName, e);
        }
        return null;
    }

    private Event event(
            String name, String leaseName, String uid, String identity, String type, String message, Instant at) {
        String time = at.truncatedTo(ChronoUnit.SECONDS).toString();
        return new EventBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(namespace)
                .endMetadata()
                .withNewInvolvedObject()
                .withApiVersion("coordination.k8s.io/v1")
                .withKind("Lease")
                .withName(leaseName)
                .withNamespace(namespace)
                .withUid(uid)
                .endInvolvedObject()
                .withReason(REASON)
                .withMessage(message)
                .withType(type)
                .withNewSource()
                .withComponent(COMPONENT)
                .endSource()
                .withReportingComponent(COMPONENT)
                .withReportingInstance(
                        identity.length() > MAX_REPORTING_INSTANCE
                                ? identity.substring(0, MAX_REPORTING_INSTANCE)
                                : identity)
                .withFirstTimestamp(time)
                .withLastTimestamp(time)
                .withCount(1)
                .build();
    }

    /**
     * {@code <lease>.<nanoseconds since the epoch in hex>}, as client-go names events, kept within a Kubernetes object
     * name's length.
     */
    static String eventName(String leaseName, long epochNanos) {
        String suffix = "." + Long.toHexString(epochNanos);
        String prefix = leaseName.length() > MAX_NAME - suffix.length()
                ? leaseName.substring(0, MAX_NAME - suffix.length()).replaceAll("[-.]+$", "")
                : leaseName;
        return prefix + suffix;
    }

    static long epochNanos(Instant at) {
        return at.getEpochSecond() * 1_000_000_000L + at.getNano();
    }

    private void failed(LeaseStoreException e) {
        if (poster.isShutdown()) { // closed while posting: the application is stopping
            log.debug("Abandoned a Kubernetes Event of a leadership transition: {}", e.getMessage());
        } else if (warnedFailure.compareAndSet(false, true)) {
            log.warn("Could not record a leadership transition as a Kubernetes Event: {}", e.getMessage());
        } else {
            log.debug("Could not record a leadership transition as a Kubernetes Event: {}", e.getMessage());
        }
    }

    private void dropped() {
        if (warnedDrop.compareAndSet(false, true)) {
            log.warn(
                    "Dropped a Kubernetes Event of a leadership transition: {} events already wait to be posted (the"
                            + " API server answers slowly); later drops are logged at DEBUG",
                    QUEUE_CAPACITY);
        } else {
            log.debug("Dropped a Kubernetes Event of a leadership transition: the queue is full");
        }
    }

    /**
     * The transitions of one election as this candidate sees them, told as events: who leads now, its fencing token,
     * who led before and how that ended. Called on the election's event thread, one callback at a time.
     */
    private final class ElectionHistory implements LeadershipListener, Ordered {

        private final String leaseName;
        private final String identity;
        // The last holder seen other than this candidate, or this candidate after its own term ended.
        private String previous;
        // Whether the lease was seen free after that holder: it released it (or the lease was deleted).
        private boolean released;

        ElectionHistory(String leaseName, String identity) {
            this.leaseName = leaseName;
            this.identity = identity;
        }

        @Override
        public void onNewLeader(String holderIdentity, long leaseTransitions) {
            if (holderIdentity == null) {
                released = previous != null;
            } else if (!holderIdentity.equals(identity)) {
                previous = holderIdentity;
                released = false;
            }
        }

        @Override
        public void onStartedLeading(LeadershipTerm term) {
            String how;
            if (previous == null) {
                how = ", the first leader it has seen";
            } else if (previous.equals(identity)) {
                how = " again after its own previous term ended";
            } else if (released) {
                how = " after " + previous + " released it";
            } else {
                how = " after " + previous + " stopped renewing it";
            }
            record(
                    leaseName,
                    identity,
                    "Normal",
                    identity + " became leader of " + leaseName + " (fencing token " + term.fencingToken() + ")" + how);
        }

        @Override
        public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
            previous = identity;
            released = false;
            if (reason == RevocationReason.SHUTDOWN) {
                return; // the release follows; the successor's event tells it
            }
            record(
                    leaseName,
                    identity,
                    reason == RevocationReason.DEADLINE_PASSED || reason == RevocationReason.LOST
                            ? "Warning"
                            : "Normal",
                    identity + " stopped leading " + leaseName + " (fencing token " + term.fencingToken() + "): "
                            + why(reason));
        }

        private String why(RevocationReason reason) {
            return switch (reason) {
                case DEADLINE_PASSED -> "no renew succeeded within the renew deadline";
                case LOST -> "another candidate holds the lease";
                case RELEASED -> "the lease was released or deleted by someone else";
                case YIELDED -> "it yielded";
                case SHUTDOWN -> "it shut down";
            };
        }

        /** Right after the pod label: like it, a record of the transition on the Kubernetes side. */
        @Override
        public int getOrder() {
            return LeadershipListenerOrder.POD_LABEL + 1;
        }

        @Override
        public String toString() {
            return "Kubernetes Events of Lease " + namespace + "/" + leaseName;
        }
    }
}
