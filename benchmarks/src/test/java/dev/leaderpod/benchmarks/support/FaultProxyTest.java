package dev.leaderpod.benchmarks.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The proxy's response and watch faults, byte by byte against the mock API server. A fault that holds bytes back
 * lasts a minute here, far longer than any wait in these tests, and is ended by {@link FaultProxy#heal()}: the
 * short waits only prove that nothing came early.
 */
class FaultProxyTest {

    private static final String NAMESPACE = "proxy-test";
    private static final Duration LONG = Duration.ofMinutes(1);

    private MockApiServer server;
    private KubernetesClient admin;
    private FaultProxy proxy;

    @BeforeEach
    void setUp() {
        server = new MockApiServer();
        admin = server.adminClient(NAMESPACE);
        admin.leases().inNamespace(NAMESPACE).resource(lease("a")).create();
        proxy = new FaultProxy(server.port());
    }

    @AfterEach
    void tearDown() {
        proxy.close();
        admin.close();
        server.close();
    }

    private static Lease lease(String holder) {
        return new LeaseBuilder()
                .withNewMetadata()
                .withName("lease")
                .endMetadata()
                .withNewSpec()
                .withHolderIdentity(holder)
                .withLeaseDurationSeconds(3)
                .endSpec()
                .build();
    }

    /** A GET through the proxy on a connection of its own. */
    private Socket get(String name) throws IOException {
        Socket socket = new Socket(
                InetAddress.getLoopbackAddress(), URI.create(proxy.url()).getPort());
        socket.setSoTimeout(5000);
        socket.getOutputStream()
                .write(("GET /apis/coordination.k8s.io/v1/namespaces/" + NAMESPACE + "/leases/" + name
                                + " HTTP/1.1\r\nHost: localhost\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
        return socket;
    }

    /** Reads the status line and headers; returns the Content-Length. */
    private static int readHeaders(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed in the headers");
            }
            head.write(b);
        }
        for (String line : head.toString(StandardCharsets.ISO_8859_1).split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                return Integer.parseInt(
                        line.substring("content-length:".length()).strip());
            }
        }
        throw new IOException("no Content-Length");
    }

    private static String readBody(InputStream in, int length) throws IOException {
        return new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    @Test
    void aStalledResponseDeliversItsHeadersAndHoldsItsBodyBackUntilHealed() throws IOException {
        proxy.breakNextResponse(new FaultProxy.BodyFault(FaultProxy.BodyFaultKind.STALL, LONG));
        try (Socket socket = get("lease")) {
            InputStream in = socket.getInputStream();
            int length = readHeaders(in);
            assertThat(length).isPositive();

            socket.setSoTimeout(300);
            assertThatThrownBy(in::read).isInstanceOf(SocketTimeoutException.class);

            proxy.heal();
            socket.setSoTimeout(5000);
            assertThat(readBody(in, length))
                    .contains("\"holderIdentity\":\"a\"")
                    .endsWith("}");
        }
        assertThat(proxy.bodyFaultsApplied()).isEqualTo(1);
    }

    @Test
    void aTrickledBodyArrivesOneByteAtATime() throws IOException {
        proxy.breakNextResponse(new FaultProxy.BodyFault(FaultProxy.BodyFaultKind.TRICKLE, LONG));
        try (Socket socket = get("lease")) {
            InputStream in = socket.getInputStream();
            int length = readHeaders(in);

            // A minute for the whole body: in one second, a few bytes at most.
            socket.setSoTimeout(100);
            byte[] buffer = new byte[length];
            int arrived = 0;
            long until = System.nanoTime() + Duration.ofSeconds(1).toNanos();
            while (arrived < length && System.nanoTime() - until < 0) {
                try {
                    int read = in.read(buffer, arrived, length - arrived);
                    if (read < 0) {
                        break;
                    }
                    arrived += read;
                } catch (SocketTimeoutException e) {
                    // nothing in these 100 ms
                }
            }
            assertThat(arrived).isLessThan(length / 4);

            proxy.heal();
            socket.setSoTimeout(5000);
            assertThat(in.readNBytes(length - arrived)).hasSize(length - arrived);
        }
    }

    @Test
    void aCutResponseEndsBeforeItsBodyIsComplete() throws IOException {
        proxy.breakNextResponse(new FaultProxy.BodyFault(FaultProxy.BodyFaultKind.CUT, Duration.ZERO));
        try (Socket socket = get("lease")) {
            InputStream in = socket.getInputStream();
            int length = readHeaders(in);
            int arrived = 0;
            try {
                int read;
                while (arrived < length && (read = in.read()) >= 0) {
                    arrived++;
                }
            } catch (IOException e) {
                // reset: the body ends here
            }
            assertThat(arrived).isLessThan(length);
        }
    }

    @Test
    void aResponseWithoutBodyPassesAndLeavesTheFaultForTheNextOne() throws IOException {
        proxy.breakNextResponse(new FaultProxy.BodyFault(FaultProxy.BodyFaultKind.STALL, LONG));
        try (Socket missing = get("missing")) {
            assertThat(readHeaders(missing.getInputStream())).isZero(); // 404, no body: nothing to stall
        }
        try (Socket socket = get("lease")) {
            InputStream in = socket.getInputStream();
            readHeaders(in);
            socket.setSoTimeout(300);
            assertThatThrownBy(in::read).isInstanceOf(SocketTimeoutException.class);
        }
        assertThat(proxy.bodyFaultsApplied()).isEqualTo(1);
    }

    @Test
    void aSilencedWatchStaysOpenAndDeliversNothingWhileANewWatchDoes() throws InterruptedException {
        try (KubernetesClient client = MockApiServer.client(proxy.url(), NAMESPACE)) {
            LinkedBlockingQueue<String> first = new LinkedBlockingQueue<>();
            LinkedBlockingQueue<String> second = new LinkedBlockingQueue<>();
            try (Watch watch =
                    client.leases().inNamespace(NAMESPACE).withName("lease").watch(recorder(first))) {
                assertThat(first.poll(5, TimeUnit.SECONDS)).isEqualTo("ADDED a"); // the mock sends what is there
                edit("b");
                assertThat(first.poll(5, TimeUnit.SECONDS)).isEqualTo("MODIFIED b");

                assertThat(proxy.silenceWatches()).isEqualTo(1);
                edit("c");
                assertThat(first.poll(1, TimeUnit.SECONDS)).isNull();
                assertThat(first).isEmpty(); // no error, no close: silent

                try (Watch later =
                        client.leases().inNamespace(NAMESPACE).withName("lease").watch(recorder(second))) {
                    assertThat(second.poll(5, TimeUnit.SECONDS)).isEqualTo("ADDED c");
                    edit("d");
                    assertThat(second.poll(5, TimeUnit.SECONDS)).isEqualTo("MODIFIED d");
                }
                assertThat(first).isEmpty();
            }
            assertThat(proxy.watchesSilenced()).isEqualTo(1);
        }
    }

    private void edit(String holder) {
        admin.leases().inNamespace(NAMESPACE).withName("lease").edit(lease -> {
            lease.getSpec().setHolderIdentity(holder);
            return lease;
        });
    }

    private static Watcher<Lease> recorder(LinkedBlockingQueue<String> events) {
        return new Watcher<>() {
            @Override
            public void eventReceived(Action action, Lease lease) {
                events.add(action + " " + lease.getSpec().getHolderIdentity());
            }

            @Override
            public void onClose(WatcherException cause) {
                events.add("closed " + cause);
            }
        };
    }

    @Test
    void recognisesWatchRequestsAndResponseHeads() {
        byte[] watch = "GET /apis/coordination.k8s.io/v1/namespaces/n/leases?fieldSelector=x&watch=true HTTP/1.1\r\n"
                .getBytes(StandardCharsets.US_ASCII);
        byte[] plain = "PUT /apis/coordination.k8s.io/v1/namespaces/n/leases/watch=true-ish HTTP/1.1\r\n"
                .getBytes(StandardCharsets.US_ASCII);
        assertThat(FaultProxy.asksForWatch(watch, watch.length)).isTrue();
        assertThat(FaultProxy.asksForWatch(plain, plain.length)).isFalse();

        byte[] response =
                "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n{\"kind\":\"x\"}".getBytes(StandardCharsets.US_ASCII);
        assertThat(FaultProxy.ResponseHead.parse(response, response.length))
                .isEqualTo(new FaultProxy.ResponseHead(response.length - 12, 12));
        assertThat(FaultProxy.ResponseHead.parse(response, 20)).isNull(); // headers not complete in this read
        assertThat(FaultProxy.ResponseHead.parse(watch, watch.length)).isNull(); // not a response
    }
}
