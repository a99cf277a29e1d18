package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipListenerOrder;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.RevocationReason;
import dev.leaderpod.store.kubernetes.BoundedHttp.Reply;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;

/**
 * Labels this candidate's own pod {@value #LABEL}{@code =true} while it leads and removes the label when it stops
 * leading, so that a Service selecting the label sends traffic to the leader only while every pod stays Ready.
 *
 * <p>Runs as a {@link LeadershipListener}, so on the elector's event thread: on shutdown and on yield the label
 * is removed before the lease is released. Each change is one JSON merge PATCH of the pod's labels (no read), bounded by
 * the request timeout and never retried, so a slow API delays the next leadership callback by at most that. A
 * failure is a WARN, never an exception: routing is a convenience, the lease stays the truth. Requests go through the
 * application's client, as the lease store's do ({@link BoundedHttp}), and failures are told as the store tells them
 * ({@link KubernetesFailures}). A candidate that
 * learns of another leader removes a label it may have left behind (a container restarted after a crash keeps
 * its pod, and with it the label).
 *
 * <p>The Role this needs in the pod's namespace: {@value #RBAC_RULE}.
 */
public final class LeaderPodLabeler implements LeadershipListener, Ordered, AutoCloseable {

    /** The label the leader's pod carries, with value {@code "true"}. */
    public static final String LABEL = "leaderpod.dev/leader";

    /** The rule to grant in a Role of the pod's namespace. */
    public static final String RBAC_RULE = "apiGroups: [\"\"], resources: [\"pods\"], verbs: [\"patch\"]";

    private static final String MERGE_PATCH = "application/merge-patch+json";

    private static final Logger log = LoggerFactory.getLogger(LeaderPodLabeler.class);

    private enum LabelState {
        UNKNOWN,
        PRESENT,
        ABSENT
    }

    private final String namespace;
    private final String podName;
    private final String identity;
    private final String podUrl;
    private final BoundedHttp http;
    private final KubernetesFailures failures;
    private final AutoCloseable ownClient;
    // Changed on the event thread only; volatile for diagnostics from other threads.
    private volatile LabelState state = LabelState.UNKNOWN;

    /**
     * A labeler of pod {@code namespace/podName} that talks through {@code client}'s HTTP client, each change one
     * request bounded by {@code requestTimeout} and never retried; it starts no thread of its own and does not close
     * {@code client}.
     *
     * @param identity this candidate's identity, to tell its own leadership from another's
     */
    public LeaderPodLabeler(
            KubernetesClient client, String namespace, String podName, String identity, Duration requestTimeout) {
        this(Objects.requireNonNull(client, "client"), false, namespace, podName, identity, requestTimeout);
    }

    /**
     * A labeler for an application without a Kubernetes client to share: it builds one from {@code config} and
     * closes it in {@link #close()}.
     */
    public LeaderPodLabeler(Config config, String namespace, String podName, String identity, Duration requestTimeout) {
        this(
                ownClient(config, namespace, podName, identity, requestTimeout),
                true,
                namespace,
                podName,
                identity,
                requestTimeout);
    }

    private LeaderPodLabeler(
            KubernetesClient client,
            boolean closeClient,
            String namespace,
            String podName,
            String identity,
            Duration requestTimeout) {
        this.namespace = requireText(namespace, "namespace");
        this.podName = requireText(podName, "podName");
        this.identity = requireText(identity, "identity");
        requireValid(requestTimeout);
        String base = client.getMasterUrl().toString();
        this.podUrl = (base.endsWith("/") ? base : base + "/") + "api/v1/namespaces/" + encode(namespace) + "/pods/"
                + encode(podName);
        this.failures =
                new KubernetesFailures(client.getKubernetesSerialization(), namespace, RBAC_RULE, base, requestTimeout);
        // As the lease store: a retried PATCH could hold the event thread, and so the release, for many timeouts.
        this.http = BoundedHttp.derivedFrom(client, requestTimeout, failures);
        this.ownClient = closeClient ? client : null;
    }

    // Checks the arguments first, so that a labeler that cannot be made leaves no client behind.
    private static KubernetesClient ownClient(
            Config config, String namespace, String podName, String identity, Duration requestTimeout) {
        Objects.requireNonNull(config, "config");
        requireText(namespace, "namespace");
        requireText(podName, "podName");
        requireText(identity, "identity");
        requireValid(requestTimeout);
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    private static void requireValid(Duration requestTimeout) {
        if (requestTimeout == null || requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("requestTimeout must be positive, was " + requestTimeout);
        }
        if (requestTimeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("requestTimeout must be under 24 days, was " + requestTimeout);
        }
    }

    @Override
    public void onStartedLeading(LeadershipTerm term) {
        patch(true, "term " + term.fencingToken() + " started");
    }

    @Override
    public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
        patch(false, "term " + term.fencingToken() + " ended (" + reason + ")");
    }

    @Override
    public void onNewLeader(String holderIdentity, long leaseTransitions) {
        if (!identity.equals(holderIdentity) && state != LabelState.ABSENT) {
            patch(false, holderIdentity == null ? "the lease is free" : holderIdentity + " leads");
        }
    }

    @Override
    public int getOrder() {
        return LeadershipListenerOrder.POD_LABEL;
    }

    /** The pod this labeler labels, as {@code namespace/name}. */
    public String pod() {
        return namespace + "/" + podName;
    }

    /** Refuses further changes, and closes the client this labeler built, if it built one. */
    @Override
    public void close() {
        http.close();
        if (ownClient != null) {
            try {
                ownClient.close();
            } catch (Exception e) {
                log.debug("Closing the labeler's own Kubernetes client failed", e);
            }
        }
    }

    private void patch(boolean leader, String why) {
        String action = leader ? "set" : "remove";
        // A JSON merge patch (RFC 7386): a null value removes the label, and removing an absent label is no error.
        // One PATCH, nothing else: fabric8's typed patch reads the pod first, which would need verb "get" too.
        String body = "{\"metadata\":{\"labels\":{\"" + LABEL + "\":" + (leader ? "\"true\"" : "null") + "}}}";
        String subject = "Pod " + pod();
        try {
            Reply reply =
                    http.send(http.request(podUrl).patch(MERGE_PATCH, body).build(), subject, "patch");
            if (reply.successful()) {
                state = leader ? LabelState.PRESENT : LabelState.ABSENT;
                log.info("{} label {} on pod {}: {}", leader ? "Set" : "Removed", LABEL, pod(), why);
                return;
            }
            state = LabelState.UNKNOWN;
            log.warn(
                    "Could not {} label {} on pod {} ({}): {}{}",
                    action,
                    LABEL,
                    pod(),
                    why,
                    failures.rejected(subject, "patch", reply.code(), reply.body())
                            .getMessage(),
                    advice(reply.code()));
        } catch (LeaseStoreException e) {
            state = LabelState.UNKNOWN;
            log.warn("Could not {} label {} on pod {} ({}): {}", action, LABEL, pod(), why, e.getMessage());
        }
    }

    private static String advice(int code) {
        if (code == 401 || code == 403) {
            return ". Or set leader.kubernetes.label-pod=false.";
        }
        if (code == 404) {
            return ". There is no such pod: give the container its pod name in POD_NAME from the downward API"
                    + " (fieldRef metadata.name) and its namespace in POD_NAMESPACE (fieldRef metadata.namespace).";
        }
        return "";
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String requireText(String value, String name) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(name + " must not be empty");
        }
        return value;
    }
}
