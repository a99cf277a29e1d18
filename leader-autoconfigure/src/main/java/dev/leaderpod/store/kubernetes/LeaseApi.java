package dev.leaderpod.store.kubernetes;

import io.fabric8.kubernetes.client.http.AsyncBody;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.http.WebSocket;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URL;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The HTTP requests of the store on one namespace's Leases, each sent once and abandoned at a hard bound.
 *
 * <p>fabric8's synchronous calls bound only the wait for the response headers: a body that stalls, or a connection
 * cut after the headers, leaves them waiting for ever. So requests go through fabric8's asynchronous API, the
 * caller's thread waits at most the bound for the whole response, and a response still incomplete then is cancelled,
 * which resets its connection (see docs/design.md, "Bounded store calls").
 */
final class LeaseApi {

    private static final String JSON = "application/json";

    /** A complete response. */
    record Reply(int code, String body) {}

    private final HttpClient http;
    private final String leasesUrl;
    private final Duration bound;

    LeaseApi(HttpClient http, URL masterUrl, String namespace, Duration bound) {
        this.http = http;
        String base = masterUrl.toString();
        this.leasesUrl = (base.endsWith("/") ? base : base + "/") + "apis/coordination.k8s.io/v1/namespaces/"
                + encode(namespace) + "/leases";
        this.bound = bound;
    }

    Reply get(String name) throws TimeoutException, ExecutionException, InterruptedException {
        return send(request(leasesUrl + "/" + encode(name)).build());
    }

    Reply post(String json) throws TimeoutException, ExecutionException, InterruptedException {
        return send(request(leasesUrl).post(JSON, json).build());
    }

    Reply put(String name, String json) throws TimeoutException, ExecutionException, InterruptedException {
        return send(request(leasesUrl + "/" + encode(name)).put(JSON, json).build());
    }

    /**
     * Starts a watch of the Lease {@code name} as a WebSocket on the store's own client, so a failing start costs no
     * client of its own. The caller bounds the handshake; fabric8's own timeout, twice as long, only makes sure the
     * connection of an abandoned handshake is closed (were it as long, it would race the caller's and a hung
     * handshake would sometimes be reported as a closed connection instead of a timeout).
     */
    CompletableFuture<WebSocket> watch(String name, WebSocket.Listener listener) {
        return http.newWebSocketBuilder()
                .uri(URI.create(leasesUrl + "?allowWatchBookmarks=true&fieldSelector=" + encode("metadata.name=" + name)
                        + "&watch=true"))
                .connectTimeout(bound.toMillis() * 2, TimeUnit.MILLISECONDS)
                .buildAsync(listener);
    }

    private HttpRequest.Builder request(String url) {
        return http.newHttpRequestBuilder()
                .uri(url)
                .header("Accept", JSON)
                // fabric8 bounds the wait for the headers with it, and resets a connection that never answers.
                .timeout(bound.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Sends {@code request} once (the store's client does not retry) and waits for the complete response, at most
     * the bound.
     *
     * @throws TimeoutException the response was not complete within the bound; the request has been cancelled
     * @throws ExecutionException the request failed; the cause says why
     * @throws InterruptedException the caller was interrupted; the request has been cancelled
     */
    Reply send(HttpRequest request) throws TimeoutException, ExecutionException, InterruptedException {
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
            throw new ExecutionException(e);
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
        } catch (TimeoutException | InterruptedException e) {
            abandon(headers);
            throw e;
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

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
