package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.RevocationReason;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import java.net.URL;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 * failure is a WARN, never an exception: routing is a convenience, the lease stays the truth. A candidate that
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

    private final KubernetesClient client;
    private final String namespace;
    private final String podName;
    private final String identity;
    private final int timeoutMillis;
    // Changed on the event thread only; volatile for diagnostics from other threads.
    private volatile LabelState state = LabelState.UNKNOWN;

    /**
     * A labeler of pod {@code namespace/podName}.
     *
     * @param config the client configuration (server, credentials, TLS) to copy; the labeler talks through a
     *     client of its own, with {@code requestTimeout} and no retries, and closes it in {@link #close()}
     * @param identity this candidate's identity, to tell its own leadership from another's
     */
    public LeaderPodLabeler(Config config, String namespace, String podName, String identity, Duration requestTimeout) {
        Objects.requireNonNull(config, "config");
        this.namespace = requireText(namespace, "namespace");
        this.podName = requireText(podName, "podName");
        this.identity = requireText(identity, "identity");
        if (requestTimeout == null || requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("requestTimeout must be positive, was " + requestTimeout);
        }
        this.timeoutMillis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, requestTimeout.toMillis()));
        // As the lease store: a retried PATCH could hold the event thread, and so the release, for many timeouts.
        Config own = new ConfigBuilder(config)
                .withRequestTimeout(timeoutMillis)
                .withConnectionTimeout(timeoutMillis)
                .withRequestRetryBackoffLimit(0)
                .build();
        this.client = new KubernetesClientBuilder().withConfig(own).build();
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

    /** Runs late on grant (after the other listeners started leader-only work), before the Spring events. */
    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE - 100;
    }

    /** The pod this labeler labels, as {@code namespace/name}. */
    public String pod() {
        return namespace + "/" + podName;
    }

    @Override
    public void close() {
        client.close();
    }

    private void patch(boolean leader, String why) {
        String action = leader ? "set" : "remove";
        try {
            int code = send(leader);
            if (HttpResponse.isSuccessful(code)) {
                state = leader ? LabelState.PRESENT : LabelState.ABSENT;
                log.info("{} label {} on pod {}: {}", leader ? "Set" : "Removed", LABEL, pod(), why);
            } else {
                state = LabelState.UNKNOWN;
                log.warn("Could not {} label {} on pod {} ({}): {}", action, LABEL, pod(), why, explain(code));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            state = LabelState.UNKNOWN;
            log.warn("Interrupted while trying to {} label {} on pod {} ({})", action, LABEL, pod(), why);
        } catch (Exception e) {
            state = LabelState.UNKNOWN;
            log.warn("Could not {} label {} on pod {} ({}): {}", action, LABEL, pod(), why, rootCause(e));
        }
    }

    /**
     * One PATCH, nothing else: fabric8's typed patch reads the pod first, which would need verb "get" too. A JSON
     * merge patch (RFC 7386): a null value removes the label, and removing an absent label is no error.
     */
    private int send(boolean leader) throws Exception {
        String body = "{\"metadata\":{\"labels\":{\"" + LABEL + "\":" + (leader ? "\"true\"" : "null") + "}}}";
        URL url = new URL(
                new URL(client.getConfiguration().getMasterUrl()),
                "api/v1/namespaces/" + namespace + "/pods/" + podName);
        HttpClient http = client.getHttpClient();
        HttpRequest request = http.newHttpRequestBuilder()
                .url(url)
                .patch(MERGE_PATCH, body)
                .timeout(timeoutMillis, TimeUnit.MILLISECONDS)
                .build();
        return http.sendAsync(request, String.class)
                .get(timeoutMillis, TimeUnit.MILLISECONDS)
                .code();
    }

    private String explain(int code) {
        if (code == 401 || code == 403) {
            return "HTTP " + code + ", the API server denied verb \"patch\" on pods. Role rule needed in namespace "
                    + namespace + ": " + RBAC_RULE + ". Or set leader.kubernetes.label-pod=false.";
        }
        if (code == 404) {
            return "HTTP 404, no such pod. Give the container its pod name in POD_NAME from the downward API"
                    + " (fieldRef metadata.name) and its namespace in POD_NAMESPACE (fieldRef metadata.namespace).";
        }
        return "HTTP " + code;
    }

    private static String rootCause(Throwable failure) {
        Throwable cause = failure;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return cause instanceof TimeoutException
                ? "no answer within the request timeout"
                : cause.getClass().getSimpleName() + ": " + cause.getMessage();
    }

    private static String requireText(String value, String name) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(name + " must not be empty");
        }
        return value;
    }
}
