package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.VersionedLease;
import dev.leaderpod.store.kubernetes.BoundedHttp.Reply;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link LeaseStore} on {@code coordination.k8s.io/v1} Lease objects in one namespace: it translates between
 * records and Leases, and between HTTP answers and the store's outcomes. Sending is left to {@link LeaseApi} and
 * {@link BoundedHttp}, telling failures to {@link KubernetesFailures}.
 *
 * <p>Each get, create and update is exactly one HTTP request, and ends within the request timeout whatever the API
 * server does (docs/design.md, "Bounded store calls"); so does the start of a watch. An update is a PUT carrying the
 * expected {@code resourceVersion}, which the API server refuses with 409 if the Lease changed since; that, not any
 * lock, is what lets only one candidate win. Requests go through the given client's own HTTP client, derived with
 * no retries: the store starts no thread and no connection pool of its own, and the client stays the caller's, to
 * close after the store.
 *
 * <p>A write replaces the whole object. So that labels, annotations, owner references and spec fields this store
 * does not know survive, it keeps the newest Lease it read, wrote or was told of by a watch, and writes on top of it
 * when that is the version being replaced ({@link NewestLeases}). The application, the full 64-bit fencing token and
 * a release's successor are kept in the annotations {@code leaderpod.dev/application},
 * {@code leaderpod.dev/fencing-token} and {@code leaderpod.dev/successor} ({@link LeaseObjects}).
 *
 * <p>Watches. A store given the application's election group (its default lease name: {@link
 * #KubernetesLeaseStore(KubernetesClient, String, String, Duration)}, as the auto-configuration makes it) labels every
 * Lease it writes {@code leaderpod.dev/election-of=<group>} and watches all the Leases it is asked to watch over one
 * WebSocket, selected by that label ({@link SharedLeaseWatch}): one watch connection per store, whatever the number of
 * elections. A Lease this store knows to lack the label (last written by a version before the label, or by another
 * tool) is watched on its own until it is labelled; its next write by this store labels it. A store made without a
 * group labels nothing and watches each Lease on a WebSocket of its own, as before the label.
 *
 * <p>The Role this store needs in its namespace: {@value #RBAC_RULE}. A watch by label selector, like a watch of one
 * Lease, is the {@code watch} verb on {@code leases}; unlike it, a Role that lists {@code resourceNames} does not allow
 * it.
 */
public class KubernetesLeaseStore implements LeaseStore, AutoCloseable {

    /** The rule to grant in a Role of the store's namespace. */
    public static final String RBAC_RULE =
            "apiGroups: [\"coordination.k8s.io\"], resources: [\"leases\"], verbs: [\"get\", \"create\", \"update\","
                    + " \"watch\"]";

    private final KubernetesSerialization serialization;
    private final KubernetesFailures failures;
    private final LeaseApi api;
    private final String namespace;
    private final NewestLeases newest = new NewestLeases();
    private final Set<LeaseWatchSession> watches = ConcurrentHashMap.newKeySet();
    /** The label value of the election group, or null: no label, a WebSocket per watched Lease. */
    private final String electionLabel;
    /** The one WebSocket of every watch, when there is a group. */
    private final SharedLeaseWatch shared;

    /**
     * A store on the Leases of {@code namespace}.
     *
     * @param client the client whose HTTP client the store's requests and watches go through; the store does not
     *     close it, and stops working when it is closed
     * @param requestTimeout the bound on each get, create and update, and on the start of a watch
     */
    public KubernetesLeaseStore(KubernetesClient client, String namespace, Duration requestTimeout) {
        this(client, namespace, null, requestTimeout, SharedLeaseWatch.START_SPACING);
    }

    /**
     * A store on the Leases of {@code namespace} for the elections of the application whose default lease is {@code
     * leaseName}: it labels the Leases it writes {@code leaderpod.dev/election-of=<leaseName>} and watches them all
     * over one WebSocket.
     *
     * @param client the client whose HTTP client the store's requests and watches go through; the store does not
     *     close it, and stops working when it is closed
     * @param leaseName the application's default lease name ({@code leader.lease-name}); its named elections' Leases
     *     are in its group too
     * @param requestTimeout the bound on each get, create and update, and on the start of a watch
     */
    public KubernetesLeaseStore(KubernetesClient client, String namespace, String leaseName, Duration requestTimeout) {
        this(client, namespace, requireGroup(leaseName), requestTimeout, SharedLeaseWatch.START_SPACING);
    }

    /** For tests: also how long a failed start of the shared watch keeps others from trying again. */
    KubernetesLeaseStore(
            KubernetesClient client,
            String namespace,
            String leaseName,
            Duration requestTimeout,
            Duration sharedWatchStartSpacing) {
        Objects.requireNonNull(client, "client");
        if (namespace == null || namespace.isBlank()) {
            throw new IllegalArgumentException("namespace must not be empty");
        }
        if (requestTimeout == null || requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("requestTimeout must be positive, was " + requestTimeout);
        }
        if (requestTimeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("requestTimeout must be under 24 days, was " + requestTimeout);
        }
        this.namespace = namespace;
        this.serialization = client.getKubernetesSerialization();
        this.failures = new KubernetesFailures(
                serialization, namespace, RBAC_RULE, client.getMasterUrl().toString(), requestTimeout);
        this.api = new LeaseApi(
                BoundedHttp.derivedFrom(client, requestTimeout, failures), client.getMasterUrl(), namespace);
        this.electionLabel = leaseName == null ? null : LeaseObjects.electionLabelValue(leaseName);
        this.shared = leaseName == null
                ? null
                : new SharedLeaseWatch(
                        this, api, serialization, failures, namespace, leaseName, sharedWatchStartSpacing);
    }

    private static String requireGroup(String leaseName) {
        if (leaseName == null || leaseName.isBlank()) {
            throw new IllegalArgumentException("leaseName must not be empty");
        }
        return leaseName;
    }

    @Override
    public Optional<VersionedLease> get(String name) {
        Reply reply = api.get(name);
        if (reply.code() == 404) {
            newest.absent(name);
            return Optional.empty();
        }
        if (reply.code() != 200) {
            throw rejected("get", name, reply);
        }
        return Optional.of(answered("get", name, reply));
    }

    @Override
    public VersionedLease create(String name, LeaseRecord record) {
        Objects.requireNonNull(record, "record");
        GenericKubernetesResource lease = labelled(LeaseObjects.write(
                LeaseObjects.newLease(new ObjectMetaBuilder()
                        .withName(name)
                        .withNamespace(namespace)
                        .build()),
                record));
        Reply reply = api.post(name, serialization.asJson(lease));
        if (reply.code() == 409) {
            throw new LeaseConflictException(describe(name) + " already exists", rejected("create", name, reply));
        }
        if (reply.code() != 200 && reply.code() != 201) {
            throw rejected("create", name, reply);
        }
        return answered("create", name, reply);
    }

    @Override
    public VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
        Objects.requireNonNull(record, "record");
        // Never null: a PUT without a resourceVersion overwrites whatever is there.
        Objects.requireNonNull(expectedVersion, "expectedVersion");
        String json = serialization.asJson(labelled(LeaseObjects.write(leaseToReplace(name, expectedVersion), record)));
        // One PUT with metadata.resourceVersion = expectedVersion, not retried: a 409 is the answer.
        Reply reply = api.put(name, json);
        if (reply.code() == 409) {
            throw new LeaseConflictException(
                    describe(name) + " changed since version " + expectedVersion, rejected("update", name, reply));
        }
        if (reply.code() == 404) {
            throw new LeaseConflictException(describe(name) + " no longer exists", rejected("update", name, reply));
        }
        if (reply.code() != 200 && reply.code() != 201) {
            throw rejected("update", name, reply);
        }
        return answered("update", name, reply);
    }

    /**
     * Watches the Lease. Events arrive on a thread of the client's. A watch that cannot start within the request
     * timeout, or is refused (the Role lacks {@code watch}, say), is reported through {@link LeaseWatcher#onClose}
     * before this method returns. A watch that breaks later is reported the same way: this store does not
     * reconnect, the elector does (docs/design.md, "Watch to be fast, poll to be right"). A failed start costs no
     * thread: an abandoned start is cancelled.
     *
     * <p>With an election group, the watch joins the store's one WebSocket ({@link SharedLeaseWatch}): the first
     * watch opens it, later ones join it at once (a failure to open it is then reported to them later, through
     * {@link LeaseWatcher#onClose}). A Lease known to lack the group's label is watched on a WebSocket of its own.
     */
    @Override
    public Optional<LeaseWatch> watch(String name, LeaseWatcher watcher) {
        Objects.requireNonNull(watcher, "watcher");
        if (shared != null) {
            GenericKubernetesResource known = newest.get(name);
            if (known == null || LeaseObjects.isLabelledElection(known, electionLabel)) {
                return Optional.of(shared.watch(name, watcher));
            }
            // Written last without the label: the shared watch does not see it until it is labelled.
        }
        LeaseWatchSession session = new LeaseWatchSession(this, name, watcher, serialization);
        watches.add(session);
        try {
            api.watch(name, session);
        } catch (LeaseStoreException e) {
            session.fail(e);
        }
        return Optional.of(session);
    }

    @Override
    public String describe(String name) {
        return api.describe(name);
    }

    /** Ends every watch and refuses further calls; the client given to the constructor stays open. */
    @Override
    public void close() {
        api.close();
        if (shared != null) {
            shared.close();
        }
        watches.forEach(LeaseWatchSession::close);
    }

    // --- answers

    // A read's or write's answer: kept as the newest Lease unless a newer one is known.
    private VersionedLease answered(String verb, String name, Reply reply) {
        GenericKubernetesResource lease;
        try {
            lease = serialization.unmarshal(reply.body(), GenericKubernetesResource.class);
        } catch (RuntimeException e) {
            throw new LeaseStoreException(
                    Kind.OTHER, describe(name) + ": " + verb + " got an unreadable answer (" + e.getMessage() + ")", e);
        }
        VersionedLease versioned = toVersionedLease(name, lease);
        newest.offer(name, lease, true);
        return versioned;
    }

    private LeaseStoreException rejected(String verb, String name, Reply reply) {
        return failures.rejected(describe(name), verb, reply.code(), reply.body());
    }

    // A write of a store with a group carries the group's label, whatever the Lease had.
    private GenericKubernetesResource labelled(GenericKubernetesResource lease) {
        return electionLabel == null ? lease : LeaseObjects.labelElection(lease, electionLabel);
    }

    // --- what the watch tells

    /** The newest object of the Lease this store knows, or null. */
    GenericKubernetesResource newest(String name) {
        return newest.get(name);
    }

    VersionedLease watchedChange(String name, GenericKubernetesResource lease) {
        VersionedLease versioned = toVersionedLease(name, lease);
        newest.offer(name, lease, false);
        return versioned;
    }

    void watchedDeletion(String name, GenericKubernetesResource lease) {
        newest.deleted(name, lease);
    }

    LeaseStoreException watchError(String name, Status status) {
        return failures.reported(describe(name), "watch", status);
    }

    LeaseStoreException watchFailure(String name, Throwable failure) {
        return failures.failed(describe(name), "watch", failure);
    }

    void forget(LeaseWatchSession session) {
        watches.remove(session);
    }

    private VersionedLease toVersionedLease(String name, GenericKubernetesResource lease) {
        String version =
                lease.getMetadata() == null ? null : lease.getMetadata().getResourceVersion();
        if (version == null) {
            throw new LeaseStoreException(Kind.OTHER, describe(name) + " came without metadata.resourceVersion");
        }
        return new VersionedLease(LeaseObjects.read(lease), version);
    }

    // The object to PUT: the newest one seen if it is the version being replaced, else just name and version.
    private GenericKubernetesResource leaseToReplace(String name, String expectedVersion) {
        GenericKubernetesResource last = newest.get(name);
        if (last == null
                || last.getMetadata() == null
                || !expectedVersion.equals(last.getMetadata().getResourceVersion())) {
            return LeaseObjects.newLease(new ObjectMetaBuilder()
                    .withName(name)
                    .withNamespace(namespace)
                    .withResourceVersion(expectedVersion)
                    .build());
        }
        return LeaseObjects.copy(last); // a copy: the kept object may be in use by another thread's update
    }
}
