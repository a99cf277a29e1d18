package dev.leaderpod.benchmarks.support;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientBuilder.ExecutorSupplier;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.vertx.VertxHttpClientFactory;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import io.vertx.core.Vertx;
import java.net.URI;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fabric8 CRUD mock API server with a dispatcher that counts, by namespace, every request by verb (and by verb
 * and resource, presence Leases apart from election Leases) and every watch event the server delivers, and that can
 * answer chosen requests with an injected error instead.
 *
 * <p>Counting happens in the server, so it sees exactly what an API server would: retries, re-reads, watch
 * re-connections included. A client made with {@link #client(String, String, String, Vertx, String)} names its
 * candidate in a header ({@link #CANDIDATE_HEADER}), and the server also counts, per candidate, its requests and the
 * watch connections it holds open.
 */
public final class MockApiServer implements AutoCloseable {

    // Held, so the level sticks: the mock server logs every request at INFO through java.util.logging.
    private static final java.util.logging.Logger MOCK_SERVER_LOG = java.util.logging.Logger.getLogger("io.fabric8");

    static {
        MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    private static final Pattern NAMESPACE = Pattern.compile("/namespaces/([^/?]+)");

    /** Marks the requests of an observer ({@link #observerClient}), which the server does not count. */
    public static final String OBSERVER_HEADER = "X-Benchmark-Observer";

    /** The header naming the candidate a request comes from (clients made by {@link #client(String, String, String, Vertx, String)}). */
    public static final String CANDIDATE_HEADER = "X-Benchmark-Candidate";

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

    /**
     * A client straight to the server whose requests, and the events of its watches, are not counted: for a
     * benchmark to watch what candidates write without changing the figures.
     */
    public KubernetesClient observerClient(String namespace) {
        Config config = new ConfigBuilder(Config.empty())
                .withMasterUrl(url())
                .withNamespace(namespace)
                .withRequestRetryBackoffLimit(0)
                .build();
        config.setCustomHeaders(Map.of(OBSERVER_HEADER, "true"));
        return new KubernetesClientBuilder().withConfig(config).build();
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

    /**
     * As {@link #client(String, String)}, for one candidate among many: every request names {@code candidate} in
     * {@link #CANDIDATE_HEADER}, so that the server counts per candidate; the HTTP client runs on {@code vertx} (the
     * caller's, shared by many clients, so that a hundred simulated replicas do not start a hundred Vert.x instances)
     * or on its own if null; fabric8's task executor names its threads {@code <threadPrefix>-<n>} (fabric8's default:
     * a cached pool per client) so that they can be counted per candidate.
     */
    public static KubernetesClient client(
            String url, String namespace, String candidate, Vertx vertx, String threadPrefix) {
        Config config = new ConfigBuilder(Config.empty())
                .withMasterUrl(url)
                .withNamespace(namespace)
                .withRequestRetryBackoffLimit(0)
                .build();
        config.setCustomHeaders(Map.of(CANDIDATE_HEADER, candidate));
        KubernetesClientBuilder builder = new KubernetesClientBuilder().withConfig(config);
        if (vertx != null) {
            builder.withHttpClientFactory(new VertxHttpClientFactory(vertx));
        }
        if (threadPrefix != null) {
            builder.withTaskExecutorSupplier(new ExecutorSupplier() {
                @Override
                public Executor get() {
                    AtomicInteger count = new AtomicInteger();
                    return Executors.newCachedThreadPool(runnable -> {
                        Thread thread = new Thread(runnable, threadPrefix + "-" + count.incrementAndGet());
                        thread.setDaemon(true);
                        return thread;
                    });
                }

                @Override
                public void onClose(Executor executor) {
                    ((ExecutorService) executor).shutdownNow();
                }
            });
        }
        return builder.build();
    }

    /** What the server counted for {@code candidate} (see {@link #CANDIDATE_HEADER}) so far. */
    public CandidateCounts candidateCounts(String candidate) {
        CandidateCounts counts = dispatcher.byCandidate.get(candidate);
        return counts == null ? new CandidateCounts() : counts;
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
        private final Map<String, LongAdder> requestsByResource = new ConcurrentHashMap<>();
        private final Map<String, LongAdder> eventsByResource = new ConcurrentHashMap<>();
        private final LongAdder watchEvents = new LongAdder();
        private final Map<String, Long> frozen;
        private final Map<String, Long> frozenByResource;
        private final Map<String, Long> frozenEventsByResource;
        private final long frozenEvents;

        Counts() {
            this.frozen = null;
            this.frozenByResource = null;
            this.frozenEventsByResource = null;
            this.frozenEvents = 0;
        }

        private Counts(
                Map<String, Long> frozen,
                Map<String, Long> frozenByResource,
                Map<String, Long> frozenEventsByResource,
                long events) {
            this.frozen = frozen;
            this.frozenByResource = frozenByResource;
            this.frozenEventsByResource = frozenEventsByResource;
            this.frozenEvents = events;
        }

        Counts snapshot() {
            return new Counts(sums(requests), sums(requestsByResource), sums(eventsByResource), watchEvents.sum());
        }

        private static Map<String, Long> sums(Map<String, LongAdder> adders) {
            Map<String, Long> copy = new TreeMap<>();
            adders.forEach((key, count) -> copy.put(key, count.sum()));
            return copy;
        }

        /**
         * Requests per verb and resource, such as {@code PUT leases} or {@code WATCH leases (presence)}: a presence
         * Lease is one named {@code *-candidate-*} or a list or watch by the presence label.
         */
        public Map<String, Long> byVerbAndResource() {
            return frozenByResource;
        }

        /** Watch events delivered per resource ({@code leases}, {@code leases (presence)}, ...). */
        public Map<String, Long> watchEventsByResource() {
            return frozenEventsByResource;
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
            return new Counts(
                    diff(frozen, earlier.frozen),
                    diff(frozenByResource, earlier.frozenByResource),
                    diff(frozenEventsByResource, earlier.frozenEventsByResource),
                    frozenEvents - earlier.frozenEvents);
        }

        private static Map<String, Long> diff(Map<String, Long> later, Map<String, Long> earlier) {
            Map<String, Long> diff = new TreeMap<>(later);
            earlier.forEach((key, count) -> diff.merge(key, -count, Long::sum));
            return diff;
        }
    }

    /** What one candidate sent, and the watch connections it holds open, as the server counted them. */
    public static final class CandidateCounts {
        private final LongAdder requests = new LongAdder();
        private final LongAdder watchRequests = new LongAdder();
        private final AtomicInteger openWatches = new AtomicInteger();

        /** Requests so far, watches included. */
        public long requests() {
            return requests.sum();
        }

        /** Watches started so far (each is a connection of its own: an upgrade to a WebSocket). */
        public long watchRequests() {
            return watchRequests.sum();
        }

        /** Watch connections open now: opened and not closed or failed since, as the server's side saw them. */
        public int openWatches() {
            return openWatches.get();
        }
    }

    private static final class CountingDispatcher extends Dispatcher {
        private final KubernetesCrudDispatcher delegate;
        private final Map<String, Counts> counts = new ConcurrentHashMap<>();
        private final Map<String, CandidateCounts> byCandidate = new ConcurrentHashMap<>();
        private volatile Function<RecordedRequest, Optional<MockResponse>> fault;

        CountingDispatcher(KubernetesCrudDispatcher delegate) {
            this.delegate = delegate;
        }

        @Override
        public MockResponse dispatch(RecordedRequest request) {
            if (request.getHeader(OBSERVER_HEADER) != null) {
                return delegate.dispatch(request);
            }
            String path = request.getPath();
            Counts namespaceCounts = counts.computeIfAbsent(namespaceOf(path), n -> new Counts());
            String verb = verb(request);
            String resource = resource(request);
            namespaceCounts.requests.computeIfAbsent(verb, v -> new LongAdder()).increment();
            namespaceCounts
                    .requestsByResource
                    .computeIfAbsent(verb + " " + resource, v -> new LongAdder())
                    .increment();
            String candidate = request.getHeader(CANDIDATE_HEADER);
            CandidateCounts candidateCounts =
                    candidate == null ? null : byCandidate.computeIfAbsent(candidate, c -> new CandidateCounts());
            if (candidateCounts != null) {
                candidateCounts.requests.increment();
                if ("WATCH".equals(verb)) {
                    candidateCounts.watchRequests.increment();
                }
            }
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
                response.withWebSocketUpgrade(new CountingListener(
                        listener,
                        namespaceCounts.watchEvents,
                        namespaceCounts.eventsByResource.computeIfAbsent(resource, r -> new LongAdder()),
                        candidateCounts == null ? null : candidateCounts.openWatches));
            }
            return response;
        }

        /**
         * The resource of a request, with presence Leases told apart: {@code leases (presence)}, by their name, the
         * label selector of a list or watch, or (a create) the label in the body.
         */
        static String resource(RecordedRequest request) {
            String p = request.getPath() == null ? "" : request.getPath();
            String resourcePath = p.contains("?") ? p.substring(0, p.indexOf('?')) : p;
            String[] parts = resourcePath.split("/");
            int namespaces = java.util.Arrays.asList(parts).indexOf("namespaces");
            String resource = namespaces >= 0 && parts.length > namespaces + 2 ? parts[namespaces + 2] : "other";
            boolean presence = p.contains("presence-of")
                    || (parts.length > namespaces + 3 && parts[namespaces + 3].contains("-candidate-"))
                    || ("POST".equals(request.getMethod())
                            && request.getBody() != null
                            && new String(request.getBody().getBytes(), java.nio.charset.StandardCharsets.UTF_8)
                                    .contains("presence-of"));
            return presence ? resource + " (presence)" : resource;
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

    /**
     * Counts the events a watch delivers by wrapping the socket the CRUD dispatcher sends them on, and keeps its
     * candidate's count of open watches.
     */
    private static final class CountingListener extends WebSocketListener {
        private final WebSocketListener delegate;
        private final LongAdder events;
        private final LongAdder resourceEvents;
        private final AtomicInteger openWatches;
        private final java.util.concurrent.atomic.AtomicBoolean open = new java.util.concurrent.atomic.AtomicBoolean();

        CountingListener(
                WebSocketListener delegate, LongAdder events, LongAdder resourceEvents, AtomicInteger openWatches) {
            this.delegate = delegate;
            this.events = events;
            this.resourceEvents = resourceEvents;
            this.openWatches = openWatches;
        }

        private void closed() {
            if (openWatches != null && open.compareAndSet(true, false)) {
                openWatches.decrementAndGet();
            }
        }

        @Override
        public void onBeforeAccept(WebSocket webSocket, Response response) {
            delegate.onBeforeAccept(counting(webSocket), response);
        }

        @Override
        public void onOpen(WebSocket webSocket, Response response) {
            if (openWatches != null && open.compareAndSet(false, true)) {
                openWatches.incrementAndGet();
            }
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
            closed();
            delegate.onClosed(counting(webSocket), code, reason);
        }

        @Override
        public void onFailure(WebSocket webSocket, Throwable t, Response response) {
            closed();
            delegate.onFailure(counting(webSocket), t, response);
        }

        private WebSocket counting(WebSocket socket) {
            return socket instanceof CountingSocket ? socket : new CountingSocket(socket, events, resourceEvents);
        }
    }

    private record CountingSocket(WebSocket delegate, LongAdder events, LongAdder resourceEvents) implements WebSocket {
        @Override
        public RecordedRequest request() {
            return delegate.request();
        }

        @Override
        public boolean send(String text) {
            events.increment();
            resourceEvents.increment();
            return delegate.send(text);
        }

        @Override
        public boolean send(byte[] bytes) {
            events.increment();
            resourceEvents.increment();
            return delegate.send(bytes);
        }

        @Override
        public boolean close(int code, String reason) {
            return delegate.close(code, reason);
        }
    }
}
