package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.WebSocketHandshakeException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.EOFException;
import java.io.InterruptedIOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * What went wrong with a request to the API server, as a {@link LeaseStoreException} whose {@link Kind} the elector
 * acts on and whose message names the resource, the verb and what to do. One classifier for every request this
 * package sends, so the Lease store and the pod labeler tell the same failure the same way.
 *
 * <p>A refusal (401, 403) names the Role rule to add, since a missing rule is by far its most common cause
 * (docs/design.md, "Least privilege"). 409 is a {@link LeaseConflictException}: another writer came first, the
 * compare-and-set that keeps two candidates from both winning. 429 and 5xx are the server's trouble, worth retrying
 * later; other statuses are not expected of a correct request. Without an answer: no complete answer within the
 * request timeout, a server that cannot be reached or a connection lost before the answer, or anything else.
 */
final class KubernetesFailures {

    private final KubernetesSerialization serialization;
    private final String namespace;
    private final String roleRule;
    private final String apiServer;
    private final Duration requestTimeout;

    /**
     * @param namespace where the Role must grant {@code roleRule}
     * @param roleRule the rule a refusal names, as a Role lists it
     * @param apiServer the API server's URL, named when it cannot be reached
     * @param requestTimeout the bound on each request, named when a request outlives it
     */
    KubernetesFailures(
            KubernetesSerialization serialization,
            String namespace,
            String roleRule,
            String apiServer,
            Duration requestTimeout) {
        this.serialization = serialization;
        this.namespace = namespace;
        this.roleRule = roleRule;
        this.apiServer = apiServer;
        this.requestTimeout = requestTimeout;
    }

    /**
     * The server answered {@code verb} on {@code subject} with {@code code}, not a success.
     *
     * @param body the answer's body, normally a Kubernetes {@code Status} whose message is quoted
     */
    LeaseStoreException rejected(String subject, String verb, int code, String body) {
        return status(subject, verb, code, serverMessage(body), null);
    }

    /** A watch of {@code subject} reported {@code status} as an {@code ERROR} event. */
    LeaseStoreException reported(String subject, String verb, Status status) {
        int code = status == null || status.getCode() == null ? 0 : status.getCode();
        String message = status == null || status.getMessage() == null ? "" : status.getMessage();
        if (code == 0) {
            return new LeaseStoreException(Kind.OTHER, subject + ": the " + verb + " reported an error: " + message);
        }
        return status(subject, verb, code, message, null);
    }

    /** {@code verb} on {@code subject} got no answer: {@code failure} says why. */
    LeaseStoreException failed(String subject, String verb, Throwable failure) {
        if (failure instanceof LeaseStoreException classified) {
            return classified;
        }
        String what = subject + ": " + verb;
        int code = httpCode(failure);
        if (code > 0) { // a refused WebSocket handshake, or fabric8's own exception, carries the answer's status
            return status(subject, verb, code, rootCause(failure), failure);
        }
        if (hasCause(failure, KubernetesFailures::isTimeout)) {
            return timedOut(subject, verb + " did not complete", failure);
        }
        if (hasCause(failure, KubernetesFailures::isUnreachable)) {
            return new LeaseStoreException(
                    Kind.UNAVAILABLE,
                    what + " failed: cannot reach the API server at " + apiServer + " (" + rootCause(failure) + ")",
                    failure);
        }
        if (hasCause(failure, t -> t instanceof InterruptedIOException || t instanceof InterruptedException)) {
            return interrupted(subject, verb, failure);
        }
        return new LeaseStoreException(Kind.OTHER, what + " failed: " + rootCause(failure), failure);
    }

    /** {@code happening} ("get did not complete", "watch did not start") on {@code subject} took the whole timeout. */
    LeaseStoreException timedOut(String subject, String happening, Throwable cause) {
        return new LeaseStoreException(
                Kind.TIMEOUT, subject + ": " + happening + " within " + requestTimeout.toMillis() + " ms", cause);
    }

    /** The thread waiting for {@code verb} on {@code subject} was interrupted. */
    LeaseStoreException interrupted(String subject, String verb, Throwable cause) {
        return new LeaseStoreException(Kind.OTHER, subject + ": " + verb + " was interrupted", cause);
    }

    private LeaseStoreException status(String subject, String verb, int code, String message, Throwable cause) {
        String what = subject + ": " + verb;
        String answer = "HTTP " + code + (message.isEmpty() ? "" : " " + message);
        if (code == 401 || code == 403) {
            return new LeaseStoreException(
                    Kind.FORBIDDEN,
                    what + " was refused (" + answer + "): the API server denied verb \"" + verb + "\""
                            + (code == 401 ? " because the credentials were not accepted" : "")
                            + ". Role rule needed in namespace " + namespace + ": " + roleRule,
                    cause);
        }
        if (code == 409) {
            return new LeaseConflictException(what + " conflicted with another write (" + answer + ")", cause);
        }
        if (code == 429 || code >= 500) {
            return new LeaseStoreException(Kind.SERVER_ERROR, what + " failed with " + answer, cause);
        }
        return new LeaseStoreException(Kind.OTHER, what + " failed with " + answer, cause);
    }

    // The Status's message if the body is one; else the body itself, shortened.
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
