package dev.leaderpod.benchmarks.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback TCP proxy in front of the mock API server, one per candidate, that injects network faults: added
 * latency, dropped connections (reset), hung connections (a black hole: bytes swallowed, new connections accepted
 * and never answered) and a full cut. The candidate's Kubernetes client, watch included, talks through it.
 */
public final class FaultProxy implements AutoCloseable {

    private final ServerSocket listener;
    private final int targetPort;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final AtomicLong connections = new AtomicLong();
    private volatile long latencyNanos;
    private volatile boolean hung;

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
        for (Socket socket : sockets) {
            try {
                socket.setSoLinger(true, 0); // RST rather than FIN
                socket.close();
            } catch (IOException e) {
                // already closed
            }
        }
        sockets.clear();
    }

    /** How many connections the client opened so far. */
    public long connections() {
        return connections.get();
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                connections.incrementAndGet();
                sockets.add(client);
                if (hung) {
                    continue; // accepted, never answered
                }
                Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                server.setTcpNoDelay(true);
                client.setTcpNoDelay(true);
                sockets.add(server);
                pump(client, server);
                pump(server, client);
            } catch (IOException e) {
                // listener closed, or target gone
            }
        }
    }

    private void pump(Socket from, Socket to) {
        Thread thread = new Thread(
                () -> {
                    byte[] buffer = new byte[16384];
                    try (InputStream in = from.getInputStream();
                            OutputStream out = to.getOutputStream()) {
                        int read;
                        while ((read = in.read(buffer)) >= 0) {
                            if (hung) {
                                continue; // swallowed: the peer waits
                            }
                            long latency = latencyNanos;
                            if (latency > 0) {
                                Thread.sleep(latency / 1_000_000, (int) (latency % 1_000_000));
                            }
                            out.write(buffer, 0, read);
                            out.flush();
                        }
                    } catch (IOException | InterruptedException e) {
                        // connection closed
                    } finally {
                        closeQuietly(from);
                        closeQuietly(to);
                    }
                },
                "fault-proxy-pump");
        thread.setDaemon(true);
        thread.start();
    }

    private void closeQuietly(Socket socket) {
        sockets.remove(socket);
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
