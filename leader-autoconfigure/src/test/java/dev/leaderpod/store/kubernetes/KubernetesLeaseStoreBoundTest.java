package dev.leaderpod.store.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.VersionedLease;
import dev.leaderpod.store.kubernetes.RawApiServer.Framing;
import dev.leaderpod.store.kubernetes.RawApiServer.Handler;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every store call ends within the request timeout, whatever the API server does after the response headers
 * (docs/design.md, "Bounded store calls"). fabric8's own request timeout covers only the wait for the headers, so
 * these cases hung for ever before the store bounded its calls itself.
 */
class KubernetesLeaseStoreBoundTest {

    private static final String NAMESPACE = "team-a";
    private static final String NAME = "billing";
    private static final Duration BOUND = Duration.ofMillis(400);
    // Generous: a loaded 2-core machine may be slow to schedule, but a call that hangs never ends.
    private static final Duration MARGIN = Duration.ofSeconds(3);
    private static final LeaseRecord RECORD =
            new LeaseRecord("candidate-a", Duration.ofSeconds(15), Instant.parse("2024-05-01T10:15:30Z"), null, 3L);

    // Long enough that a body trickled at one byte per 200 ms is still arriving when the bound passes.
    private static final String LEASE_JSON = """
            {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "billing", "namespace": "team-a", "resourceVersion": "7",
                          "annotations": {"note": "a body long enough to outlast the bound when trickled slowly"}},
             "spec": {"holderIdentity": "candidate-a", "leaseDurationSeconds": 15, "leaseTransitions": 3}}
            """;

    /** What the server does after sending {@code 200} and the headers. */
    enum Body {
        /** Sends the body one byte every 200 ms. */
        TRICKLES,
        /** Sends nothing more and keeps the connection open. */
        STALLS,
        /** Sends part of the body, then closes the connection. */
        IS_CUT
    }

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private RawApiServer server;
    private KubernetesLeaseStore store;

    @BeforeAll
    static void loadTheCodePathsOnce() throws Exception {
        // The first calls of a JVM load many classes; that must not make the good call after a bad one time out.
        try (RawApiServer answering = new RawApiServer(RawApiServerHandlers.answering(LEASE_JSON));
                KubernetesClient client = new KubernetesClientBuilder()
                        .withConfig(new ConfigBuilder(Config.empty())
                                .withMasterUrl(answering.url())
                                .build())
                        .build();
                KubernetesLeaseStore store = new KubernetesLeaseStore(client, NAMESPACE, Duration.ofSeconds(10))) {
            store.get(NAME);
            store.create(NAME, RECORD);
            store.update(NAME, RECORD, "6");
        }
    }

    @BeforeEach
    void start() throws Exception {
        server = closeLater(new RawApiServer(RawApiServerHandlers.answering(LEASE_JSON)));
        KubernetesClient client = closeLater(new KubernetesClientBuilder()
                .withConfig(new ConfigBuilder(Config.empty())
                        .withMasterUrl(server.url())
                        .build())
                .build());
        store = closeLater(new KubernetesLeaseStore(client, NAMESPACE, BOUND));
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closeLater(T closeable) {
        toClose.add(closeable);
        return closeable;
    }

    static Stream<Arguments> misbehaviours() {
        return Stream.of("get", "create", "update")
                .flatMap(verb -> Stream.of(Body.values())
                        .flatMap(
                                body -> Stream.of(Framing.values()).map(framing -> Arguments.of(verb, body, framing))));
    }

    @ParameterizedTest(name = "{0}: headers, then the body {1} ({2})")
    @MethodSource("misbehaviours")
    void aCallIsAbandonedAtTheBoundWhateverTheBodyDoes(String verb, Body body, Framing framing) {
        server.handler(firstRequestOnly(misbehaving(body, framing), RawApiServerHandlers.answering(LEASE_JSON)));

        long start = System.nanoTime();
        LeaseStoreException failure = assertTimeoutPreemptively(
                BOUND.plus(MARGIN), () -> catchThrowableOfType(LeaseStoreException.class, () -> call(verb)));
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        /*
         * TIMEOUT for a cut connection too: fabric8's Vert.x adapter registers no exception handler on the response,
         * so a connection closed mid-body never completes the body, and only the bound ends the call.
         */
        assertThat(failure.kind()).isEqualTo(Kind.TIMEOUT);
        assertThat(failure.getMessage())
                .contains("Kubernetes Lease team-a/billing: " + verb + " did not complete within 400 ms");
        assertThat(took).isGreaterThanOrEqualTo(BOUND.minusMillis(20));
        if (body == Body.STALLS) {
            // The abandoned request lets go of its connection rather than holding it for ever.
            await().atMost(MARGIN).until(() -> server.droppedByClient() == 1);
        }
        // The store works again for the next call.
        VersionedLease next = assertTimeoutPreemptively(MARGIN, () -> call(verb));
        assertThat(next.version()).isEqualTo("7");
    }

    private VersionedLease call(String verb) {
        return switch (verb) {
            case "get" -> store.get(NAME).orElseThrow();
            case "create" -> store.create(NAME, RECORD);
            case "update" -> store.update(NAME, RECORD, "6");
            default -> throw new IllegalArgumentException(verb);
        };
    }

    private static Handler firstRequestOnly(Handler first, Handler then) {
        AtomicBoolean used = new AtomicBoolean();
        return (request, connection) -> (used.compareAndSet(false, true) ? first : then).handle(request, connection);
    }

    private static Handler misbehaving(Body body, Framing framing) {
        byte[] bytes = LEASE_JSON.getBytes(StandardCharsets.UTF_8);
        return (request, connection) -> {
            connection.headers(200, framing, bytes.length);
            switch (body) {
                case TRICKLES -> {
                    for (int i = 0; i < bytes.length; i++) {
                        connection.body(framing, bytes, i, i + 1);
                        Thread.sleep(200); // the fake's pace, not a wait in the test
                    }
                }
                case STALLS -> connection.stall(MARGIN.multipliedBy(2).toMillis());
                case IS_CUT -> {
                    connection.body(framing, bytes, 0, bytes.length / 2);
                    connection.close();
                }
            }
        };
    }
}
