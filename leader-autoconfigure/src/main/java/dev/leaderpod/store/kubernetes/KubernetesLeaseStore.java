package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.VersionedLease;
import dev.leaderpod.store.kubernetes.LeaseApi.Reply;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.WebSocket;
import io.fabric8.kubernetes.client.http.WebSocketHandshakeException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.EOFException;
import java.io.InterruptedIOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * A {@link LeaseStore} on {@code coordination.k8s.io/v1} Lease objects in one namespace.
 *
 * <p>Each get, create and update is exactly one HTTP request, and ends within the request timeout whatever the API
 * server does: a response not complete by then, headers and body, is abandoned and its connection reset (see
 * docs/design.md, "Bounded store calls"). So is a watch that has not started by then. An update is a PUT carrying
 * the expected {@code resourceVersion}, which the API server refuses with 409 if the Lease changed since; that, not
 * any lock, is what lets only one candidate win. To get there the store talks through its own client, derived from
 * the configuration of the one it is given, with fabric8's automatic retries (on 5xx and I/O errors) switched off;
 * its watches share that client. The store owns and {@linkplain #close() closes} it; the given client stays the
 * caller's.
 *
 * <p>A write replaces the whole object. So that labels, annotations, owner references and spec fields this store
 * does not know survive, it keeps the newest Lease it read, wrote or was told of by a watch, and writes on top of it
 * when that is the version being replaced. The application and the full 64-bit fencing token are kept in the
 * annotations {@code leaderpod.dev/application} and {@code leaderpod.dev/fencing-token}.
 *
 * <p>The Role this store needs in its namespace: {@value #RBAC_RULE}.
 */
public class KubernetesLeaseStore implements LeaseStore, AutoCloseable {

    /** The rule to grant in a Role of the store's namespace. */
    public static final String RBAC_RULE =
            "apiGroups: [\"coordination.k8s.io\"], resources: [\"leases\"], verbs: [\"get\", \"create\", \"update\","
                    + " \"watch\"]";

    private final KubernetesClient client;
    private final KubernetesSerialization serialization;
    private final LeaseApi api;
    private final String namespace;
    private final Duration requestTimeout;
    private final NewestLeases newest = new NewestLeases();
    private final Set<LeaseWatchSession> watches = ConcurrentHashMap.newKeySet();

    /**
     * A store on the Leases of {@code namespace}.
     *
     * @param client the client whose configuration (server, credentials, TLS) the store's own client copies;
     *     it is neither used for requests nor closed by the store
     * @param requestTimeout the bound on each get, create and update, and on the start of a watch
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
        this.client = new KubernetesClientBuilder()
                .withConfig(deriveConfig(client.getConfiguration(), (int) Math.max(1, requestTimeout.toMillis())))
                .build();
        this.serialization = this.client.getKubernetesSerialization();
        this.api = new LeaseApi(this.client.getHttpClient(), this.client.getMasterUrl(), namespace, requestTimeout);
    }

    /*
     * fabric8 takes the retry policy from the HTTP client, built from the client's Config (by default 10 retries
     * with back-off on 5xx and I/O errors). A retried call would be several requests and could outlast the timeout
     * many times over, so the store needs a client of its own: same Config, no retries, the request timeout on
     * connecting.
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
                .build();
    }

    @Override
    public Optional<VersionedLease> get(String name) {
        Reply reply = call("get", name, () -> api.get(name));
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
        GenericKubernetesResource lease = LeaseObjects.write(
                LeaseObjects.newLease(new ObjectMetaBuilder()
                        .withName(name)
                        .withNamespace(namespace)
                        .build()),
                record);
        String json = serialization.asJson(lease);
        Reply reply = call("create", name, () -> api.post(json));
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
        String json = serialization.asJson(LeaseObjects.write(leaseToReplace(name, expectedVersion), record));
        // One PUT with metadata.resourceVersion = expectedVersion, not retried: a 409 is the answer.
        Reply reply = call("update", name, () -> api.put(name, json));
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
     * Watches the Lease. Events arrive on a thread of the store's client. A watch that cannot start within the
     * request timeout, or is refused (the Role lacks {@code watch}, say), is reported through
     * {@link LeaseWatcher#onClose} before this method returns. A watch that breaks later is reported the same way:
     * this store does not reconnect, the elector does. A failed start costs no thread and no client: watches share
     * the store's client, and an abandoned start is cancelled.
     */
    @Override
    public Optional<LeaseWatch> watch(String name, LeaseWatcher watcher) {
        Objects.requireNonNull(watcher, "watcher");
        LeaseWatchSession session = new LeaseWatchSession(this, name, watcher, serialization);
        watches.add(session);
        CompletableFuture<WebSocket> opening;
        try {
            opening = api.watch(name, session);
        } catch (RuntimeException e) {
            session.fail(translate("watch", name, e));
            return Optional.of(session);
        }
        try {
            opening.get(requestTimeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            opening.cancel(false); // fabric8 then closes a WebSocket that opens late
            session.fail(new LeaseStoreException(
                    Kind.TIMEOUT,
                    describe(name) + ": watch did not start within " + requestTimeout.toMillis() + " ms",
                    e));
        } catch (ExecutionException e) {
            session.fail(translate("watch", name, e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            opening.cancel(false);
            session.fail(new LeaseStoreException(Kind.OTHER, describe(name) + ": watch was interrupted", e));
        }
        return Optional.of(session);
    }

    @Override
    public String describe(String name) {
        return "Kubernetes Lease " + namespace + "/" + name;
    }

    /** Closes the store's own client and with it every watch; the client given to the constructor stays open. */
    @Override
    public void close() {
        watches.forEach(LeaseWatchSession::close);
        client.close();
    }

    // --- calls

    @FunctionalInterface
    private interface Call {
        Reply send() throws TimeoutException, ExecutionException, InterruptedException;
    }

    private Reply call(String verb, String name, Call call) {
        try {
            return call.send();
        } catch (TimeoutException e) {
            throw new LeaseStoreException(
                    Kind.TIMEOUT,
                    describe(name) + ": " + verb + " did not complete within " + requestTimeout.toMillis() + " ms",
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LeaseStoreException(Kind.OTHER, describe(name) + ": " + verb + " was interrupted", e);
        } catch (ExecutionException e) {
            throw translate(verb, name, e.getCause());
        } catch (RuntimeException e) {
            throw translate(verb, name, e);
        }
    }

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

    VersionedLease watchedChange(String name, GenericKubernetesResource lease) {
        VersionedLease versioned = toVersionedLease(name, lease);
        newest.offer(name, lease, false);
        return versioned;
    }

    void watchedDeletion(String name, GenericKubernetesResource lease) {
        newest.deleted(name, lease);
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

    // --- errors

    private LeaseStoreException rejected(String verb, String name, Reply reply) {
        return httpFailure(verb, name, reply.code(), serverMessage(reply.body()), null);
    }

    LeaseStoreException watchError(String name, Status status) {
        int code = status == null || status.getCode() == null ? 0 : status.getCode();
        String message = status == null || status.getMessage() == null ? "" : status.getMessage();
        if (code == 0) {
            return new LeaseStoreException(Kind.OTHER, describe(name) + ": the watch reported an error: " + message);
        }
        return httpFailure("watch", name, code, message, null);
    }

    private LeaseStoreException httpFailure(String verb, String name, int code, String serverMessage, Throwable cause) {
        String what = describe(name) + ": " + verb;
        if (code == 401 || code == 403) {
            return new LeaseStoreException(
                    Kind.FORBIDDEN,
                    what + " was refused (HTTP " + code + " " + serverMessage + "): the API server denied verb \""
                            + verb + "\"" + (code == 401 ? " because the credentials were not accepted" : "")
                            + ". Role rule needed in namespace " + namespace + ": " + RBAC_RULE,
                    cause);
        }
        if (code >= 500 || code == 429) {
            return new LeaseStoreException(
                    Kind.SERVER_ERROR, what + " failed with HTTP " + code + " " + serverMessage, cause);
        }
        return new LeaseStoreException(Kind.OTHER, what + " failed with HTTP " + code + " " + serverMessage, cause);
    }

    LeaseStoreException translate(String verb, String name, Throwable failure) {
        if (failure instanceof LeaseStoreException translated) {
            return translated;
        }
        String what = describe(name) + ": " + verb;
        int code = httpCode(failure);
        if (code > 0) {
            return httpFailure(verb, name, code, rootCause(failure), failure);
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

    // The HTTP status in a failure, if it carries one: a refused WebSocket handshake does.
    private static int httpCode(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof WebSocketHandshakeException handshake && handshake.getResponse() != null) {
                return handshake.getResponse().code();
            }
            if (t instanceof KubernetesClientException e && e.getCode() > 0) {
                return e.getCode();
            }
        }
        return -1;
    }

    private String serverMessage(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        try {
            Status status = serialization.unmarshal(body, Status.class);
            if (status != null && status.getMessage() != null) {
                return status.getMessage();
            }
        } catch (RuntimeException e) {
            // not a Status: quote the body
        }
        String text = body.strip();
        return text.length() > 200 ? text.substring(0, 200) + "..." : text;
    }

    private static boolean isTimeout(Throwable t) {
        // By name as well, for HTTP clients' own exceptions such as Vert.x's NoStackTraceTimeoutException.
        return t instanceof TimeoutException
                || t instanceof SocketTimeoutException
                || t.getClass().getSimpleName().contains("Timeout");
    }

    private static boolean isUnreachable(Throwable t) {
        // SocketException covers refused connections, no route to host and resets. By name: Vert.x's closed
        // connection, and Netty's handshake failure when the connection closes before any answer (fabric8's own
        // WebSocketHandshakeException, which carries the server's answer, is read for its status before this).
        return t instanceof SocketException
                || t instanceof UnknownHostException
                || t instanceof ClosedChannelException
                || t instanceof EOFException
                || t.getClass().getSimpleName().equals("HttpClosedException")
                || (t.getClass().getSimpleName().equals("WebSocketHandshakeException")
                        && !(t instanceof WebSocketHandshakeException));
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
}
