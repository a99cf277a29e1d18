package dev.leaderpod.store.kubernetes;

import io.fabric8.kubernetes.client.http.AsyncBody;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.http.Interceptor;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One of the application's interceptors, for what it adds to a request only: fabric8 sends a request again when
 * an interceptor asks to after a failed answer (a refreshed token after a 401, say), and here one request is all
 * a call may send (docs/design.md, "Bounded store calls" and "One write per renew"). Credentials are still refreshed
 * by the interceptor on its own schedule before a request.
 */
record NoSecondRequest(Interceptor delegate) implements Interceptor {

    @Override
    public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
        delegate.before(builder, request, tags);
    }

    @Override
    public void after(HttpRequest request, HttpResponse<?> response, AsyncBody.Consumer<List<ByteBuffer>> consumer) {
        delegate.after(request, response, consumer);
    }

    @Override
    public AsyncBody.Consumer<List<ByteBuffer>> consumer(
            AsyncBody.Consumer<List<ByteBuffer>> consumer, HttpRequest request) {
        return delegate.consumer(consumer, request);
    }

    @Override
    public void afterConnectionFailure(HttpRequest request, Throwable failure) {
        delegate.afterConnectionFailure(request, failure);
    }

    @Override
    public CompletableFuture<Boolean> afterFailure(BasicBuilder builder, HttpResponse<?> response, RequestTags tags) {
        return CompletableFuture.completedFuture(false);
    }

    @Override
    public CompletableFuture<Boolean> afterFailure(
            HttpRequest.Builder builder, HttpResponse<?> response, RequestTags tags) {
        return CompletableFuture.completedFuture(false);
    }
}
