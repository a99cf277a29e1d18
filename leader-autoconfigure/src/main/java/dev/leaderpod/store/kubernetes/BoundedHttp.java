package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.LeaseStoreException;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.RequestConfig;
import io.fabric8.kubernetes.client.RequestConfigBuilder;
import io.fabric8.kubernetes.client.http.AsyncBody;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.fabric8.kubernetes.client.http.StandardHttpClientBuilder;
import io.fabric8.kubernetes.client.http.WebSocket;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Requests to the API server, each sent exactly once and abandoned at a hard bound, through the application's own
 * HTTP client.
 *
 * <p>Why derived from the application's client rather than built from its {@code Config}: a client built anew
 * starts an HTTP stack of its own (with Vert.x: event loops, a blocking pool and a blocked-thread checker, which run
 * until it is closed), some ten threads for the store and the pod labeler together. fabric8's derived client shares
 * the connection pool and event loops of the one it comes from, and has its own retry policy and interceptors; so it
 * gets no retries (a retried call would be several requests and could outlast the bound many times over) and keeps
 * the application's interceptors (credentials and their refresh, headers, impersonation) for what they add to a
 * request, never for sending it again ({@link NoSecondRequest}). {@code KubernetesThreadFootprintTest} counts the
 * threads.
 *
 * <p>Why a hard bound of our own: fabric8's request timeout covers only the wait for the response headers, so a body
 * that stalls, or a connection cut after the headers, would leave a call waiting for ever (docs/design.md, "Bounded
 * store calls"). Requests go through fabric8's asynchronous API, the caller waits at most the bound for the whole
 * response, and a response still incomplete then is cancelled, which resets its connection.
 *
 * <p>The derived client shares the application's: closing it would close the application's too, so {@link #close()}
 * only refuses further requests. Closing the application's client ends this one as well.
 */
final class BoundedHttp {

    private static final String JSON = "application/json";

    /** A complete response. */
    record Reply(int code, String body) {
        boolean successful() {
            return HttpResponse.isSuccessful(code);
        }
    }

    private final HttpClient http;
    private final Duration bound;
    private final KubernetesFailures failures;
    private volatile boolean closed;

    private BoundedHttp(HttpClient http, Duration bound, KubernetesFailures failures) {
        this.http = http;
        this.bound = bound;
        this.failures = failures;
    }

    /** Requests through {@code client}'s HTTP client, each bounded by {@code bound}, failures told by {@code failures}. */
    static BoundedHttp derivedFrom(KubernetesClient client, Duration bound, KubernetesFailures failures) {
        HttpClient application = client.getHttpClient();
        RequestConfig requestConfig =
                application instanceof Interceptor.RequestTags tags && tags.getTag(RequestConfig.class) != null
                        ? tags.getTag(RequestConfig.class)
                        : client.getConfiguration().getRequestConfig();
        HttpClient.DerivedClientBuilder derived = application.newBuilder();
        // fabric8 takes the retry policy (by default 10 retries on 5xx and I/O errors) from this tag.
        derived.tag(new RequestConfigBuilder(requestConfig)
                .withRequestRetryBackoffLimit(0)
                .withRequestTimeout((int) Math.min(Integer.MAX_VALUE, bound.toMillis()))
                .build());
        // Every HTTP client fabric8 ships builds on StandardHttpClientBuilder; another has no interceptors to see.
        if (derived instanceof StandardHttpClientBuilder<?, ?, ?> standard) {
            Map<String, Interceptor> interceptors = new LinkedHashMap<>(standard.getInterceptors());
            interceptors.forEach(
                    (name, interceptor) -> derived.addOrReplaceInterceptor(name, new NoSecondRequest(interceptor)));
        }
        return new BoundedHttp(derived.build(), bound, failures);
    }

    /** A request to {@code url} accepting JSON, which fabric8 and the HTTP client bound by the bound as well. */
    HttpRequest.Builder request(String url) {
        return http.newHttpRequestBuilder()
                .uri(url)
                .header("Accept", JSON)
                // fabric8 bounds the wait for the headers with it, and resets a connection that never answers.
                .timeout(bound.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Sends {@code request} once and waits for the complete response, at most the bound.
     *
     * @param subject what the request is about, for the message of a failure ("Kubernetes Lease team-a/jobs")
     * @param verb the Kubernetes verb the request needs, for the message of a failure
     * @throws LeaseStoreException no complete response within the bound (the request has been cancelled), or no
     *     response at all; never for a response, whatever its status
     */
    Reply send(HttpRequest request, String subject, String verb) {
        if (closed) {
            throw failures.failed(subject, verb, new IllegalStateException("closed"));
        }
        long deadline = System.nanoTime() + bound.toNanos();
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        CompletableFuture<HttpResponse<AsyncBody>> headers;
        try {
            headers = http.consumeBytes(request, (List<ByteBuffer> buffers, AsyncBody body) -> {
                synchronized (received) {
                    for (ByteBuffer buffer : buffers) {
                        byte[] bytes = new byte[buffer.remaining()];
                        buffer.get(bytes);
                        received.write(bytes, 0, bytes.length);
                    }
                }
                body.consume();
            });
        } catch (RuntimeException e) { // such as a closed client
            throw failures.failed(subject, verb, e);
        }
        CompletableFuture<Reply> reply = headers.thenCompose(response -> {
            AsyncBody body = response.body();
            body.consume();
            return body.done().thenApply(done -> {
                synchronized (received) {
                    return new Reply(response.code(), received.toString(StandardCharsets.UTF_8));
                }
            });
        });
        try {
            return reply.get(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            abandon(headers);
            throw failures.timedOut(subject, verb + " did not complete", e);
        } catch (InterruptedException e) {
            abandon(headers);
            Thread.currentThread().interrupt();
            throw failures.interrupted(subject, verb, e);
        } catch (ExecutionException e) {
            throw failures.failed(subject, verb, e.getCause());
        }
    }

    /*
     * Before the headers, cancelling the future makes fabric8 cancel the response if it comes later (a request that
     * never gets one is reset by fabric8's own header timeout); after them, cancelling the body resets the
     * connection, so neither a thread nor a connection stays with the abandoned request.
     */
    private static void abandon(CompletableFuture<HttpResponse<AsyncBody>> headers) {
        if (!headers.cancel(false)) {
            headers.thenAccept(response -> response.body().cancel());
        }
    }

    /**
     * Opens a WebSocket to {@code uri} and waits at most the bound for the handshake; {@code listener} gets its
     * messages on the HTTP client's threads. fabric8's own handshake timeout, twice the bound, only makes sure the
     * connection of an abandoned handshake is closed (were it as long, it would race the bound and a hung handshake
     * would sometimes be reported as a closed connection instead of a timeout).
     *
     * @throws LeaseStoreException the WebSocket did not open within the bound (the handshake has been cancelled, and
     *     fabric8 closes a WebSocket that opens late), or was refused
     */
    void openWebSocket(URI uri, WebSocket.Listener listener, String subject, String verb) {
        if (closed) {
            throw failures.failed(subject, verb, new IllegalStateException("closed"));
        }
        CompletableFuture<WebSocket> opening;
        try {
            opening = http.newWebSocketBuilder()
                    .uri(uri)
                    .connectTimeout(bound.toMillis() * 2, TimeUnit.MILLISECONDS)
                    .buildAsync(listener);
        } catch (RuntimeException e) {
            throw failures.failed(subject, verb, e);
        }
        try {
            opening.get(bound.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            opening.cancel(false);
            throw failures.timedOut(subject, verb + " did not start", e);
        } catch (InterruptedException e) {
            opening.cancel(false);
            Thread.currentThread().interrupt();
            throw failures.interrupted(subject, verb, e);
        } catch (ExecutionException e) {
            throw failures.failed(subject, verb, e.getCause());
        }
    }

    /** Refuses further requests; the HTTP client stays open, as it is the application's. */
    void close() {
        closed = true;
    }
}
