package dev.leaderpod.store.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.WebSocketHandshakeException;
import io.fabric8.kubernetes.client.http.WebSocketUpgradeResponse;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.impl.NoStackTraceTimeoutException;
import java.io.EOFException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The one classifier of failed requests, as a table: what the API server answered, or what went wrong without an
 * answer, gives the kind the elector acts on and a message naming the resource, the verb and, for a refusal, the Role
 * rule to add (docs/design.md, "Least privilege").
 */
class KubernetesFailuresTest {

    private static final String SUBJECT = "Kubernetes Lease team-a/jobs";
    private static final String API_SERVER = "https://10.96.0.1:443";
    private static final KubernetesFailures FAILURES = new KubernetesFailures(
            new KubernetesSerialization(),
            "team-a",
            KubernetesLeaseStore.RBAC_RULE,
            API_SERVER,
            Duration.ofMillis(2500));
    private static final String ROLE_RULE =
            "Role rule needed in namespace team-a: apiGroups: [\"coordination.k8s.io\"],"
                    + " resources: [\"leases\"], verbs: [\"get\", \"create\", \"update\", \"watch\"]";

    // --- answers

    static Stream<Arguments> answers() {
        return Stream.of(
                Arguments.of(
                        401,
                        "Unauthorized",
                        Kind.FORBIDDEN,
                        SUBJECT + ": update was refused (HTTP 401 Unauthorized): the API server denied verb \"update\""
                                + " because the credentials were not accepted. " + ROLE_RULE),
                Arguments.of(
                        403,
                        "leases.coordination.k8s.io \\\"jobs\\\" is forbidden",
                        Kind.FORBIDDEN,
                        SUBJECT + ": update was refused (HTTP 403 leases.coordination.k8s.io \"jobs\" is forbidden):"
                                + " the API server denied verb \"update\". " + ROLE_RULE),
                Arguments.of(
                        404,
                        "leases.coordination.k8s.io \\\"jobs\\\" not found",
                        Kind.OTHER,
                        SUBJECT + ": update failed with HTTP 404 leases.coordination.k8s.io \"jobs\" not found"),
                Arguments.of(
                        409,
                        "the object has been modified",
                        Kind.CONFLICT,
                        SUBJECT + ": update conflicted with another write (HTTP 409 the object has been modified)"),
                Arguments.of(
                        410,
                        "too old resource version: 1 (42)",
                        Kind.OTHER,
                        SUBJECT + ": update failed with HTTP 410 too old resource version: 1 (42)"),
                Arguments.of(
                        422,
                        "spec.leaseDurationSeconds: Invalid value",
                        Kind.OTHER,
                        SUBJECT + ": update failed with HTTP 422 spec.leaseDurationSeconds: Invalid value"),
                Arguments.of(
                        429,
                        "Too many requests",
                        Kind.SERVER_ERROR,
                        SUBJECT + ": update failed with HTTP 429 Too many requests"),
                Arguments.of(
                        500,
                        "etcdserver: request timed out",
                        Kind.SERVER_ERROR,
                        SUBJECT + ": update failed with HTTP 500 etcdserver: request timed out"),
                Arguments.of(
                        503,
                        "etcd is down",
                        Kind.SERVER_ERROR,
                        SUBJECT + ": update failed with HTTP 503 etcd is down"));
    }

    @ParameterizedTest(name = "HTTP {0}: {2}")
    @MethodSource("answers")
    void anAnswerIsClassifiedByItsStatusAndQuotesTheServersMessage(
            int code, String serverMessage, Kind kind, String message) {
        String body = """
                {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": %d, "message": "%s"}
                """.formatted(code, serverMessage);

        LeaseStoreException failure = FAILURES.rejected(SUBJECT, "update", code, body);

        assertThat(failure.kind()).isEqualTo(kind);
        assertThat(failure).hasMessage(message);
        if (kind == Kind.CONFLICT) {
            assertThat(failure).isInstanceOf(LeaseConflictException.class); // what the elector catches
        }
    }

    @Test
    void anAnswerThatIsNotAStatusIsQuotedShortened() {
        String page = "<html>" + "x".repeat(300) + "</html>";

        LeaseStoreException failure = FAILURES.rejected(SUBJECT, "get", 502, page);

        assertThat(failure.kind()).isEqualTo(Kind.SERVER_ERROR);
        assertThat(failure).hasMessage(SUBJECT + ": get failed with HTTP 502 " + page.substring(0, 200) + "...");
    }

    @Test
    void anEmptyAnswerIsNamedByItsStatusAlone() {
        assertThat(FAILURES.rejected(SUBJECT, "get", 500, "")).hasMessage(SUBJECT + ": get failed with HTTP 500");
    }

    @Test
    void theRuleNamedIsTheCallersSoThePodLabelerNamesItsOwn() {
        KubernetesFailures pods = new KubernetesFailures(
                new KubernetesSerialization(), "team-a", LeaderPodLabeler.RBAC_RULE, API_SERVER, Duration.ofSeconds(2));

        LeaseStoreException failure = pods.rejected("Pod team-a/web-0", "patch", 403, "");

        assertThat(failure.kind()).isEqualTo(Kind.FORBIDDEN);
        assertThat(failure)
                .hasMessage("Pod team-a/web-0: patch was refused (HTTP 403): the API server denied verb \"patch\"."
                        + " Role rule needed in namespace team-a: apiGroups: [\"\"], resources: [\"pods\"],"
                        + " verbs: [\"patch\"]");
    }

    // --- no answer

    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of("timeout", new TimeoutException(), Kind.TIMEOUT, "update did not complete within 2500 ms"),
                Arguments.of(
                        "Vert.x's timeout",
                        new CompletionException(new NoStackTraceTimeoutException("The timeout of 2500 ms fired")),
                        Kind.TIMEOUT,
                        "update did not complete within 2500 ms"),
                Arguments.of(
                        "read timeout",
                        new SocketTimeoutException("Read timed out"),
                        Kind.TIMEOUT,
                        "update did not complete within 2500 ms"),
                Arguments.of(
                        "connection refused",
                        new ExecutionException(new ConnectException("Connection refused")),
                        Kind.UNAVAILABLE,
                        "update failed: cannot reach the API server at " + API_SERVER
                                + " (ConnectException: Connection refused)"),
                Arguments.of(
                        "unknown host",
                        new CompletionException(new UnknownHostException("kubernetes.default.svc")),
                        Kind.UNAVAILABLE,
                        "update failed: cannot reach the API server at " + API_SERVER
                                + " (UnknownHostException: kubernetes.default.svc)"),
                Arguments.of(
                        "connection cut (Vert.x)",
                        new HttpClosedException("Connection was closed"),
                        Kind.UNAVAILABLE,
                        "cannot reach the API server at " + API_SERVER
                                + " (HttpClosedException: Connection was closed)"),
                Arguments.of(
                        "connection reset",
                        new SocketException("Connection reset"),
                        Kind.UNAVAILABLE,
                        "(SocketException: Connection reset)"),
                Arguments.of("end of stream", new EOFException(), Kind.UNAVAILABLE, "(EOFException)"),
                Arguments.of(
                        "closed channel", new ClosedChannelException(), Kind.UNAVAILABLE, "(ClosedChannelException)"),
                Arguments.of(
                        "connection closed during a WebSocket handshake (Netty)",
                        new io.netty.handler.codec.http.websocketx.WebSocketHandshakeException(
                                "Connection closed while handshake in process"),
                        Kind.UNAVAILABLE,
                        "cannot reach the API server"),
                Arguments.of(
                        "WebSocket handshake refused with 403",
                        new WebSocketHandshakeException(new WebSocketUpgradeResponse(null, 403)),
                        Kind.FORBIDDEN,
                        "update was refused (HTTP 403 WebSocketHandshakeException): the API server denied verb"
                                + " \"update\". " + ROLE_RULE),
                Arguments.of(
                        "fabric8's exception with a status",
                        new KubernetesClientException(
                                "Failure executing",
                                503,
                                new StatusBuilder().withCode(503).build()),
                        Kind.SERVER_ERROR,
                        "update failed with HTTP 503 KubernetesClientException: Failure executing"),
                Arguments.of("interrupted I/O", new InterruptedIOException(), Kind.OTHER, "update was interrupted"),
                Arguments.of(
                        "anything else",
                        new IllegalStateException("Client is closed"),
                        Kind.OTHER,
                        "update failed: IllegalStateException: Client is closed"));
    }

    @ParameterizedTest(name = "{0}: {2}")
    @MethodSource("failures")
    void aFailureWithoutAnAnswerIsClassifiedByItsCause(String what, Throwable thrown, Kind kind, String message) {
        LeaseStoreException failure = FAILURES.failed(SUBJECT, "update", thrown);

        assertThat(failure.kind()).isEqualTo(kind);
        assertThat(failure.getMessage()).startsWith(SUBJECT + ": update").contains(message);
        assertThat(failure).hasCause(thrown);
    }

    @Test
    void aFailureAlreadyClassifiedStaysAsItIs() {
        LeaseStoreException classified = new LeaseStoreException(Kind.TIMEOUT, "classified");

        assertThat(FAILURES.failed(SUBJECT, "get", classified)).isSameAs(classified);
    }

    @Test
    void timeoutsAndInterruptionsNameWhatDidNotHappen() {
        assertThat(FAILURES.timedOut(SUBJECT, "watch did not start", null))
                .hasMessage(SUBJECT + ": watch did not start within 2500 ms")
                .extracting(LeaseStoreException::kind)
                .isEqualTo(Kind.TIMEOUT);
        assertThat(FAILURES.interrupted(SUBJECT, "get", null))
                .hasMessage(SUBJECT + ": get was interrupted")
                .extracting(LeaseStoreException::kind)
                .isEqualTo(Kind.OTHER);
    }

    // --- a watch's ERROR event

    @Test
    void aWatchErrorIsClassifiedByItsStatus() {
        Status expired = new StatusBuilder()
                .withCode(410)
                .withReason("Expired")
                .withMessage("too old resource version: 1 (42)")
                .build();
        Status forbidden = new StatusBuilder().withCode(403).withMessage("no").build();
        Status uncoded = new StatusBuilder().withMessage("something broke").build();

        assertThat(FAILURES.reported(SUBJECT, "watch", expired))
                .hasMessage(SUBJECT + ": watch failed with HTTP 410 too old resource version: 1 (42)")
                .extracting(LeaseStoreException::kind)
                .isEqualTo(Kind.OTHER);
        assertThat(FAILURES.reported(SUBJECT, "watch", forbidden).kind()).isEqualTo(Kind.FORBIDDEN);
        assertThat(FAILURES.reported(SUBJECT, "watch", uncoded))
                .hasMessage(SUBJECT + ": the watch reported an error: something broke")
                .extracting(LeaseStoreException::kind)
                .isEqualTo(Kind.OTHER);
        assertThat(FAILURES.reported(SUBJECT, "watch", null).kind()).isEqualTo(Kind.OTHER);
    }

    // --- on the wire: what the HTTP client really throws is classified as the table says

    @Test
    void onTheWireARefusedConnectionACutOneAndASilentServerAreUnavailableUnavailableAndTimeout() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        try (RawApiServer cutting = new RawApiServer((request, connection) -> connection.close());
                RawApiServer silent = new RawApiServer(RawApiServerHandlers.silent(10_000));
                KubernetesClient client = new KubernetesClientBuilder()
                        .withConfig(new ConfigBuilder(Config.empty())
                                .withMasterUrl(cutting.url())
                                .build())
                        .build()) {
            Duration bound = Duration.ofMillis(1500);
            KubernetesFailures failures =
                    new KubernetesFailures(client.getKubernetesSerialization(), "team-a", "rule", "api", bound);
            BoundedHttp http = BoundedHttp.derivedFrom(client, bound, failures);

            assertThat(wireFailure(http, "http://127.0.0.1:" + closedPort).kind())
                    .isEqualTo(Kind.UNAVAILABLE);
            assertThat(wireFailure(http, cutting.url()).kind()).isEqualTo(Kind.UNAVAILABLE);
            assertThat(wireFailure(http, silent.url()).kind()).isEqualTo(Kind.TIMEOUT);
        }
    }

    private static LeaseStoreException wireFailure(BoundedHttp http, String url) {
        return catchThrowableOfType(
                LeaseStoreException.class,
                () -> http.send(
                        http.request(URI.create(url + "/apis/coordination.k8s.io/v1/namespaces/team-a/leases/jobs")
                                        .toString())
                                .build(),
                        SUBJECT,
                        "get"));
    }
}
