package dev.leaderpod.benchmarks.support;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.net.URI;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fabric8 CRUD mock API server with a dispatcher that counts, by namespace, every request by verb and every
 * watch event the server delivers, and that can answer chosen requests with an injected error instead.
 *
 * <p>Counting happens in the server, so it sees exactly what an API server would: retries, re-reads, watch
 * re-connections included.
 */
public final class MockApiServer implements AutoCloseable {

    // Held, so the level sticks: the mock server logs every request at INFO through java.util.logging.
    private static final java.util.logging.Logger MOCK_SERVER_LOG = java.util.logging.Logger.getLogger("io.fabric8");

    static {
        MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    private static final Pattern NAMESPACE = Pattern.compile("/namespaces/([^/?]+)");

    private final KubernetesMockServer server;
    private final CountingDispatcher dispatcher;

    public MockApiServer() {
        dispatcher = new CountingDispatcher(new KubernetesCrudDispatcher());
        server = new KubernetesMockServer(
                new Context(), new MockWebServer(), new java.util.HashMap<>(), dispatcher, false);
        server.init();
    }

    /** The server's base URL, such as {@code http://localhost:40123/}. */
    public String url() {
        return server.createClient().getConfiguration().getMasterUrl();
    }

    public int port() {
        return URI.create(url()).getPort();
    }

    /** A client straight to the server (no proxy), for set-up and inspection. */
    public KubernetesClient adminClient(String namespace) {
        return client(url(), namespace);
    }

    /** A client for {@code url} (a proxy in front of this server, typically) without fabric8's own retries. */
    public static KubernetesClient client(String url, String namespace) {
        Config config = new ConfigBuilder(Config.empty())
                .withMasterUrl(url)
                .withNamespace(namespace)
                .withRequestRetryBackoffLimit(0)
                .build();
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    /** Counts so far for {@code namespace}. */
    public Counts counts(String namespace) {
        return dispatcher.counts.computeIfAbsent(namespace, n -> new Counts()).snapshot();
    }

    /**
     * Answers requests for which {@code fault} returns a response with that response, without touching the store;
     * {@code null} clears it.
     */
    public void injectFaults(Function<RecordedRequest, Optional<MockResponse>> fault) {
        dispatcher.fault = fault;
    }

    @Override
    public void close() {
        server.destroy();
    }

    /** Requests by verb and watch events delivered, for one namespace. */
    public static final class Counts {
        private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
        private final LongAdder watchEvents = new LongAdder();
        private final Map<String, Long> frozen;
        private final long frozenEvents;

        Counts() {
            this.frozen = null;
            this.frozenEvents = 0;
        }

        private Counts(Map<String, Long> frozen, long events) {
            this.frozen = frozen;
            this.frozenEvents = events;
        }

        Counts snapshot() {
            Map<String, Long> copy = new TreeMap<>();
            requests.forEach((verb, count) -> copy.put(verb, count.sum()));
            return new Counts(copy, watchEvents.sum());
        }

        /** Requests per verb: GET, LIST, WATCH, POST, PUT, PATCH, DELETE. */
        public Map<String, Long> byVerb() {
            return frozen;
        }

        public long total() {
            return frozen.values().stream().mapToLong(Long::longValue).sum();
        }

        public long watchEvents() {
            return frozenEvents;
        }

        /** The counts between {@code earlier} and this. */
        public Counts minus(Counts earlier) {
            Map<String, Long> diff = new TreeMap<>(frozen);
            earlier.frozen.forEach((verb, count) -> diff.merge(verb, -count, Long::sum));
            return new Counts(diff, frozenEvents - earlier.frozenEvents);
        }
    }

    private static final class CountingDispatcher extends Dispatcher {
        private final KubernetesCrudDispatcher delegate;
        private final Map<String, Counts> counts = new ConcurrentHashMap<>();
        private volatile Function<RecordedRequest, Optional<MockResponse>> fault;

        CountingDispatcher(KubernetesCrudDispatcher delegate) {
            this.delegate = delegate;
        }

        @Override
        public MockResponse dispatch(RecordedRequest request) {
            String path = request.getPath();
            Counts namespaceCounts = counts.computeIfAbsent(namespaceOf(path), n -> new Counts());
            namespaceCounts
                    .requests
                    .computeIfAbsent(verb(request), v -> new LongAdder())
                    .increment();
            Function<RecordedRequest, Optional<MockResponse>> injected = fault;
            if (injected != null) {
                Optional<MockResponse> response = injected.apply(request);
                if (response.isPresent()) {
                    return response.get();
                }
            }
            MockResponse response = delegate.dispatch(request);
            WebSocketListener listener = response.getWebSocketListener();
            if (listener != null) {
                response.withWebSocketUpgrade(new CountingListener(listener, namespaceCounts.watchEvents));
            }
            return response;
        }

        @Override
        public void shutdown() {
            delegate.shutdown();
        }

        private static String namespaceOf(String path) {
            Matcher matcher = NAMESPACE.matcher(path == null ? "" : path);
            return matcher.find() ? matcher.group(1) : "";
        }

        private static String verb(RecordedRequest request) {
            String method = request.getMethod();
            String path = request.getPath() == null ? "" : request.getPath();
            if ("GET".equals(method)) {
                if (path.contains("watch=true") || path.contains("watch=1")) {
                    return "WATCH";
                }
                String resourcePath = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
                // .../namespaces/ns/leases is a list, .../namespaces/ns/leases/name a get
                String[] parts = resourcePath.split("/");
                int namespaces = java.util.Arrays.asList(parts).indexOf("namespaces");
                if (namespaces >= 0 && parts.length == namespaces + 3) {
                    return "LIST";
                }
                return "GET";
            }
            return method;
        }
    }

    /** Counts the events a watch delivers by wrapping the socket the CRUD dispatcher sends them on. */
    private static final class CountingListener extends WebSocketListener {
        private final WebSocketListener delegate;
        private final LongAdder events;

        CountingListener(WebSocketListener delegate, LongAdder events) {
            this.delegate = delegate;
            this.events = events;
        }

        @Override
        public void onBeforeAccept(WebSocket webSocket, Response response) {
            delegate.onBeforeAccept(counting(webSocket), response);
        }

        @Override
        public void onOpen(WebSocket webSocket, Response response) {
            delegate.onOpen(counting(webSocket), response);
        }

        @Override
        public void onMessage(WebSocket webSocket, String text) {
            delegate.onMessage(counting(webSocket), text);
        }

        @Override
        public void onMessage(WebSocket webSocket, io.fabric8.mockwebserver.http.ByteString bytes) {
            delegate.onMessage(counting(webSocket), bytes);
        }

        @Override
        public void onClosing(WebSocket webSocket, int code, String reason) {
            delegate.onClosing(counting(webSocket), code, reason);
        }

        @Override
        public void onClosed(WebSocket webSocket, int code, String reason) {
            delegate.onClosed(counting(webSocket), code, reason);
        }

        @Override
        public void onFailure(WebSocket webSocket, Throwable t, Response response) {
            delegate.onFailure(counting(webSocket), t, response);
        }

        private WebSocket counting(WebSocket socket) {
            return socket instanceof CountingSocket ? socket : new CountingSocket(socket, events);
        }
    }

    private record CountingSocket(WebSocket delegate, LongAdder events) implements WebSocket {
        @Override
        public RecordedRequest request() {
            return delegate.request();
        }

        @Override
        public boolean send(String text) {
            events.increment();
            return delegate.send(text);
        }

        @Override
        public boolean send(byte[] bytes) {
            events.increment();
            return delegate.send(bytes);
        }

        @Override
        public boolean close(int code, String reason) {
            return delegate.close(code, reason);
        }
    }
}
