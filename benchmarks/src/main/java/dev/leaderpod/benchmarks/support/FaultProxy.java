package dev.leaderpod.benchmarks.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A loopback TCP proxy in front of the mock API server, one per candidate, that injects network faults: added
 * latency, dropped connections (reset), hung connections (a black hole: bytes swallowed, new connections accepted
 * and never answered), a full cut, responses whose body stalls, trickles or is cut after the headers went through
 * ({@link #breakNextResponse}), and watches that go silent without closing ({@link #silenceWatches}). The
 * candidate's Kubernetes client, watch included, talks through it.
 *
 * <p>The proxy reads just enough HTTP/1.1 to do that: a connection whose request asks for {@code watch=true} is a
 * watch connection (its response is an upgrade to a WebSocket, or a stream of events); a response is a status line
 * and headers up to the first empty line, then {@code Content-Length} bytes of body.
 */
public final class FaultProxy implements AutoCloseable {

    /** What happens to the body of one response after its headers went through. */
    public enum BodyFaultKind {
        /** Nothing more arrives for a while, then the rest of the body. */
        STALL,
        /** The body arrives one byte at a time, spread over the fault's duration. */
        TRICKLE,
        /** Part of the body arrives, then the connection is reset. */
        CUT
    }

    /**
     * One broken response.
     *
     * @param duration how long a stall lasts, or how long a trickle takes in all (unused for a cut)
     */
    public record BodyFault(BodyFaultKind kind, Duration duration) {}

    private final ServerSocket listener;
    private final int targetPort;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final AtomicLong connections = new AtomicLong();
    private final AtomicReference<BodyFault> armedBodyFault = new AtomicReference<>();
    private final AtomicInteger bodyFaultsApplied = new AtomicInteger();
    private final AtomicInteger watchesSilenced = new AtomicInteger();
    private volatile long latencyNanos;
    private volatile boolean hung;
    /** Incremented by {@link #heal()}: stalls and trickles in progress end at once. */
    private volatile int healGeneration;

    public FaultProxy(int targetPort) {
        this.targetPort = targetPort;
        try {
            this.listener = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Thread acceptor = new Thread(this::accept, "fault-proxy-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public String url() {
        return "http://127.0.0.1:" + listener.getLocalPort() + "/";
    }

    /** Delays every chunk of bytes in either direction by {@code latency}. */
    public void latency(Duration latency) {
        latencyNanos = latency.toNanos();
    }

    /**
     * While hung, nothing passes: open connections stop carrying bytes and new connections are accepted but never
     * answered, as in a network partition; calls hang until the client's own timeout.
     */
    public void hang(boolean hang) {
        hung = hang;
        if (!hang) {
            dropConnections(); // connections that swallowed bytes are out of step: start afresh
        }
    }

    /** Cuts the candidate off for good (a crashed node, as far as the API server can tell). */
    public void cut() {
        hang(true);
    }

    /** Resets every open connection: in-flight calls fail at once, and the watch breaks. */
    public void dropConnections() {
        for (Link link : links) {
            link.reset();
        }
        links.clear();
    }

    /**
     * The next response with a body on a connection that is not a watch gets {@code fault}: its status line and
     * headers pass as usual, then its body stalls, trickles or is cut. Replaces a fault armed earlier that no
     * response took yet.
     */
    public void breakNextResponse(BodyFault fault) {
        armedBodyFault.set(fault);
    }

    /**
     * Every watch connection open now goes silent: it stays open, but nothing the server sends on it reaches the
     * client any more (as behind a proxy or NAT that lost its state without telling). Only the client closing it,
     * or a reset, ends such a connection; watches opened afterwards are not affected.
     *
     * @return how many watch connections went silent
     */
    public int silenceWatches() {
        int silenced = 0;
        for (Link link : links) {
            if (link.watch && !link.silent) {
                link.silent = true;
                silenced++;
            }
        }
        watchesSilenced.addAndGet(silenced);
        return silenced;
    }

    /**
     * Ends the faults that end: no latency, no partition (open connections are reset then), no armed response
     * fault, and stalls or trickles in progress deliver the rest at once. Silent watches stay silent.
     */
    public void heal() {
        latencyNanos = 0;
        armedBodyFault.set(null);
        healGeneration++;
        if (hung) {
            hang(false);
        }
    }

    /** How many connections the client opened so far. */
    public long connections() {
        return connections.get();
    }

    /** Watch connections open now, as the client side of the proxy sees them. */
    public int openWatches() {
        return (int) links.stream().filter(link -> link.watch).count();
    }

    /** How many responses a {@link #breakNextResponse} fault actually hit. */
    public int bodyFaultsApplied() {
        return bodyFaultsApplied.get();
    }

    /** How many watch connections went silent. */
    public int watchesSilenced() {
        return watchesSilenced.get();
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                connections.incrementAndGet();
                client.setTcpNoDelay(true);
                if (hung) {
                    links.add(new Link(client, null)); // accepted, never answered
                    continue;
                }
                Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                server.setTcpNoDelay(true);
                Link link = new Link(client, server);
                links.add(link);
                start(() -> clientToServer(link));
                start(() -> serverToClient(link));
            } catch (IOException e) {
                // listener closed, or target gone
            }
        }
    }

    private static void start(Runnable pump) {
        Thread thread = new Thread(pump, "fault-proxy-pump");
        thread.setDaemon(true);
        thread.start();
    }

    /** One client connection and the proxy's connection to the server for it. */
    private final class Link {
        final Socket client;
        final Socket server;
        /** The client asked for a watch on this connection. */
        volatile boolean watch;
        /** Bytes from the server are dropped: a watch that went silent. */
        volatile boolean silent;

        Link(Socket client, Socket server) {
            this.client = client;
            this.server = server;
        }

        void reset() {
            resetQuietly(client);
            if (server != null) {
                resetQuietly(server);
            }
        }

        void close() {
            links.remove(this);
            closeQuietly(client);
            if (server != null) {
                closeQuietly(server);
            }
        }
    }

    private void clientToServer(Link link) {
        byte[] buffer = new byte[16384];
        try (InputStream in = link.client.getInputStream();
                OutputStream out = link.server.getOutputStream()) {
            int read;
            while ((read = in.read(buffer)) >= 0) {
                if (hung) {
                    continue; // swallowed: the peer waits
                }
                if (!link.watch && asksForWatch(buffer, read)) {
                    link.watch = true; // before the request reaches the server, so before its response comes back
                }
                delay();
                out.write(buffer, 0, read);
                out.flush();
            }
        } catch (IOException e) {
            // connection closed
        } finally {
            link.close();
        }
    }

    private void serverToClient(Link link) {
        byte[] buffer = new byte[16384];
        ResponseFault inProgress = null;
        try (InputStream in = link.server.getInputStream();
                OutputStream out = link.client.getOutputStream()) {
            int read;
            while ((read = in.read(buffer)) >= 0) {
                if (hung || link.silent) {
                    continue; // swallowed: the peer waits
                }
                delay();
                int from = 0;
                if (inProgress == null && !link.watch && armedBodyFault.get() != null) {
                    ResponseHead head = ResponseHead.parse(buffer, read);
                    if (head != null && head.contentLength() > 0) {
                        BodyFault fault = armedBodyFault.getAndSet(null);
                        if (fault != null) {
                            bodyFaultsApplied.incrementAndGet();
                            out.write(buffer, 0, head.headerLength());
                            out.flush();
                            from = head.headerLength();
                            inProgress = new ResponseFault(fault, head.contentLength(), healGeneration);
                        }
                    }
                }
                if (inProgress != null) {
                    int consumed = inProgress.apply(link, buffer, from, read, out);
                    if (inProgress.done()) {
                        inProgress = null;
                    }
                    from = consumed;
                }
                if (from < read) {
                    out.write(buffer, from, read - from);
                    out.flush();
                }
            }
        } catch (IOException e) {
            // connection closed
        } finally {
            link.close();
        }
    }

    /** The body fault of one response in progress, across however many reads its body takes. */
    private final class ResponseFault {
        final BodyFault fault;
        final int healGenerationAtStart;
        long bodyLeft;
        final long bodyLength;
        boolean stalled;

        ResponseFault(BodyFault fault, long bodyLength, int healGenerationAtStart) {
            this.fault = fault;
            this.bodyLength = bodyLength;
            this.bodyLeft = bodyLength;
            this.healGenerationAtStart = healGenerationAtStart;
        }

        boolean done() {
            return bodyLeft <= 0;
        }

        /**
         * Applies the fault to the body bytes in {@code buffer[from, read)}.
         *
         * @return the index up to which bytes were handled (forwarded or dropped); the caller forwards the rest
         */
        int apply(Link link, byte[] buffer, int from, int read, OutputStream out) throws IOException {
            int body = (int) Math.min(bodyLeft, read - from);
            switch (fault.kind()) {
                case STALL -> {
                    if (!stalled) {
                        stalled = true;
                        waitUnlessHealed(fault.duration().toNanos());
                    }
                    bodyLeft -= body;
                    return from; // the caller forwards it now
                }
                case TRICKLE -> {
                    long perByte = fault.duration().toNanos() / Math.max(1, bodyLength);
                    for (int i = 0; i < body; i++) {
                        if (healGeneration == healGenerationAtStart) {
                            waitUnlessHealed(perByte);
                        }
                        out.write(buffer[from + i]);
                        out.flush();
                    }
                    bodyLeft -= body;
                    return from + body;
                }
                case CUT -> {
                    int half = body / 2;
                    out.write(buffer, from, half);
                    out.flush();
                    bodyLeft = 0;
                    link.reset();
                    throw new IOException("cut mid-body");
                }
                default -> throw new IllegalStateException(fault.kind().toString());
            }
        }

        private void waitUnlessHealed(long nanos) {
            long until = System.nanoTime() + nanos;
            long left;
            while ((left = until - System.nanoTime()) > 0 && healGeneration == healGenerationAtStart) {
                LockSupport.parkNanos(Math.min(left, 10_000_000L));
            }
        }
    }

    /** Status line and headers of a response at the start of a read, if they are complete in it. */
    record ResponseHead(int headerLength, long contentLength) {

        static ResponseHead parse(byte[] buffer, int length) {
            if (length < 5 || buffer[0] != 'H' || buffer[1] != 'T' || buffer[2] != 'T' || buffer[3] != 'P') {
                return null;
            }
            int end = -1;
            for (int i = 3; i < length; i++) {
                if (buffer[i] == '\n' && buffer[i - 1] == '\r' && buffer[i - 2] == '\n' && buffer[i - 3] == '\r') {
                    end = i + 1;
                    break;
                }
            }
            if (end < 0) {
                return null;
            }
            String head = new String(buffer, 0, end, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
            long contentLength = -1;
            for (String line : head.split("\r\n")) {
                if (line.startsWith("content-length:")) {
                    try {
                        contentLength = Long.parseLong(
                                line.substring("content-length:".length()).strip());
                    } catch (NumberFormatException e) {
                        return null;
                    }
                }
            }
            return new ResponseHead(end, contentLength);
        }
    }

    /** Whether the request starting in {@code buffer} asks for a watch ({@code ?watch=true} or {@code &watch=1}). */
    static boolean asksForWatch(byte[] buffer, int length) {
        int lineEnd = 0;
        while (lineEnd < length && buffer[lineEnd] != '\r' && buffer[lineEnd] != '\n') {
            lineEnd++;
        }
        String requestLine = new String(buffer, 0, lineEnd, StandardCharsets.ISO_8859_1);
        return requestLine.startsWith("GET ")
                && (requestLine.contains("watch=true") || requestLine.contains("watch=1"));
    }

    private void delay() {
        long latency = latencyNanos;
        if (latency > 0) {
            LockSupport.parkNanos(latency);
        }
    }

    private static void resetQuietly(Socket socket) {
        try {
            socket.setSoLinger(true, 0); // RST rather than FIN
            socket.close();
        } catch (IOException e) {
            // already closed
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // ignore
        }
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException e) {
            // ignore
        }
        dropConnections();
    }
}
