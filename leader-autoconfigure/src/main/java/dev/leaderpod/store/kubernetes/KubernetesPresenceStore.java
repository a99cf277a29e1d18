package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.Presence;
import dev.leaderpod.core.PresenceStore;
import dev.leaderpod.store.kubernetes.BoundedHttp.Reply;
import io.fabric8.kubernetes.api.model.DeleteOptionsBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link PresenceStore} on {@code coordination.k8s.io/v1} Leases in one namespace: one Lease per candidate of the
 * group of one election lease, labelled with the group ({@link PresenceObjects} says how they are named and what they
 * hold). It never reads, writes or lists an election's Lease: it lists and watches by its label only, and writes and
 * deletes only the Leases it names after identities.
 *
 * <ul>
 *   <li>{@link #announce}: a PUT on top of the version this store wrote last, else a POST. A 404 (removed by a
 *       candidate that thought this one dead) makes it POST; a 409 on the PUT (edited by someone) or on the POST
 *       (made meanwhile, by this candidate in an earlier run, say) makes it read the Lease and PUT on top of that. At
 *       most four requests, one at steady state; the version given in the announcement is not used.
 *   <li>{@link #list}: one GET by label selector.
 *   <li>{@link #remove}: one DELETE with a {@code resourceVersion} precondition, as fabric8's
 *       {@code lockResourceVersion(version).delete()} sends it, so the API server deletes the announcement only at
 *       the version the remover saw: 409 is a {@link LeaseConflictException}, 404 nothing.
 *   <li>{@link #watch}: a watch by label selector, delivering written and deleted announcements.
 * </ul>
 *
 * <p>Requests go through the given client's HTTP client as {@link KubernetesLeaseStore}'s do ({@link BoundedHttp}:
 * derived with no retries, each bounded by the request timeout, no thread or connection pool of its own). Failures are
 * told by {@link KubernetesFailures}: a refusal names the verb and this rule, to grant in a Role of the store's
 * namespace: {@value #RBAC_RULE}.
 */
public class KubernetesPresenceStore implements PresenceStore, AutoCloseable {

    /** The rule presence needs in a Role of the store's namespace: the election's verbs and list, watch, delete. */
    public static final String RBAC_RULE =
            "apiGroups: [\"coordination.k8s.io\"], resources: [\"leases\"], verbs: [\"get\", \"create\", \"update\","
                    + " \"list\", \"watch\", \"delete\"]";

    private final KubernetesSerialization serialization;
    private final KubernetesFailures failures;
    private final LeaseApi api;
    private final String namespace;
    private final String leaseName;
    private final Clock clock;
    /** The version of each announcement this store wrote last, by identity. */
    private final Map<String, String> written = new ConcurrentHashMap<>();

    private final AtomicReference<Instant> lastRenewTime = new AtomicReference<>(Instant.EPOCH);
    private final Set<PresenceWatchSession> watches = ConcurrentHashMap.newKeySet();

    /**
     * The presence of the candidates of lease {@code leaseName}, in the Leases of {@code namespace}.
     *
     * @param client the client whose HTTP client the store's requests and watches go through; the store does not
     *     close it, and stops working when it is closed
     * @param requestTimeout the bound on each request, and on the start of a watch
     */
    public KubernetesPresenceStore(
            KubernetesClient client, String namespace, String leaseName, Duration requestTimeout) {
        this(client, namespace, leaseName, requestTimeout, Clock.systemUTC());
    }

    /** For tests: also the clock of the informational {@code renewTime}. */
    KubernetesPresenceStore(
            KubernetesClient client, String namespace, String leaseName, Duration requestTimeout, Clock clock) {
        Objects.requireNonNull(client, "client");
        if (namespace == null || namespace.isBlank()) {
            throw new IllegalArgumentException("namespace must not be empty");
        }
        if (leaseName == null || leaseName.isBlank()) {
            throw new IllegalArgumentException("leaseName must not be empty");
        }
        if (requestTimeout == null || requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("requestTimeout must be positive, was " + requestTimeout);
        }
        if (requestTimeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("requestTimeout must be under 24 days, was " + requestTimeout);
        }
        this.namespace = namespace;
        this.leaseName = leaseName;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.serialization = client.getKubernetesSerialization();
        this.failures = new KubernetesFailures(
                serialization, namespace, RBAC_RULE, client.getMasterUrl().toString(), requestTimeout);
        this.api = new LeaseApi(
                BoundedHttp.derivedFrom(client, requestTimeout, failures), client.getMasterUrl(), namespace);
    }

    @Override
    public Presence announce(Presence presence) {
        Objects.requireNonNull(presence, "presence").requireStorable();
        String identity = presence.identity();
        String name = PresenceObjects.objectName(leaseName, identity);
        String subject = describe(identity);
        String version = written.get(identity);
        if (version != null) {
            Reply reply = api.put(name, json(fresh(name, version), presence), subject);
            if (reply.successful()) {
                return answered(identity, "update", reply);
            }
            if (reply.code() == 409) {
                return rewrite(name, presence);
            }
            if (reply.code() != 404) {
                throw rejected(subject, "update", reply);
            }
        }
        Reply reply = api.create(json(fresh(name, null), presence), subject);
        if (reply.successful()) {
            return answered(identity, "create", reply);
        }
        if (reply.code() == 409) {
            return rewrite(name, presence);
        }
        throw rejected(subject, "create", reply);
    }

    // The announcement exists, at a version this store does not know: read it, and write on top of it.
    private Presence rewrite(String name, Presence presence) {
        String identity = presence.identity();
        String subject = describe(identity);
        Reply read = api.get(name, subject);
        if (read.code() == 404) {
            throw new LeaseConflictException(
                    subject + " was deleted while it was written; the next announcement" + " makes it again");
        }
        if (!read.successful()) {
            throw rejected(subject, "get", read);
        }
        GenericKubernetesResource current = lease(subject, "get", read);
        Reply reply = api.put(name, json(current, presence), subject);
        if (reply.successful()) {
            return answered(identity, "update", reply);
        }
        if (reply.code() == 409 || reply.code() == 404) {
            throw new LeaseConflictException(
                    subject + " changed again while it was written: is another process announcing " + identity + "?",
                    rejected(subject, "update", reply));
        }
        throw rejected(subject, "update", reply);
    }

    @Override
    public List<Presence> list() {
        Reply reply = api.list(PresenceObjects.selector(leaseName), describe());
        if (!reply.successful()) {
            throw rejected(describe(), "list", reply);
        }
        List<?> items;
        try {
            Object listed = serialization.unmarshal(reply.body(), Map.class).get("items");
            items = listed == null ? List.of() : (List<?>) listed;
        } catch (RuntimeException e) {
            throw unreadable(describe(), "list", e);
        }
        List<Presence> announcements = new ArrayList<>();
        for (Object item : items) {
            GenericKubernetesResource lease;
            try {
                lease = serialization.convertValue(item, GenericKubernetesResource.class);
            } catch (RuntimeException e) {
                continue; // not a Lease as this store writes them: not an announcement
            }
            if (isAnnouncement(lease)) {
                Presence presence = PresenceObjects.read(lease);
                if (presence.version() != null) {
                    announcements.add(presence);
                }
            }
        }
        return announcements;
    }

    @Override
    public void remove(String identity, String version) {
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(version, "version"); // without a precondition a DELETE removes any version
        String subject = describe(identity);
        String deleteOptions = serialization.asJson(new DeleteOptionsBuilder()
                .withNewPreconditions()
                .withResourceVersion(version)
                .endPreconditions()
                .build());
        Reply reply = api.delete(PresenceObjects.objectName(leaseName, identity), deleteOptions, subject);
        if (reply.successful() || reply.code() == 404) {
            written.remove(identity, version);
            return;
        }
        if (reply.code() == 409) {
            throw new LeaseConflictException(
                    subject + " changed since version " + version + ": its candidate is alive",
                    rejected(subject, "delete", reply));
        }
        throw rejected(subject, "delete", reply);
    }

    /**
     * Watches the group's announcements by their label. Events arrive on a thread of the client's. A watch that
     * cannot start within the request timeout, or is refused (the Role lacks {@code watch}), is reported through
     * {@link PresenceWatcher#onClose} before this method returns; so is a watch that breaks later: this store does not
     * reconnect. The API server first tells a new watch of every announcement there is, as written.
     */
    @Override
    public Optional<LeaseWatch> watch(PresenceWatcher watcher) {
        Objects.requireNonNull(watcher, "watcher");
        PresenceWatchSession session = new PresenceWatchSession(this, watcher, serialization);
        watches.add(session);
        try {
            api.watchSelected(PresenceObjects.selector(leaseName), session, describe());
        } catch (LeaseStoreException e) {
            session.fail(e);
        }
        return Optional.of(session);
    }

    @Override
    public String describe() {
        return "Kubernetes Leases " + namespace + "/" + PresenceObjects.namePrefix(leaseName) + "*";
    }

    /** Ends every watch and refuses further calls; the client given to the constructor stays open. */
    @Override
    public void close() {
        api.close();
        watches.forEach(PresenceWatchSession::close);
    }

    // --- objects and answers

    private String describe(String identity) {
        return api.describe(PresenceObjects.objectName(leaseName, identity)) + " (presence of " + identity + ")";
    }

    boolean isAnnouncement(GenericKubernetesResource lease) {
        return PresenceObjects.belongsTo(lease, leaseName) && PresenceObjects.identity(lease) != null;
    }

    // A new Lease object to write: name, namespace and, for a PUT, the version it replaces.
    private GenericKubernetesResource fresh(String name, String version) {
        return LeaseObjects.newLease(new ObjectMetaBuilder()
                .withName(name)
                .withNamespace(namespace)
                .withResourceVersion(version)
                .build());
    }

    private String json(GenericKubernetesResource lease, Presence presence) {
        return serialization.asJson(PresenceObjects.write(lease, leaseName, presence, nextRenewTime()));
    }

    // Strictly increasing, so that no write of this store leaves its Lease unchanged (see PresenceObjects).
    private Instant nextRenewTime() {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        return lastRenewTime.accumulateAndGet(
                now, (last, next) -> next.isAfter(last) ? next : last.plus(1, ChronoUnit.MICROS));
    }

    private Presence answered(String identity, String verb, Reply reply) {
        String subject = describe(identity);
        Presence stored = PresenceObjects.read(lease(subject, verb, reply));
        if (stored == null || stored.version() == null) {
            throw new LeaseStoreException(
                    Kind.OTHER, subject + ": " + verb + " was answered without the announcement or its version");
        }
        written.put(identity, stored.version());
        return stored;
    }

    private GenericKubernetesResource lease(String subject, String verb, Reply reply) {
        try {
            return serialization.unmarshal(reply.body(), GenericKubernetesResource.class);
        } catch (RuntimeException e) {
            throw unreadable(subject, verb, e);
        }
    }

    private static LeaseStoreException unreadable(String subject, String verb, RuntimeException e) {
        return new LeaseStoreException(
                Kind.OTHER, subject + ": " + verb + " got an unreadable answer (" + e.getMessage() + ")", e);
    }

    private LeaseStoreException rejected(String subject, String verb, Reply reply) {
        return failures.rejected(subject, verb, reply.code(), reply.body());
    }

    // --- what the watch tells

    LeaseStoreException watchError(Status status) {
        return failures.reported(describe(), "watch", status);
    }

    LeaseStoreException watchFailure(Throwable failure) {
        return failures.failed(describe(), "watch", failure);
    }

    void forget(PresenceWatchSession session) {
        watches.remove(session);
    }
}
