package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.VersionedLease;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.io.EOFException;
import java.io.InterruptedIOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

/**
 * A {@link LeaseStore} on {@code coordination.k8s.io/v1} Lease objects in one namespace.
 *
 * <p>Each get, create and update is exactly one HTTP request, bounded by the request timeout. An update is a
 * PUT carrying the expected {@code resourceVersion}, which the API server refuses with 409 if the Lease changed
 * since; that, not any lock, is what lets only one candidate win. To get there the store talks through its own
 * client, derived from the configuration of the one it is given, with the request timeout set and fabric8's
 * automatic retries (on 5xx and I/O errors) switched off; each watch gets another such client. The store owns
 * and {@linkplain #close() closes} these; the given client stays the caller's.
 *
 * <p>A write replaces the whole object. So that labels, annotations, owner references and spec fields this
 * store does not know survive, it remembers the last Lease it read, wrote or was told of by a watch, and writes
 * on top of it when that is the version being replaced. Leases are handled as untyped objects so that a field in
 * an unexpected form, such as a time without microseconds, reads as {@code null} instead of failing the read.
 *
 * <p>The Role this store needs in its namespace: {@value #RBAC_RULE}.
 */
public class KubernetesLeaseStore implements LeaseStore, AutoCloseable {

    /** The rule to grant in a Role of the store's namespace. */
    public static final String RBAC_RULE =
            "apiGroups: [\"coordination.k8s.io\"], resources: [\"leases\"], verbs: [\"get\", \"create\", \"update\","
                    + " \"watch\"]";

    private static final String API_VERSION = "coordination.k8s.io/v1";
    private static final String KIND = "Lease";
    private static final ResourceDefinitionContext LEASES = new ResourceDefinitionContext.Builder()
            .withGroup("coordination.k8s.io")
            .withVersion("v1")
            .withKind(KIND)
            .withPlural("leases")
            .withNamespaced(true)
            .build();

    private static final String SPEC = "spec";
    private static final String HOLDER_IDENTITY = "holderIdentity";
    private static final String LEASE_DURATION_SECONDS = "leaseDurationSeconds";
    private static final String ACQUIRE_TIME = "acquireTime";
    private static final String RENEW_TIME = "renewTime";
    private static final String LEASE_TRANSITIONS = "leaseTransitions";

    // metav1.MicroTime as the API server writes it.
    private static final DateTimeFormatter MICRO_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    private final Config config;
    private final KubernetesClient client;
    private final Set<KubernetesClient> watchClients = ConcurrentHashMap.newKeySet();
    private final String namespace;
    private final Duration requestTimeout;
    private final Map<String, GenericKubernetesResource> lastSeen = new ConcurrentHashMap<>();

    /**
     * A store on the Leases of {@code namespace}.
     *
     * @param client the client whose configuration (server, credentials, TLS) the store's own client copies;
     *     it is neither used for requests nor closed by the store
     * @param requestTimeout the bound on each get, create and update
     */
    public KubernetesLeaseStore(KubernetesClient client, String namespace, Duration requestTimeout) {
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
        this.requestTimeout = requestTimeout;
        this.config = deriveConfig(client.getConfiguration(), (int) Math.max(1, requestTimeout.toMillis()));
        this.client = newClient();
    }

    /*
     * fabric8 sets a request's timeout from the operation's RequestConfig, but takes the retry policy from the
     * HTTP client, built from the client's Config (by default 10 retries with back-off on 5xx and I/O errors).
     * A retried call would be several requests and could outlast the timeout many times over, so the store
     * needs a client of its own: same Config, no retries, the request timeout on every request and on connecting.
     * No watch reconnects either, so a broken watch reaches LeaseWatcher.onClose and the elector polls.
     */
    private static Config deriveConfig(Config config, int requestTimeoutMillis) {
        Integer connectionTimeout = config.getConnectionTimeout();
        return new ConfigBuilder(config)
                .withRequestTimeout(requestTimeoutMillis)
                .withConnectionTimeout(
                        connectionTimeout == null || connectionTimeout <= 0
                                ? requestTimeoutMillis
                                : Math.min(connectionTimeout, requestTimeoutMillis))
                .withRequestRetryBackoffLimit(0)
                .withWatchReconnectLimit(0)
                .build();
    }

    private KubernetesClient newClient() {
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    @Override
    public Optional<VersionedLease> get(String name) {
        GenericKubernetesResource lease;
        try {
            lease = leases().withName(name).get(); // null on 404
        } catch (RuntimeException e) {
            throw translate("get", name, e);
        }
        if (lease == null) {
            lastSeen.remove(name);
            return Optional.empty();
        }
        return Optional.of(remember(name, lease));
    }

    @Override
    public VersionedLease create(String name, LeaseRecord record) {
        Objects.requireNonNull(record, "record");
        GenericKubernetesResource lease = newLease(
                new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
        lease.setAdditionalProperty(SPEC, writeSpec(new LinkedHashMap<>(), record));
        GenericKubernetesResource created;
        try {
            created = leases().resource(lease).create(); // POST
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) {
                throw new LeaseConflictException(describe(name) + " already exists", e);
            }
            throw translate("create", name, e);
        } catch (RuntimeException e) {
            throw translate("create", name, e);
        }
        return remember(name, created);
    }

    @Override
    public VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
        Objects.requireNonNull(record, "record");
        // Never null: given no resourceVersion, fabric8 would GET the current one and overwrite whatever is there.
        Objects.requireNonNull(expectedVersion, "expectedVersion");
        GenericKubernetesResource lease = leaseToReplace(name, expectedVersion);
        writeSpec(spec(lease), record);
        GenericKubernetesResource updated;
        try {
            // One PUT with metadata.resourceVersion = expectedVersion. Resource.update() sends the version it is
            // given and does not retry a 409 (unlike the deprecated replace(), which re-reads and tries again).
            updated = leases().resource(lease).update();
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) {
                throw new LeaseConflictException(describe(name) + " changed since version " + expectedVersion, e);
            }
            if (e.getCode() == 404) {
                throw new LeaseConflictException(describe(name) + " no longer exists", e);
            }
            throw translate("update", name, e);
        } catch (RuntimeException e) {
            throw translate("update", name, e);
        }
        return remember(name, updated);
    }

    /**
     * Watches the Lease. Events arrive on a fabric8 thread. A watch that cannot start within the request timeout,
     * or is refused (the Role lacks {@code watch}, say), is reported at once through {@link LeaseWatcher#onClose};
     * so is a watch that breaks later: this store does not reconnect, the elector does.
     */
    @Override
    public Optional<LeaseWatch> watch(String name, LeaseWatcher watcher) {
        Objects.requireNonNull(watcher, "watcher");
        /*
         * fabric8 waits without limit for a watch's WebSocket handshake (seen against a server that accepts the
         * connection and never answers), and only closing the client ends that wait. So each watch has a client
         * of its own, closed if the watch has not started within the request timeout.
         */
        KubernetesClient watchClient;
        try {
            watchClient = newClient();
        } catch (RuntimeException e) {
            watcher.onClose(translate("watch", name, e));
            return Optional.of(() -> {});
        }
        watchClients.add(watchClient);
        AtomicReference<WatchStart> start = new AtomicReference<>(WatchStart.PENDING);
        CompletableFuture.delayedExecutor(requestTimeout.toNanos(), TimeUnit.NANOSECONDS)
                .execute(() -> {
                    if (start.compareAndSet(WatchStart.PENDING, WatchStart.ABANDONED)) {
                        closeWatchClient(watchClient);
                    }
                });
        Watch watch = null;
        RuntimeException failure = null;
        try {
            watch = leases(watchClient).withName(name).watch(new Forwarder(name, watcher, watchClient));
        } catch (RuntimeException e) {
            failure = e;
        }
        boolean abandoned =
                !start.compareAndSet(WatchStart.PENDING, failure == null ? WatchStart.STARTED : WatchStart.FAILED);
        if (!abandoned && failure == null) {
            Watch started = watch;
            return Optional.of(() -> {
                started.close();
                closeWatchClient(watchClient);
            });
        }
        closeWatchClient(watchClient);
        watcher.onClose(
                abandoned
                        ? new LeaseStoreException(
                                Kind.TIMEOUT,
                                describe(name) + ": watch did not start within " + requestTimeout.toMillis() + " ms",
                                failure)
                        : translate("watch", name, failure));
        return Optional.of(() -> {});
    }

    private enum WatchStart {
        PENDING,
        STARTED,
        FAILED,
        ABANDONED
    }

    private void closeWatchClient(KubernetesClient watchClient) {
        if (watchClients.remove(watchClient)) {
            watchClient.close();
        }
    }

    @Override
    public String describe(String name) {
        return "Kubernetes Lease " + namespace + "/" + name;
    }

    /** Closes the store's own clients and with them every watch; the client given to the constructor stays open. */
    @Override
    public void close() {
        watchClients.forEach(this::closeWatchClient);
        client.close();
    }

    private NonNamespaceOperation<
                    GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>>
            leases() {
        return leases(client);
    }

    private NonNamespaceOperation<
                    GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>>
            leases(KubernetesClient client) {
        return client.genericKubernetesResources(LEASES).inNamespace(namespace);
    }

    // --- Lease <-> LeaseRecord

    private VersionedLease remember(String name, GenericKubernetesResource lease) {
        VersionedLease versioned = toVersionedLease(name, lease);
        lastSeen.put(name, lease);
        return versioned;
    }

    private VersionedLease toVersionedLease(String name, GenericKubernetesResource lease) {
        String version =
                lease.getMetadata() == null ? null : lease.getMetadata().getResourceVersion();
        if (version == null) {
            throw new LeaseStoreException(Kind.OTHER, describe(name) + " came without metadata.resourceVersion");
        }
        Map<String, Object> spec = spec(lease);
        Long durationSeconds = wholeNumber(spec.get(LEASE_DURATION_SECONDS));
        return new VersionedLease(
                new LeaseRecord(
                        spec.get(HOLDER_IDENTITY) instanceof String holder ? holder : null,
                        durationSeconds == null ? null : Duration.ofSeconds(durationSeconds),
                        microTime(spec.get(ACQUIRE_TIME)),
                        microTime(spec.get(RENEW_TIME)),
                        wholeNumber(spec.get(LEASE_TRANSITIONS))),
                version);
    }

    // The object to PUT: the last one seen if it is the version being replaced, else just name and version.
    private GenericKubernetesResource leaseToReplace(String name, String expectedVersion) {
        GenericKubernetesResource last = lastSeen.get(name);
        if (last == null
                || last.getMetadata() == null
                || !expectedVersion.equals(last.getMetadata().getResourceVersion())) {
            return newLease(new ObjectMetaBuilder()
                    .withName(name)
                    .withNamespace(namespace)
                    .withResourceVersion(expectedVersion)
                    .build());
        }
        // Copies: the remembered object may be in use by another thread's update.
        GenericKubernetesResource lease = newLease(new ObjectMetaBuilder(last.getMetadata()).build());
        last.getAdditionalProperties().forEach(lease::setAdditionalProperty);
        lease.setAdditionalProperty(SPEC, new LinkedHashMap<>(spec(last)));
        return lease;
    }

    private static GenericKubernetesResource newLease(ObjectMeta metadata) {
        GenericKubernetesResource lease = new GenericKubernetesResource();
        lease.setApiVersion(API_VERSION);
        lease.setKind(KIND);
        lease.setMetadata(metadata);
        lease.setAdditionalProperty(SPEC, new LinkedHashMap<String, Object>());
        return lease;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> spec(GenericKubernetesResource lease) {
        return lease.getAdditionalProperties().get(SPEC) instanceof Map<?, ?> spec
                ? (Map<String, Object>) spec
                : Map.of();
    }

    private static Map<String, Object> writeSpec(Map<String, Object> spec, LeaseRecord record) {
        put(spec, HOLDER_IDENTITY, record.holderIdentity());
        put(spec, LEASE_DURATION_SECONDS, record.leaseDuration() == null ? null : seconds(record.leaseDuration()));
        put(spec, ACQUIRE_TIME, record.acquireTime() == null ? null : MICRO_TIME.format(record.acquireTime()));
        put(spec, RENEW_TIME, record.renewTime() == null ? null : MICRO_TIME.format(record.renewTime()));
        put(spec, LEASE_TRANSITIONS, record.leaseTransitions() == null ? null : clamp(record.leaseTransitions()));
        return spec;
    }

    private static void put(Map<String, Object> spec, String key, Object value) {
        if (value == null) {
            spec.remove(key);
        } else {
            spec.put(key, value);
        }
    }

    // The Lease holds whole seconds: round up, as a lease that lasts a little longer is the safe side.
    private static int seconds(Duration duration) {
        return clamp(duration.getSeconds() + (duration.getNano() > 0 ? 1 : 0));
    }

    private static int clamp(long value) {
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, value));
    }

    private static Long wholeNumber(Object value) {
        if (value instanceof Number number) {
            return number.longValue();
        }
        if (value instanceof String text) {
            try {
                return Long.valueOf(text.strip());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    // Lenient: any ISO-8601 date-time with an offset, with or without fractions; anything else reads as null.
    private static Instant microTime(Object value) {
        if (value instanceof String text) {
            try {
                return OffsetDateTime.parse(text.strip()).toInstant();
            } catch (DateTimeParseException e) {
                return null;
            }
        }
        return null;
    }

    // --- errors

    private LeaseStoreException translate(String verb, String name, Throwable failure) {
        if (failure instanceof LeaseStoreException translated) {
            return translated;
        }
        int code = failure instanceof KubernetesClientException e ? e.getCode() : -1;
        String what = describe(name) + ": " + verb;
        if (code == 401 || code == 403) {
            return new LeaseStoreException(
                    Kind.FORBIDDEN,
                    what + " was refused (HTTP " + code + " " + serverMessage(failure)
                            + "): the API server denied verb \""
                            + verb + "\"" + (code == 401 ? " because the credentials were not accepted" : "")
                            + ". Role rule needed in namespace " + namespace + ": " + RBAC_RULE,
                    failure);
        }
        if (code >= 500 || code == 429) {
            return new LeaseStoreException(
                    Kind.SERVER_ERROR, what + " failed with HTTP " + code + " " + serverMessage(failure), failure);
        }
        if (code > 0) {
            return new LeaseStoreException(
                    Kind.OTHER, what + " failed with HTTP " + code + " " + serverMessage(failure), failure);
        }
        if (hasCause(failure, KubernetesLeaseStore::isTimeout)) {
            return new LeaseStoreException(
                    Kind.TIMEOUT, what + " did not complete within " + requestTimeout.toMillis() + " ms", failure);
        }
        if (hasCause(failure, KubernetesLeaseStore::isUnreachable)) {
            return new LeaseStoreException(
                    Kind.UNAVAILABLE,
                    what + " failed: cannot reach the API server at " + client.getMasterUrl() + " ("
                            + rootCause(failure) + ")",
                    failure);
        }
        if (hasCause(failure, t -> t instanceof InterruptedIOException || t instanceof InterruptedException)) {
            return new LeaseStoreException(Kind.OTHER, what + " was interrupted", failure);
        }
        return new LeaseStoreException(Kind.OTHER, what + " failed: " + rootCause(failure), failure);
    }

    private static boolean isTimeout(Throwable t) {
        // By name as well, for HTTP clients' own exceptions such as Vert.x's NoStackTraceTimeoutException.
        return t instanceof TimeoutException
                || t instanceof SocketTimeoutException
                || t.getClass().getSimpleName().contains("Timeout");
    }

    private static boolean isUnreachable(Throwable t) {
        // SocketException covers refused connections, no route to host and resets.
        return t instanceof SocketException
                || t instanceof UnknownHostException
                || t instanceof ClosedChannelException
                || t instanceof EOFException
                || t.getClass().getSimpleName().equals("HttpClosedException");
    }

    private static boolean hasCause(Throwable failure, Predicate<Throwable> test) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (test.test(t)) {
                return true;
            }
        }
        return false;
    }

    private static String rootCause(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }

    private static String serverMessage(Throwable failure) {
        if (failure instanceof KubernetesClientException e
                && e.getStatus() != null
                && e.getStatus().getMessage() != null) {
            return e.getStatus().getMessage();
        }
        return failure.getMessage() == null ? "" : failure.getMessage();
    }

    /** Forwards fabric8 watch events on one Lease to a {@link LeaseWatcher}. */
    private final class Forwarder implements Watcher<GenericKubernetesResource> {
        private final String name;
        private final LeaseWatcher watcher;
        private final KubernetesClient watchClient;

        Forwarder(String name, LeaseWatcher watcher, KubernetesClient watchClient) {
            this.name = name;
            this.watcher = watcher;
            this.watchClient = watchClient;
        }

        @Override
        public void eventReceived(Action action, GenericKubernetesResource lease) {
            switch (action) {
                case ADDED, MODIFIED -> watcher.onChange(Optional.of(remember(name, lease)));
                case DELETED -> {
                    lastSeen.remove(name);
                    watcher.onChange(Optional.empty());
                }
                default -> {
                    // BOOKMARK carries no lease; ERROR is followed by onClose.
                }
            }
        }

        @Override
        public void onClose(WatcherException cause) {
            watcher.onClose(translate("watch", name, cause.asClientException()));
            // Not on this thread, which belongs to the client being closed.
            CompletableFuture.runAsync(() -> closeWatchClient(watchClient));
        }
    }
}
